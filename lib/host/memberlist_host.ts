/**
 * Drives a sans-IO memberlist core over a {@link Runtime}: feeds it
 * datagrams and stream events, carries out its outputs, and keeps exactly
 * one runtime timer armed at the core's next deadline. The same class runs
 * real processes and every node of the simulator; everything on the hot path
 * is synchronous, so on the in-memory network a run is deterministic.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { silentLogger } from "../core/log.ts";
import type { Memberlist } from "../memberlist/memberlist.ts";
import type { Address, JoinTarget, Output } from "../memberlist/types.ts";
import type { Runtime, TcpConn, Timer } from "../runtime/types.ts";
import { normalizeIp, resolveJoinAddress } from "./address.ts";
import type { Transport } from "./transport.ts";

/** One observed datagram or stream chunk (see {@link HostOptions.tap}). */
export interface TapEvent {
  dir: "in" | "out";
  kind: "udp" | "tcp";
  peer: Address;
  data: Uint8Array;
  /** Stream id for TCP. */
  stream?: number;
}

/** Options of a {@link MemberlistHost}. */
export interface HostOptions {
  logger?: Logger;
  /** Sees every datagram and stream chunk in both directions (captures, tests). */
  tap?: (e: TapEvent) => void;
  /** How long a stream the core closed may keep flushing before it is destroyed (ms). Default 5000. */
  closeGraceMs?: number;
}

/** Result of {@link MemberlistHost.join}: memberlist `Join`'s count and errors. */
export interface JoinResult {
  joined: number;
  errors: string[];
}

/** Host-side counters, for tests and diagnostics. */
export interface HostStats {
  packetsIn: number;
  packetsOut: number;
  streamsOpened: number;
  streamsAccepted: number;
  /** Exceptions thrown by the core while handling input (each one logged). */
  coreErrors: number;
}

interface StreamRecord {
  id?: number;
  conn?: TcpConn;
  peer: Address;
  /** The core asked to close it: its later `onClose` is not reported back. */
  closedByCore: boolean;
  gone: boolean;
  grace?: Timer;
}

/** The I/O surface a host drives: a `Memberlist`, or a layer wrapping one (a `Serf`). */
export interface HostedCore {
  start(now: number): void;
  handlePacket(data: Uint8Array, from: Address, now: number): void;
  streamAccepted(from: Address, now: number): number;
  streamConnected(id: number, now: number): void;
  streamData(id: number, chunk: Uint8Array, now: number): void;
  streamClosed(id: number, now: number, error?: string): void;
  tick(now: number): void;
  nextDeadline(): number | undefined;
  drain(): Output[];
  shutdown(): void;
}

/**
 * Binds a core (a `Memberlist`, or a `Serf` wrapping one) to a runtime and transport.
 *
 * @example
 * ```ts
 * const t = await bindTransport(runtime, "127.0.0.1", 0);
 * const host = new MemberlistHost(runtime, t, new Memberlist(config, runtime.now()));
 * host.start();
 * await host.join(["127.0.0.1:7946"]);
 * ```
 */
export class MemberlistHost<C extends HostedCore = Memberlist> {
  readonly stats: HostStats = { packetsIn: 0, packetsOut: 0, streamsOpened: 0, streamsAccepted: 0, coreErrors: 0 };
  #depth = 0;
  #timer?: Timer;
  #armedAt?: number;
  #streams = new Map<number, StreamRecord>();
  #started = false;
  #closed = false;
  #log: Logger;
  #tap?: (e: TapEvent) => void;
  #grace: number;

  /** Wraps `core`; nothing happens until {@link start}. */
  constructor(
    readonly runtime: Runtime,
    readonly transport: Transport,
    readonly core: C,
    options: HostOptions = {},
  ) {
    this.#log = options.logger ?? silentLogger;
    this.#tap = options.tap;
    this.#grace = options.closeGraceMs ?? 5000;
  }

  /** The bound port (UDP and TCP). */
  get port(): number {
    return this.transport.port;
  }

