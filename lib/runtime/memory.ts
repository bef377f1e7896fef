/**
 * An in-memory network with a virtual clock, for deterministic simulation of
 * many hosts in one process. Every datagram, TCP segment and timer is an
 * event in one time-ordered queue; {@link MemoryNetwork.advance} runs them
 * synchronously (no promises or microtasks on the hot path). Same seed and
 * same calls give the same event order.
 *
 * Model: UDP is delivered after `latency + jitter` unless lost (uniform or
 * per-link loss), partitioned (checked on arrival) or unbound. TCP is
 * reliable and ordered per direction; connecting to a closed port is
 * refused after one round trip; a partition makes connects, and streams whose
 * segments it eats, fail after `connectTimeoutMs`. `crash(ip)` is `kill -9`:
 * the host's sockets and timers vanish without callbacks, its TCP peers see
 * the connection closed, and later connects are refused.
 *
 * @module
 */
import { type Logger, silentLogger } from "../core/log.ts";
import { type Random, seeded } from "../core/random.ts";
import { hostPort, NetError } from "./errors.ts";
import { EventQueue } from "./memory_queue.ts";
import { Endpoint, type Fabric, type TcpHost } from "./memory_tcp.ts";
import type { DatagramHandler, Runtime, StreamHandlers, TcpConn, TcpListener, Timer, UdpSocket } from "./types.ts";

/** Options of a {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Seeds loss, jitter and every runtime's `random()`. */
  seed: number;
  /** One-way latency of every link (ms). Default 1. */
  latencyMs?: number;
  /** Extra uniform random delay in [0, jitterMs) per datagram or segment. Default 0. */
  jitterMs?: number;
  /** How long a connect (or a stream) cut by a partition waits before failing (ms). Default 1000. */
  connectTimeoutMs?: number;
  /** Receives the network's own notes (dropped oversize datagrams). Default silent. */
  logger?: Logger;
}

/** Per-direction overrides set by {@link MemoryNetwork.setLink}. */
export interface LinkOptions {
  /** UDP loss fraction on this link, replacing the global one. */
  loss?: number;
  /** One-way latency on this link (ms), replacing the global one. */
  latencyMs?: number;
}

/** Counters of a {@link MemoryNetwork}. */
export interface MemoryNetworkStats {
  /** UDP datagrams handed to `send` by live sockets. */
  packetsSent: number;
  /** UDP datagrams that reached a bound socket. */
  packetsDelivered: number;
  /** UDP datagrams lost, partitioned, oversize or sent to nobody. */
  packetsDropped: number;
  /** UDP payload bytes sent. */
  bytes: number;
  /** TCP connects started. */
  tcpConnects: number;
  /** TCP payload bytes written. */
  tcpBytes: number;
  /** Events run (datagrams, segments, timers). */
  events: number;
}

/** Largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65507;
/** First port handed out for port 0 and outbound connections. */
const EPHEMERAL_FIRST = 49152;

/** One IP's sockets. A crash kills it; `runtime(ip)` then builds a fresh one. */
class MemHost implements TcpHost {
  readonly ip: string;
  alive = true;
  readonly udp = new Map<number, MemUdp>();
  readonly listeners = new Map<number, (conn: TcpConn) => void>();
  readonly conns = new Set<Endpoint>();
  #nextPort = EPHEMERAL_FIRST;
  runtime!: Runtime;

  constructor(ip: string) {
    this.ip = ip;
  }

  allocPort(): number {
    for (let i = 0; i <= 65535 - EPHEMERAL_FIRST; i++) {
      const p = this.#nextPort;
      this.#nextPort = p >= 65535 ? EPHEMERAL_FIRST : p + 1;
      if (!this.udp.has(p) && !this.listeners.has(p)) return p;
    }
    throw new NetError(`no free port at ${this.ip}`, "EADDRINUSE");
  }
}

