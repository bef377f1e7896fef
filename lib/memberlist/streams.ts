/**
 * memberlist's TCP side (`net.go:handleConn`, `sendAndReceiveState`,
 * `sendPingAndWaitForAck`, `sendUserMsg`) as sans-IO state machines: one
 * exchange per stream, a deadline per exchange (TCPTimeout), at most 127
 * concurrent inbound push/pulls. The memberlist core supplies the node
 * state through {@link StreamEnv} and forwards the host's stream events.
 *
 * @module
 */
import type { LogLevel } from "../core/log.ts";
import type { TimerHandle } from "../core/scheduler.ts";
import { type StreamMessage, StreamReader, type StreamResult } from "./envelope.ts";
import {
  encodeAck,
  encodeErr,
  encodePing,
  encodeUserStream,
  MessageType,
  type PingMsg,
  type PushNodeState,
} from "./messages.ts";
import type { Address, Output } from "./types.ts";
import { isIpText, joinHostPort } from "./util.ts";

/** Concurrent inbound push/pulls (`maxPushPullRequests`): the 128th is refused. */
export const MAX_PUSH_PULL_REQUESTS = 128;

/** What the stream machinery needs from the memberlist core. */
export interface StreamEnv {
  /** Current time (ms). */
  now(): number;
  /** Schedules `fn` after `delayMs` (cancelled on shutdown). */
  after(delayMs: number, fn: () => void): TimerHandle;
  /** Queues an output for the host. */
  emit(out: Output): void;
  /** Logs with the "memberlist: " prefix added. */
  log(level: LogLevel, msg: string): void;
  /** Decryption keys when encryption is enabled. */
  keys(): Uint8Array[] | undefined;
  /** Wraps a stream message (compression, encryption). */
  seal(msg: Uint8Array): Uint8Array;
  /** Our node name. */
  name(): string;
  /** TCPTimeout (ms). */
  tcpTimeout(): number;
  /** Our push/pull payload. */
  localState(join: boolean): Uint8Array;
  /** Merges a remote push/pull; the error text or undefined. */
  mergeRemoteState(join: boolean, nodes: PushNodeState[], userState: Uint8Array | null): string | undefined;
  /** A user message arrived over a stream. */
  notifyMsg(msg: Uint8Array): void;
}

type Done = Exclude<StreamResult, { kind: "more" }>;

/** One tracked stream. */
interface StreamCtx {
  id: number;
  remote: Address;
  inbound: boolean;
  connected: boolean;
  reader: StreamReader;
  timer?: TimerHandle;
  countedPushPull?: boolean;
  onConnected?(): void;
  onResult(res: Done): void;
  onClosed(error?: string): void;
}

/** memberlist's `LogAddress`: "from=ip:port". */
export function logAddr(a: Address): string {
  return `from=${joinHostPort(a.ip, a.port)}`;
}

/** A usable destination: an IP address and a port in 1..65535. */
export function validAddress(a: Address): boolean {
  return a.port > 0 && a.port < 65536 && isIpText(a.ip);
}

/** The wire type of a stream message (for "invalid msgType" texts). */
function streamType(m: StreamMessage): number {
  return m.type === -1 ? m.unknown : m.type;
}

/**
 * The streams of one memberlist core.
 *
 * @example
 * ```ts
 * const streams = new Streams(env);
 * streams.pushPull({ ip: "10.0.0.2", port: 7946 }, "b", true, (err) => console.log(err));
 * ```
 */
export class Streams {
  readonly #env: StreamEnv;
  readonly #streams = new Map<number, StreamCtx>();
  #nextId = 1;
  #pushPullReq = 0;

  /** Creates the table. */
  constructor(env: StreamEnv) {
    this.#env = env;
  }

  /** Number of open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** A new stream id (also for streams refused at once). */
  allocateId(): number {
    return this.#nextId++;
  }

  /** Whether `id` is a stream we track. */
  has(id: number): boolean {
    return this.#streams.has(id);
  }

  /** The remote address of a tracked stream. */
  remote(id: number): Address | undefined {
    return this.#streams.get(id)?.remote;
  }