  /** Whether {@link shutdown} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Installs the socket handlers and starts the core (sets itself alive, starts its tickers). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.transport.onPacket = (data, host, port) => this.#packet(data, host, port);
    this.transport.onConnection = (conn) => this.#accept(conn);
    this.act((now) => this.core.start(now));
  }

  /**
   * Runs `fn(now)` against the core, then carries out every output and
   * re-arms the timer. Re-entrant: nested calls flush once, at the outermost.
   */
  act<T>(fn: (now: number) => T): T {
    this.#depth++;
    try {
      return fn(this.runtime.now());
    } finally {
      this.#depth--;
      if (this.#depth === 0) this.#flush();
    }
  }

  /**
   * Joins through each address ("host", "host:port", "[v6]:port",
   * "name/host:port"; a missing port means our bind port; host names are
   * resolved). Resolves with the number of successful push/pulls and the errors.
   */
  async join(this: MemberlistHost<Memberlist>, addrs: string[]): Promise<JoinResult> {
    const targets: JoinTarget[] = [];
    const errors: string[] = [];
    for (const a of addrs) {
      try {
        targets.push(...await resolveJoinAddress(a, this.port));
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
        this.#log("WARN", `memberlist: ${errors[errors.length - 1]}`);
      }
    }
    if (!targets.length) return { joined: 0, errors };
    return await new Promise<JoinResult>((resolve) => {
      this.joinTargets(targets, (joined, errs) => resolve({ joined, errors: [...errors, ...errs] }));
    });
  }

  /** Synchronous join with already-resolved targets (the simulator's path). */
  joinTargets(
    this: MemberlistHost<Memberlist>,
    targets: JoinTarget[],
    done: (joined: number, errors: string[]) => void = () => {},
  ): void {
    this.act((now) => this.core.join(targets, now, done));
  }

  /** Broadcasts our leave and waits for it to go out (at most `timeoutMs`); rejects on timeout. */
  leave(this: MemberlistHost<Memberlist>, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.act((now) => this.core.leave(now, timeoutMs, (err) => err ? reject(new Error(err)) : resolve()));
    });
  }

  /** Stops the core, cancels the timer, drops every stream and closes the sockets. Idempotent. */
  shutdown(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.act(() => this.core.shutdown());
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const rec of this.#streams.values()) {
      rec.gone = true;
      rec.grace?.cancel();
      rec.conn?.destroy();
    }
    this.#streams.clear();
    this.transport.onPacket = undefined;
    this.transport.onConnection = undefined;
    this.transport.close();
    return Promise.resolve();
  }

  /** Number of streams currently tracked (open or closing). */
  get openStreams(): number {
    return this.#streams.size;
  }

  #flush(): void {
    this.#depth++;
    try {
      for (;;) {
        const outs = this.core.drain();
        if (!outs.length) break;
        for (const o of outs) this.#carry(o);
      }
    } finally {
      this.#depth--;
    }
    this.#rearm();
  }

  #rearm(): void {
    const due = this.#closed ? undefined : this.core.nextDeadline();
    if (due === this.#armedAt && (due === undefined || this.#timer)) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armedAt = due;
    if (due === undefined) return;
    const delay = Math.max(0, Math.ceil(due - this.runtime.now()));
    this.#timer = this.runtime.setTimer(delay, () => {
      this.#timer = undefined;
      this.#armedAt = undefined;
      this.#guard("timer", () => this.act((now) => this.core.tick(now)));
    });
  }

  #carry(o: Output): void {
    switch (o.kind) {
      case "packet":
        this.stats.packetsOut++;
        this.#tap?.({ dir: "out", kind: "udp", peer: o.to, data: o.data });
        this.transport.udp.send(o.data, o.to.ip, o.to.port);
        return;
      case "connect":
        this.#connect(o.stream, o.to);
        return;
      case "write": {
        const rec = this.#streams.get(o.stream);
        if (!rec || rec.gone || rec.closedByCore) return;
        this.#tap?.({ dir: "out", kind: "tcp", peer: rec.peer, data: o.data, stream: o.stream });
        rec.conn?.write(o.data);
        return;
      }
      case "close":
        this.#closeByCore(o.stream);
        return;
    }
  }

  #connect(id: number, to: Address): void {
    this.stats.streamsOpened++;
    const rec: StreamRecord = { id, peer: to, closedByCore: false, gone: false };
    this.#streams.set(id, rec);
    rec.conn = this.runtime.connectTcp(to.ip, to.port, {
      onConnect: () => {
        if (!rec.gone && !rec.closedByCore) {
          this.#guard("connect", () => this.act((now) => this.core.streamConnected(id, now)));
        }
      },
      onData: (chunk) => this.#streamData(rec, chunk),
      onClose: (error) => this.#streamClosed(rec, error),
    });
    if (rec.gone) rec.conn.destroy();
  }

  #accept(conn: TcpConn): void {
    if (this.#closed) {
      conn.destroy();
      return;
    }
    this.stats.streamsAccepted++;
    const peer = { ip: normalizeIp(conn.remoteHost), port: conn.remotePort };
    const rec: StreamRecord = { conn, peer, closedByCore: false, gone: false };
    conn.setHandlers({
      onData: (chunk) => this.#streamData(rec, chunk),
      onClose: (error) => this.#streamClosed(rec, error),
    });
    this.#guard("accept", () =>
      this.act((now) => {
        rec.id = this.core.streamAccepted(peer, now);
        this.#streams.set(rec.id, rec);
      }));
    if (rec.id === undefined) conn.destroy();
  }

  #streamData(rec: StreamRecord, chunk: Uint8Array): void {
    const id = rec.id;
    if (id === undefined || rec.gone || rec.closedByCore || this.#closed) return;
    this.#tap?.({ dir: "in", kind: "tcp", peer: rec.peer, data: chunk, stream: id });
    this.#guard("stream", () => this.act((now) => this.core.streamData(id, chunk, now)));
  }

  #streamClosed(rec: StreamRecord, error?: string): void {
    if (rec.gone) return;
    rec.gone = true;
    rec.grace?.cancel();
    const id = rec.id;
    if (id === undefined) return;
    if (this.#streams.get(id) === rec) this.#streams.delete(id);
    if (rec.closedByCore || this.#closed) return;
    this.#guard("stream", () => this.act((now) => this.core.streamClosed(id, now, error)));
  }

  #closeByCore(id: number): void {
    const rec = this.#streams.get(id);
    if (!rec || rec.closedByCore) return;
    rec.closedByCore = true;
    if (rec.gone) {
      this.#streams.delete(id);
      return;
    }
    rec.conn?.end();
    rec.grace = this.runtime.setTimer(this.#grace, () => {
      rec.conn?.destroy();
      if (!rec.gone) {
        rec.gone = true;
        if (this.#streams.get(id) === rec) this.#streams.delete(id);
      }
    });
  }

  #packet(data: Uint8Array, host: string, port: number): void {
    if (this.#closed) return;
    this.stats.packetsIn++;
    const from = { ip: normalizeIp(host), port };
    this.#tap?.({ dir: "in", kind: "udp", peer: from, data });
    this.#guard("packet", () => this.act((now) => this.core.handlePacket(data, from, now)));
  }

  /** Runs a core entry point from a runtime callback; a throw is counted and logged, never propagated. */
  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.stats.coreErrors++;
      this.#log(
        "ERR",
        `memberlist: host: core threw handling ${what}: ${e instanceof Error ? e.stack ?? e.message : e}`,
      );
    }
  }
}