/** Puts one datagram on the network. */
type SendDatagram = (fromIp: string, fromPort: number, data: Uint8Array, toIp: string, toPort: number) => void;

/** A bound memory UDP socket. */
class MemUdp implements UdpSocket {
  readonly port: number;
  readonly onMessage: DatagramHandler;
  #send: SendDatagram;
  #host: MemHost;
  #closed = false;

  constructor(host: MemHost, port: number, onMessage: DatagramHandler, send: SendDatagram) {
    this.#host = host;
    this.port = port;
    this.onMessage = onMessage;
    this.#send = send;
  }

  send(data: Uint8Array, host: string, port: number): void {
    if (this.#closed || !this.#host.alive) return;
    this.#send(this.#host.ip, this.port, data, host, port);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#host.udp.get(this.port) === this) this.#host.udp.delete(this.port);
  }
}

/** FNV-1a of `text`, mixed with `seed`: per-IP seeds. */
function mixSeed(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The simulated network.
 *
 * @example
 * ```ts
 * const net = new MemoryNetwork({ seed: 1, latencyMs: 2 });
 * const a = net.runtime("10.0.0.1"), b = net.runtime("10.0.0.2");
 * const sb = await b.bindUdp("10.0.0.2", 7946, (data, host, port) => {});
 * const sa = await a.bindUdp("10.0.0.1", 7946, () => {});
 * sa.send(new Uint8Array([1]), "10.0.0.2", 7946);
 * net.advance(10); // delivered at t=2
 * ```
 */
export class MemoryNetwork {
  /** Counters since creation. */
  readonly stats: MemoryNetworkStats = {
    packetsSent: 0,
    packetsDelivered: 0,
    packetsDropped: 0,
    bytes: 0,
    tcpConnects: 0,
    tcpBytes: 0,
    events: 0,
  };
  #now = 0;
  #queue = new EventQueue();
  #rng: Random;
  #seed: number;
  #latency: number;
  #jitter: number;
  #loss = 0;
  #links = new Map<string, Map<string, LinkOptions>>();
  #partitions: Array<[Set<string>, Set<string>]> = [];
  #hosts = new Map<string, MemHost>();
  #generation = 0;
  #running = false;
  #log: Logger;
  #fabric: Fabric;
  #ctx: NetContext;

  /** Creates an empty network at virtual time 0. */
  constructor(opts: MemoryNetworkOptions) {
    this.#seed = opts.seed >>> 0;
    this.#rng = seeded(this.#seed);
    this.#latency = opts.latencyMs ?? 1;
    this.#jitter = opts.jitterMs ?? 0;
    this.#log = opts.logger ?? silentLogger;
    this.#fabric = {
      now: () => this.#now,
      connectTimeoutMs: opts.connectTimeoutMs ?? 1000,
      at: (time, fn) => void this.#queue.push(time, fn),
      delay: (from, to) => this.#delay(from, to),
      blocked: (from, to) => this.#blocked(from, to),
      host: (ip) => this.#hosts.get(ip),
      countTcp: (bytes, connect) => {
        this.stats.tcpBytes += bytes;
        if (connect) this.stats.tcpConnects++;
      },
    };
    this.#ctx = {
      now: () => this.#now,
      queue: this.#queue,
      fabric: this.#fabric,
      send: (fromIp, fromPort, data, toIp, toPort) => this.#sendDatagram(fromIp, fromPort, data, toIp, toPort),
    };
  }

  /** Virtual time (ms). */
  get now(): number {
    return this.#now;
  }