  /** Go's `handleConn` for an accepted stream; returns its id. */
  accept(from: Address): number {
    const env = this.#env;
    const id = this.allocateId();
    env.log("DEBUG", `Stream connection ${logAddr(from)}`);
    const ctx: StreamCtx = {
      id,
      remote: { ip: from.ip, port: from.port },
      inbound: true,
      connected: true,
      reader: new StreamReader(env.keys()),
      onResult: (res) => this.#inboundResult(ctx, res),
      onClosed: () => {
        if (ctx.reader.buffered > 0) env.log("ERR", `failed to receive: ${ctx.reader.eofError()} ${logAddr(from)}`);
      },
    };
    this.#streams.set(id, ctx);
    this.#deadline(ctx, env.now() + env.tcpTimeout(), () => {
      env.log("ERR", `failed to receive: read tcp ${joinHostPort(from.ip, from.port)}: i/o timeout ${logAddr(from)}`);
    });
    return id;
  }

  /** The host connected an outbound stream. */
  connected(id: number): void {
    const ctx = this.#streams.get(id);
    if (!ctx) return;
    ctx.connected = true;
    ctx.onConnected?.();
  }

  /** Bytes arrived on a stream. */
  data(id: number, chunk: Uint8Array): void {
    const ctx = this.#streams.get(id);
    if (!ctx) return;
    const res = ctx.reader.push(chunk);
    const isPushPull = ctx.reader.firstByte === MessageType.PushPull;
    if (ctx.inbound && !ctx.countedPushPull && isPushPull && !this.#countPushPull(ctx)) return;
    if (res.kind !== "more") ctx.onResult(res);
  }

  /** The host reports a stream gone. */
  closed(id: number, error?: string): void {
    const ctx = this.#streams.get(id);
    if (!ctx) return;
    this.#drop(ctx);
    ctx.onClosed(error);
  }

  /** Closes every stream (shutdown). */
  closeAll(): void {
    for (const ctx of [...this.#streams.values()]) this.#finish(ctx);
  }

  /** Go's `pushPullNode` exchange: send our state, read theirs, merge. */
  pushPull(to: Address, name: string, join: boolean, done: (err?: string) => void): void {
    const env = this.#env;
    if (!validAddress(to)) return done(`invalid address ${joinHostPort(to.ip, to.port)}`);
    const addr = joinHostPort(to.ip, to.port);
    const finish = once(done);
    const ctx = this.#open(to, {
      onConnected: () => {
        env.log("DEBUG", `Initiating push/pull sync with: ${name} ${addr}`);
        this.#write(ctx, env.localState(join));
        this.#deadline(ctx, env.now() + env.tcpTimeout(), () => finish(`read tcp ${addr}: i/o timeout`));
      },
      onResult: (res) => {
        this.#finish(ctx);
        if (res.kind === "error") return finish(res.error);
        const m = res.message;
        if (m.type === MessageType.Err) return finish(`remote error: ${m.error}`);
        if (m.type !== MessageType.PushPull) {
          return finish(`received invalid msgType (${streamType(m)}), expected pushPullMsg (6) ${logAddr(to)}`);
        }
        finish(env.mergeRemoteState(join, m.nodes, m.userState));
      },
      onClosed: (error) => {
        if (!ctx.connected) return finish(error ?? `dial tcp ${addr}: connect: connection refused`);
        finish(error ?? ctx.reader.eofError());
      },
    });
    this.#deadline(ctx, env.now() + env.tcpTimeout(), () => finish(`dial tcp ${addr}: i/o timeout`));
  }

  /**
   * Go's `sendPingAndWaitForAck`: a ping over a stream, the ack expected on
   * it before `deadline`. `done(didContact, err)`; a dial that never
   * completes is not an error. Returns a function that settles the attempt
   * at once (as if the deadline had passed).
   */
  pingAndWaitForAck(
    to: Address,
    ping: PingMsg,
    deadline: number,
    done: (didContact: boolean, err?: string) => void,
  ): () => void {
    const addr = joinHostPort(to.ip, to.port);
    let settled = false;
    const finish = (ok: boolean, err?: string): void => {
      if (settled) return;
      settled = true;
      done(ok, err);
    };
    if (!validAddress(to)) {
      finish(false, `invalid address ${addr}`);
      return () => {};
    }
    const expire = (): void => {
      this.#finish(ctx);
      finish(false, ctx.connected ? `read tcp ${addr}: i/o timeout` : undefined);
    };
    const ctx = this.#open(to, {
      onConnected: () => this.#write(ctx, encodePing(ping)),
      onResult: (res) => {
        this.#finish(ctx);
        if (res.kind === "error") return finish(false, res.error);
        const m = res.message;
        if (m.type !== MessageType.AckResp) {
          return finish(false, `Unexpected msgType (${streamType(m)}) from ping ${logAddr(to)}`);
        }
        if (m.ack.seqNo !== ping.seqNo) {
          return finish(false, `Sequence number from ack (${m.ack.seqNo}) doesn't match ping (${ping.seqNo})`);
        }
        finish(true);
      },
      onClosed: (error) => {
        if (!ctx.connected) return finish(false);
        finish(false, error ?? ctx.reader.eofError());
      },
    });
    this.#deadline(ctx, deadline, expire);
    return () => {
      if (!settled) expire();
    };
  }

  /** Go's `sendUserMsg`: one user message over a new stream. */
  sendUser(to: Address, msg: Uint8Array, done: (err?: string) => void): void {
    const env = this.#env;
    const addr = joinHostPort(to.ip, to.port);
    if (!validAddress(to)) return done(`invalid address ${addr}`);
    const finish = once(done);
    const ctx = this.#open(to, {
      onConnected: () => {
        this.#write(ctx, encodeUserStream(msg));
        this.#finish(ctx);
        finish();
      },
      onResult: () => this.#finish(ctx),
      onClosed: (error) => finish(error ?? `dial tcp ${addr}: connect: connection refused`),
    });
    this.#deadline(ctx, env.now() + env.tcpTimeout(), () => finish(`dial tcp ${addr}: i/o timeout`));
  }

  /** Go's `handleConn` once a message (or an error) was read. */
  #inboundResult(ctx: StreamCtx, res: Done): void {
    const env = this.#env;
    const from = logAddr(ctx.remote);
    if (res.kind === "error") {
      if (res.stage === "envelope") {
        env.log("ERR", `failed to receive: ${res.error} ${from}`);
        this.#write(ctx, encodeErr(res.error));
      } else env.log("ERR", `${BODY_ERRORS[res.type ?? -1] ?? "failed to receive"}: ${res.error} ${from}`);
      this.#finish(ctx);
      return;
    }
    const m = res.message;
    switch (m.type) {
      case MessageType.User:
        this.#finish(ctx);
        if (m.msg) env.notifyMsg(m.msg);
        return;
      case MessageType.PushPull: {
        if (!ctx.countedPushPull && !this.#countPushPull(ctx)) return;
        this.#write(ctx, env.localState(m.join));
        this.#finish(ctx);
        const err = env.mergeRemoteState(m.join, m.nodes, m.userState);
        if (err) env.log("ERR", `Failed push/pull merge: ${err} ${from}`);
        return;
      }
      case MessageType.Ping:
        if (m.ping.node !== "" && m.ping.node !== env.name()) {
          env.log("WARN", `Got ping for unexpected node ${m.ping.node} ${from}`);
        } else this.#write(ctx, encodeAck({ seqNo: m.ping.seqNo, payload: null }));
        this.#finish(ctx);
        return;
      default:
        env.log("ERR", `Received invalid msgType (${streamType(m)}) ${from}`);
        this.#finish(ctx);
    }
  }

  /** Counts an inbound push/pull; false (and the stream closed) when over the limit. */
  #countPushPull(ctx: StreamCtx): boolean {
    ctx.countedPushPull = true;
    this.#pushPullReq++;
    if (this.#pushPullReq >= MAX_PUSH_PULL_REQUESTS) {
      this.#env.log("ERR", "Too many pending push/pull requests");
      this.#finish(ctx);
      return false;
    }
    return true;
  }

  /** Opens an outbound stream (emits `connect`). */
  #open(to: Address, handlers: Pick<StreamCtx, "onConnected" | "onResult" | "onClosed">): StreamCtx {
    const ctx: StreamCtx = {
      id: this.allocateId(),
      remote: { ip: to.ip, port: to.port },
      inbound: false,
      connected: false,
      reader: new StreamReader(this.#env.keys()),
      ...handlers,
    };
    this.#streams.set(ctx.id, ctx);
    this.#env.emit({ kind: "connect", stream: ctx.id, to: ctx.remote });
    return ctx;
  }

  #write(ctx: StreamCtx, msg: Uint8Array): void {
    this.#env.emit({ kind: "write", stream: ctx.id, data: this.#env.seal(msg) });
  }

  /** (Re)arms a stream's deadline; on expiry the stream is closed, then `onExpire` runs. */
  #deadline(ctx: StreamCtx, at: number, onExpire: () => void): void {
    ctx.timer?.cancel();
    ctx.timer = this.#env.after(Math.max(0, at - this.#env.now()), () => {
      if (!this.#streams.has(ctx.id)) return;
      this.#finish(ctx);
      onExpire();
    });
  }

  /** Forgets a stream without emitting anything (the host closed it). */
  #drop(ctx: StreamCtx): void {
    if (!this.#streams.delete(ctx.id)) return;
    ctx.timer?.cancel();
    if (ctx.countedPushPull) {
      ctx.countedPushPull = false;
      this.#pushPullReq--;
    }
  }

  /** Forgets a stream and tells the host to close it. */
  #finish(ctx: StreamCtx): void {
    if (!this.#streams.has(ctx.id)) return;
    this.#drop(ctx);
    this.#env.emit({ kind: "close", stream: ctx.id });
  }
}

/** Go's log prefix for a malformed inbound stream body, by message type. */
const BODY_ERRORS: Record<number, string> = {
  [MessageType.PushPull]: "Failed to read remote state",
  [MessageType.Ping]: "Failed to decode ping",
  [MessageType.User]: "Failed to receive user message",
};

function once(done: (err?: string) => void): (err?: string) => void {
  let called = false;
  return (err) => {
    if (called) return;
    called = true;
    done(err);
  };
}
