/**
 * TCP connections of the memory network. Every segment (SYN, SYN-ACK, data,
 * FIN, RST) is an event delivered after the link latency, in order per
 * direction. Semantics match the `node:net` adapter: a FIN from the peer
 * makes us close too and call `onClose()`; errors use Go's texts.
 *
 * @module
 */
import { dialErrorText, hostPort, streamErrorText } from "./errors.ts";
import type { StreamHandlers, TcpConn } from "./types.ts";

/** What a TCP endpoint needs from the network (implemented by `MemoryNetwork`). */
export interface Fabric {
  /** Virtual now (ms). */
  now(): number;
  /** How long a connect or stalled stream waits before failing (ms). */
  readonly connectTimeoutMs: number;
  /** Schedules `fn` at virtual time `time`. */
  at(time: number, fn: () => void): void;
  /** One-way delay from `fromIp` to `toIp` (latency + jitter). */
  delay(fromIp: string, toIp: string): number;
  /** True while a partition separates the two IPs. */
  blocked(fromIp: string, toIp: string): boolean;
  /** The host currently at `ip` (possibly crashed), or undefined when no host ever lived there. */
  host(ip: string): TcpHost | undefined;
  /** Counts `n` bytes of TCP payload. */
  countTcp(bytes: number, connect: boolean): void;
}

/** The TCP state of one host. */
export interface TcpHost {
  readonly ip: string;
  readonly alive: boolean;
  /** Listening ports and their accept callbacks. */
  readonly listeners: Map<number, (conn: TcpConn) => void>;
  /** Open endpoints, for `crash`. */
  readonly conns: Set<Endpoint>;
  /** A free ephemeral port. */
  allocPort(): number;
}

type Pending = { data: Uint8Array } | { close: string | undefined };

/** Connection refused, reset, or timed out: the Go texts, from errno codes. */
const REFUSED = { code: "ECONNREFUSED" };
const RESET = { code: "ECONNRESET", syscall: "read" };
const TIMEDOUT = { code: "ETIMEDOUT", syscall: "read" };

/** One end of a memory TCP connection. */
export class Endpoint implements TcpConn {
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly localPort: number;
  #fabric: Fabric;
  #host: TcpHost;
  #peer: Endpoint | null = null;
  #handlers?: StreamHandlers;
  #pending: Pending[] = [];
  #connecting: boolean;
  #dialStart: number;
  /** No more reads or writes (destroyed, crashed, broken, or closed by FIN). */
  #closed = false;
  /** We sent our FIN. */
  #ended = false;
  /** onClose was called (or suppressed by a crash). */
  #finished = false;
  /** Delivery time of our last segment: keeps each direction in order despite jitter. */
  #outTime = 0;
  /** Set on both ends when a partition broke the connection. */
  #broken = false;

  constructor(
    fabric: Fabric,
    host: TcpHost,
    localPort: number,
    remoteHost: string,
    remotePort: number,
    outbound: boolean,
  ) {
    this.#fabric = fabric;
    this.#host = host;
    this.localPort = localPort;
    this.remoteHost = remoteHost;
    this.remotePort = remotePort;
    this.#connecting = outbound;
    this.#dialStart = fabric.now();
    host.conns.add(this);
  }

  /** Starts an outbound connection from `host` (the SYN). */
  static dial(fabric: Fabric, host: TcpHost, toIp: string, toPort: number, h: StreamHandlers): Endpoint {
    const ep = new Endpoint(fabric, host, host.allocPort(), toIp, toPort, true);
    ep.#handlers = h;
    fabric.countTcp(0, true);
    ep.#transmit(() => ep.#synArrived(), () => ep.#dialTimeout());
    return ep;
  }