  /** Events waiting in the queue (timers included). */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * The {@link Runtime} whose sockets live at `ip` (the same object on every
   * call until `crash(ip)`, a fresh one after). `now()` and `setTimer()` use
   * the virtual clock; `random()` is seeded from the network seed, the IP and
   * how many hosts were created before.
   */
  runtime(ip: string): Runtime {
    const existing = this.#hosts.get(ip);
    if (existing?.alive) return existing.runtime;
    const host = new MemHost(ip);
    host.runtime = new MemRuntime(host, seeded(mixSeed(this.#seed + this.#generation++, ip)), this.#ctx);
    this.#hosts.set(ip, host);
    return host.runtime;
  }

  /** Uniform UDP loss fraction for every link without its own `loss`. */
  setLoss(fraction: number): void {
    this.#loss = fraction;
  }

  /** Overrides loss and/or latency from `fromIp` to `toIp` (one direction); `{}` restores the defaults. */
  setLink(fromIp: string, toIp: string, opts: LinkOptions): void {
    let m = this.#links.get(fromIp);
    if (!m) this.#links.set(fromIp, m = new Map());
    if (opts.loss === undefined && opts.latencyMs === undefined) m.delete(toIp);
    else m.set(toIp, { ...opts });
  }

  /** Cuts UDP and TCP between every IP of `groupA` and every IP of `groupB`, both ways, until `heal()`. */
  partition(groupA: string[], groupB: string[]): void {
    this.#partitions.push([new Set(groupA), new Set(groupB)]);
  }

  /** Removes every partition. */
  heal(): void {
    this.#partitions = [];
  }

  /** `kill -9` of the host at `ip`: sockets and timers vanish silently; peers' TCP connections close. */
  crash(ip: string): void {
    const host = this.#hosts.get(ip);
    if (!host?.alive) return;
    host.alive = false;
    host.udp.clear();
    host.listeners.clear();
    for (const ep of [...host.conns]) ep.crash();
  }

  /** Runs every event due up to `now + ms`, in time order, then sets the clock to `now + ms`. */
  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`MemoryNetwork.advance: bad duration ${ms}`);
    const end = this.#now + Math.max(0, ms);
    this.#runTo(end);
    this.#now = end;
  }

  /**
   * Advances until `pred()` holds or `maxMs` pass; returns whether it held.
   * Without `stepMs`, `pred` is checked after every event (the clock stops
   * at that event); with it, after every `stepMs` of virtual time.
   */
  runUntil(pred: () => boolean, maxMs: number, stepMs?: number): boolean {
    if (!Number.isFinite(maxMs)) throw new RangeError(`MemoryNetwork.runUntil: bad duration ${maxMs}`);
    if (pred()) return true;
    const end = this.#now + Math.max(0, maxMs);
    if (stepMs === undefined || stepMs <= 0) {
      if (this.#runTo(end, pred)) return true;
      this.#now = end;
      return pred();
    }
    while (this.#now < end) {
      this.advance(Math.min(stepMs, end - this.#now));
      if (pred()) return true;
    }
    return false;
  }

  #sendDatagram(fromIp: string, fromPort: number, data: Uint8Array, toIp: string, toPort: number): void {
    const s = this.stats;
    s.packetsSent++;
    s.bytes += data.byteLength;
    if (data.byteLength > MAX_DATAGRAM) {
      s.packetsDropped++;
      this.#log("WARN", `memory: datagram of ${data.byteLength} bytes to ${hostPort(toIp, toPort)}: message too long`);
      return;
    }
    const loss = this.#links.get(fromIp)?.get(toIp)?.loss ?? this.#loss;
    if (loss > 0 && this.#rng() < loss) {
      s.packetsDropped++;
      return;
    }
    const copy = new Uint8Array(data);
    this.#queue.push(this.#now + this.#delay(fromIp, toIp), () => {
      const sock = this.#blocked(fromIp, toIp) ? undefined : this.#hosts.get(toIp)?.udp.get(toPort);
      if (!sock) {
        s.packetsDropped++;
        return;
      }
      s.packetsDelivered++;
      sock.onMessage(copy, fromIp, fromPort);
    });
  }

  #runTo(end: number, pred?: () => boolean): boolean {
    if (this.#running) throw new Error("MemoryNetwork: advance/runUntil called from inside an event");
    this.#running = true;
    try {
      const q = this.#queue;
      for (;;) {
        const t = q.peekTime();
        if (t === undefined || t > end) return false;
        const fn = q.take()!;
        if (t > this.#now) this.#now = t;
        this.stats.events++;
        fn();
        if (pred && pred()) return true;
      }
    } finally {
      this.#running = false;
    }
  }

  #delay(from: string, to: string): number {
    const lat = this.#links.get(from)?.get(to)?.latencyMs ?? this.#latency;
    return this.#jitter > 0 ? lat + this.#rng() * this.#jitter : lat;
  }

  #blocked(from: string, to: string): boolean {
    for (const [a, b] of this.#partitions) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return true;
    }
    return false;
  }
}

