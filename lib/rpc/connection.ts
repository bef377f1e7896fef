/**
 * One RPC client connection on the server side (Go's `IPCClient`): the
 * incremental reader, atomic header+body writes, and the per-connection
 * state (handshake, auth, streams, monitor, pending queries).
 *
 * @module
 */
import { Encoder } from "../codec/msgpack.ts";
import type { Runtime, TcpConn, Timer } from "../runtime/types.ts";
import type { RpcQueryEvent } from "./backend.ts";
import type { U64 } from "./decode.ts";
import { ValueReader } from "./reader.ts";

/** Returned by {@link IpcConnection.next} when the peer closed at a value boundary. */
export const EOF: unique symbol = Symbol("EOF");

/** A registered stream or monitor: stopping it unsubscribes and drops its queue. */
export interface Stoppable {
  stop(): void;
}

/** How long a closing connection may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** Formats host and port like Go's `net.JoinHostPort`. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Server-side state of one client connection. */
export class IpcConnection {
  /** "ip:port" of the peer. */
  readonly name: string;
  /** IPC version from the handshake; 0 before. */
  version = 0;
  /** Whether `auth` succeeded. */
  didAuth = false;
  /** The last decoded request header; go-msgpack decodes into the same struct every time. */
  lastHeader: { command: string; seq: U64 } = { command: "", seq: 0 };
  /** The log monitor, with the seq that registered it. */
  monitor: { seq: string; stream: Stoppable } | null = null;
  /** Event streams by seq (as a string key). */
  readonly eventStreams = new Map<string, Stoppable>();
  /** Queries delivered to this client's streams, by the ID we gave them. */
  readonly pendingQueries = new Map<number, RpcQueryEvent>();
  #queryTimers = new Map<number, Timer>();
  #queryId = 0;
  #reader: ValueReader;
  #waiter: ((v: unknown) => void) | null = null;
  #failer: ((e: unknown) => void) | null = null;
  #ended = false;
  #closed = false;
  #closeTimer: Timer | null = null;
  #onClosed: Array<() => void> = [];

  /** Wraps an accepted connection. */
  constructor(readonly conn: TcpConn, readonly runtime: Runtime, maxValueBytes: number) {
    this.name = joinHostPort(conn.remoteHost, conn.remotePort);
    this.#reader = new ValueReader("rpc", maxValueBytes);
    conn.setHandlers({
      onData: (chunk) => this.#onData(chunk),
      onClose: () => this.#onClose(),
    });
  }

  /** Go's `IPCClient.String()`, used in log lines. */
  toString(): string {
    return `ipc.client: ${this.name}`;
  }

  /** Whether the connection is closing or closed (writes are dropped). */
  get closed(): boolean {
    return this.#ended || this.#closed;
  }

  /** Calls `cb` once the socket is gone. */
  onClosed(cb: () => void): void {
    if (this.#closed) cb();
    else this.#onClosed.push(cb);
  }

  /**
   * The next complete msgpack value, or {@link EOF} once the connection is
   * closing or closed (a partial value at EOF is dropped silently, as Go's
   * decoder reports plain EOF). Rejects on malformed or oversize input.
   */
  next(): Promise<unknown> {
    if (this.#ended) return Promise.resolve(EOF);
    try {
      const v = this.#reader.next();
      if (v) return Promise.resolve(v.value);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#closed) return Promise.resolve(EOF);
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failer = reject;
    });
  }

  /** Writes a response header and optional body as one chunk. */
  send(seq: U64, error: string, body?: unknown): void {
    if (this.closed) return;
    const enc = new Encoder("rpc").write({ Error: error, Seq: seq });
    if (body !== undefined) enc.write(body);
    this.conn.write(enc.bytes().slice());
  }

  /**
   * Gives a query a fresh per-connection ID and keeps it answerable until
   * its deadline (Go's `RegisterQuery`; a past deadline only uses up an ID).
   */
  registerQuery(q: RpcQueryEvent): number {
    const id = ++this.#queryId;
    const remaining = q.deadline - this.runtime.now();
    if (remaining < 0 || this.closed) return id;
    this.pendingQueries.set(id, q);
    this.#queryTimers.set(
      id,
      this.runtime.setTimer(remaining, () => {
        this.pendingQueries.delete(id);
        this.#queryTimers.delete(id);
      }),
    );
    return id;
  }

  /** Flushes and closes; the socket is destroyed if the peer does not close within a grace period. */
  close(): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    this.#stopAll();
    if (this.#waiter) this.#resolve(EOF);
    this.conn.end();
    this.#closeTimer = this.runtime.setTimer(CLOSE_GRACE_MS, () => this.conn.destroy());
  }

  /** Destroys the socket at once. */
  destroy(): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#stopAll();
      if (this.#waiter) this.#resolve(EOF);
    }
    this.conn.destroy();
  }

  #stopAll(): void {
    this.monitor?.stream.stop();
    this.monitor = null;
    for (const s of this.eventStreams.values()) s.stop();
    this.eventStreams.clear();
    this.pendingQueries.clear();
    for (const t of this.#queryTimers.values()) t.cancel();
    this.#queryTimers.clear();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#ended) return;
    this.#reader.push(chunk);
    if (!this.#waiter) return;
    try {
      const v = this.#reader.next();
      if (v) this.#resolve(v.value);
    } catch (e) {
      const fail = this.#failer!;
      this.#waiter = this.#failer = null;
      fail(e);
    }
  }

  #resolve(v: unknown): void {
    const done = this.#waiter!;
    this.#waiter = this.#failer = null;
    done(v);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeTimer?.cancel();
    this.#stopAll();
    if (this.#waiter) this.#resolve(EOF);
    for (const cb of this.#onClosed.splice(0)) cb();
  }
}