  setHandlers(h: StreamHandlers): void {
    this.#handlers = h;
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) this.#emit(p);
  }

  write(data: Uint8Array): void {
    if (this.#closed || this.#ended || data.byteLength === 0) return;
    const chunk = new Uint8Array(data);
    this.#fabric.countTcp(chunk.byteLength, false);
    this.#transmit(() => {
      const peer = this.#peer;
      if (peer) peer.#receive(this, chunk);
    });
  }

  end(): void {
    if (this.#closed || this.#ended) return;
    this.#ended = true;
    this.#sendFin();
  }

  destroy(): void {
    if (this.#finished) return;
    const wasOpen = !this.#closed;
    this.#closed = true;
    if (wasOpen && !this.#ended) {
      this.#ended = true;
      this.#sendFin();
    }
    this.#fabric.at(this.#fabric.now(), () => this.#finish(undefined));
  }

  /** The host crashed: vanish without callbacks; the kernel still FINs open peers. */
  crash(): void {
    this.#host.conns.delete(this);
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ended) {
      this.#ended = true;
      this.#sendFin();
    }
  }

  /** Sends our FIN after everything written so far. */
  #sendFin(): void {
    this.#transmit(() => {
      const peer = this.#peer;
      if (peer) peer.#finArrived();
    });
  }

  /** Schedules a segment to our peer after the link delay, in order; a partition breaks the connection. */
  #transmit(deliver: () => void, onBlocked: () => void = () => this.#breakConn()): void {
    const f = this.#fabric;
    const from = this.#host.ip, to = this.remoteHost;
    let t = f.now() + f.delay(from, to);
    if (t < this.#outTime) t = this.#outTime;
    this.#outTime = t;
    f.at(t, () => {
      if (this.#broken) return;
      if (f.blocked(from, to)) onBlocked();
      else deliver();
    });
  }

  #synArrived(): void {
    const server = this.#fabric.host(this.remoteHost);
    if (!server) return this.#dialTimeout();
    const accept = server.alive ? server.listeners.get(this.remotePort) : undefined;
    if (!accept) {
      const back = this.#fabric.delay(this.remoteHost, this.#host.ip);
      this.#fabric.at(
        this.#fabric.now() + back,
        () => this.#finish(dialErrorText(this.remoteHost, this.remotePort, REFUSED)),
      );
      return;
    }
    const srv = new Endpoint(this.#fabric, server, this.remotePort, this.#host.ip, this.localPort, false);
    srv.#peer = this;
    this.#peer = srv;
    srv.#transmit(() => this.#synAckArrived(srv));
    accept(srv);
  }

  #synAckArrived(srv: Endpoint): void {
    if (this.#closed) return srv.#resetFrom(this);
    if (!this.#connecting) return;
    this.#connecting = false;
    this.#handlers?.onConnect?.();
  }

  #dialTimeout(): void {
    this.#closed = true;
    const at = Math.max(this.#fabric.now(), this.#dialStart + this.#fabric.connectTimeoutMs);
    const err = dialErrorText(this.remoteHost, this.remotePort, { code: "ETIMEDOUT" });
    this.#fabric.at(at, () => this.#finish(err));
  }

  #receive(from: Endpoint, chunk: Uint8Array): void {
    if (this.#closed) return from.#resetFrom(this);
    this.#emit({ data: chunk });
  }

  /** The peer's FIN: like `node:net` without half-open, flush and close our side too. */
  #finArrived(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ended) {
      this.#ended = true;
      this.#sendFin();
    }
    this.#emit({ close: undefined });
  }

  /** `peer` answered one of our segments with RST (it is gone). */
  #resetFrom(peer: Endpoint): void {
    peer.#transmit(() => {
      if (this.#finished) return;
      this.#closed = true;
      this.#emit({ close: streamErrorText(this.#localText(), hostPort(this.remoteHost, this.remotePort), RESET) });
    });
  }

  /** A partition ate a segment: both ends stall, then fail after the connect timeout. */
  #breakConn(): void {
    const f = this.#fabric;
    for (const ep of [this, this.#peer]) {
      if (!ep || ep.#finished) continue;
      ep.#broken = true;
      ep.#closed = true;
      const err = ep.#connecting
        ? dialErrorText(ep.remoteHost, ep.remotePort, { code: "ETIMEDOUT" })
        : streamErrorText(ep.#localText(), hostPort(ep.remoteHost, ep.remotePort), TIMEDOUT);
      f.at(f.now() + f.connectTimeoutMs, () => ep.#finish(err));
    }
  }

  #localText(): string {
    return hostPort(this.#host.ip, this.localPort);
  }

  #emit(p: Pending): void {
    if (this.#finished || !this.#host.alive) return;
    if (!this.#handlers) {
      this.#pending.push(p);
      return;
    }
    if ("data" in p) this.#handlers.onData(p.data);
    else this.#finish(p.close);
  }

  /** Calls onClose once; held until `setHandlers` for an inbound conn not yet adopted; never on a crashed host. */
  #finish(error: string | undefined): void {
    if (this.#finished) return;
    this.#closed = true;
    this.#ended = true;
    this.#host.conns.delete(this);
    if (!this.#host.alive) {
      this.#finished = true;
    } else if (!this.#handlers) {
      this.#pending.push({ close: error });
    } else {
      this.#finished = true;
      this.#handlers.onClose(error);
    }
  }
}