/** What a memory runtime needs from its network. */
interface NetContext {
  now(): number;
  readonly queue: EventQueue;
  readonly fabric: Fabric;
  readonly send: SendDatagram;
}

/** Go's bind errors for `bindHost:port` on `host`, or undefined when the bind may go ahead. */
function bindError(
  host: MemHost,
  proto: "udp" | "tcp",
  bindHost: string,
  port: number,
  taken: Map<number, unknown>,
): NetError | undefined {
  const where = `listen ${proto} ${hostPort(bindHost, port)}`;
  if (!host.alive) return new NetError(`${where}: host is down`, "EHOSTDOWN");
  if (bindHost !== host.ip && bindHost !== "0.0.0.0" && bindHost !== "::" && bindHost !== "") {
    return new NetError(`${where}: bind: cannot assign requested address`, "EADDRNOTAVAIL");
  }
  if (port !== 0 && taken.has(port)) return new NetError(`${where}: bind: address already in use`, "EADDRINUSE");
  return undefined;
}

/** The {@link Runtime} of one memory host: virtual clock, seeded random, memory sockets. */
class MemRuntime implements Runtime {
  readonly name = "memory";
  readonly random: () => number;
  #host: MemHost;
  #ctx: NetContext;

  constructor(host: MemHost, random: Random, ctx: NetContext) {
    this.#host = host;
    this.random = random;
    this.#ctx = ctx;
  }

  now(): number {
    return this.#ctx.now();
  }

  setTimer(ms: number, fn: () => void): Timer {
    const host = this.#host, queue = this.#ctx.queue;
    if (!host.alive) return { cancel() {} };
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const e = queue.push(this.#ctx.now() + delay, () => {
      if (host.alive) fn();
    });
    return { cancel: () => queue.cancel(e) };
  }

  bindUdp(bindHost: string, port: number, onMessage: DatagramHandler): Promise<UdpSocket> {
    const host = this.#host;
    try {
      const err = bindError(host, "udp", bindHost, port, host.udp);
      if (err) throw err;
      const sock = new MemUdp(host, port || host.allocPort(), onMessage, this.#ctx.send);
      host.udp.set(sock.port, sock);
      return Promise.resolve(sock);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  listenTcp(bindHost: string, port: number, onConnection: (conn: TcpConn) => void): Promise<TcpListener> {
    const host = this.#host;
    try {
      const err = bindError(host, "tcp", bindHost, port, host.listeners);
      if (err) throw err;
      const bound = port || host.allocPort();
      const accept = (conn: TcpConn) => onConnection(conn);
      host.listeners.set(bound, accept);
      return Promise.resolve({
        port: bound,
        close() {
          if (host.listeners.get(bound) === accept) host.listeners.delete(bound);
        },
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  connectTcp(toHost: string, port: number, handlers: StreamHandlers): TcpConn {
    if (!this.#host.alive) {
      // A dead host's code should not be running; give it a connection that never answers.
      return { remoteHost: toHost, remotePort: port, setHandlers() {}, write() {}, end() {}, destroy() {} };
    }
    return Endpoint.dial(this.#ctx.fabric, this.#host, toHost, port, handlers);
  }
}
