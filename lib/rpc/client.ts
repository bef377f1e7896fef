/**
 * The RPC client used by the CLI (Go's `serf/client/rpc_client.go`), on
 * `node:net` so it runs the same in every runtime. One TCP connection;
 * requests carry increasing `Seq`s; responses, stream records and query
 * records are dispatched by `Seq`.
 *
 * Robustness beyond the Go client: a response header for an unknown `Seq`
 * (e.g. a record that raced a `stop`) has its body skipped, recognising
 * headers by their exact `{Seq, Error}` shape.
 *
 * @module
 */
import type { Socket } from "node:net";
import { nodeNet } from "../runtime/builtin.ts";
import { DecodeError, Encoder } from "../codec/msgpack.ts";
import type { Fields } from "../codec/fields.ts";
import {
  goBool,
  goBytes,
  goFloat,
  goFloats,
  goInt,
  goIntMap,
  goString,
  goStringMap,
  goUint,
  isResponseHeader,
  struct,
} from "./decode.ts";
import { ValueReader } from "./reader.ts";
import { MEMBER_FIELDS } from "../serf/messages.ts";
import {
  Command,
  type Coordinate,
  IPC_VERSION,
  IpcError,
  type KeyResponse,
  type QueryParams,
  type QueryRecord,
  type RpcMember,
} from "./types.ts";

/** The wire types of the API, defined in `types.ts` and shared with the server. */
export type { Coordinate, KeyResponse, QueryParams, QueryRecord, RpcMember } from "./types.ts";

/** Go's `client.DefaultTimeout`. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Largest response value accepted from an agent. */
const MAX_RESPONSE_BYTES = 64 << 20;
const CLIENT_CLOSED = "client closed";

/**
 * An error reported by the agent; `message` is its `Error` string verbatim.
 * Key operations attach the response body (per-node messages) and `join`
 * the number of nodes contacted, since Go sends both along with errors.
 */
export class RpcError extends Error {
  /** Key operations: the body sent with the error. */
  keyResponse?: KeyResponse;
  /** join: the number of successful contacts sent with the error. */
  num?: number;

  /** Creates the error with the agent's text. */
  constructor(message: string) {
    super(message);
    this.name = "RpcError";
  }
}

/** A running stream or monitor. */
export interface StreamHandle {
  /** Stops delivery at once, then asks the agent to stop (Go's `Stop`). */
  stop(): Promise<void>;
}

/** Receives the response(s) for one Seq. */
interface SeqHandler {
  /** Whether a body follows this header. */
  wantsBody(header: Fields): boolean;
  /** A header and its body (undefined when none came). */
  handle(header: Fields, body: unknown): void;
  /** The connection closed before the exchange finished. */
  cleanup(): void;
}

/** Splits "host:port" like Go's `net.SplitHostPort`, or throws Go's dial error. */
function splitHostPort(addr: string): { host: string; port: number } {
  const bad = (why: string) => new Error(`dial tcp: address ${addr}: ${why}`);
  let host: string;
  let portText: string;
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    if (end < 0) throw bad("missing ']' in address");
    if (end + 1 === addr.length) throw bad("missing port in address");
    if (addr[end + 1] !== ":") throw bad("missing port in address");
    host = addr.slice(1, end);
    portText = addr.slice(end + 2);
  } else {
    const i = addr.lastIndexOf(":");
    if (i < 0) throw bad("missing port in address");
    host = addr.slice(0, i);
    if (host.includes(":")) throw bad("too many colons in address");
    portText = addr.slice(i + 1);
  }
  const port = /^[0-9]+$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) throw bad("invalid port");
  return { host, port };
}

function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's wording for a failed dial. */
function dialError(e: NodeJS.ErrnoException & { address?: string; port?: number }, host: string, port: number): Error {
  const where = joinHostPort(e.address ?? (host || "127.0.0.1"), e.port ?? port);
  const syscall: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    EHOSTUNREACH: "no route to host",
    ENETUNREACH: "network is unreachable",
    ETIMEDOUT: "connection timed out",
    EADDRNOTAVAIL: "cannot assign requested address",
    ECONNRESET: "connection reset by peer",
  };
  if (e.code && syscall[e.code]) return new Error(`dial tcp ${where}: connect: ${syscall[e.code]}`);
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return new Error(`dial tcp: lookup ${host}: no such host`);
  return new Error(`dial tcp ${where}: ${e.message}`);
}

function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new (nodeNet().Socket)();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`dial tcp ${joinHostPort(host, port)}: i/o timeout`));
    }, timeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(dialError(e, host, port));
    });
    socket.connect({ host: host || "127.0.0.1", port }, () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

function toMember(v: unknown): RpcMember {
  const m = struct(v, MEMBER_FIELDS, "member");
  return {
    name: goString(m, "Name"),
    addr: goBytes(m, "Addr") ?? new Uint8Array(0),
    port: Number(goUint(m, "Port", 16)),
    tags: goStringMap(m, "Tags"),
    status: goString(m, "Status"),
    protocolMin: Number(goUint(m, "ProtocolMin", 8)),
    protocolMax: Number(goUint(m, "ProtocolMax", 8)),
    protocolCur: Number(goUint(m, "ProtocolCur", 8)),
    delegateMin: Number(goUint(m, "DelegateMin", 8)),
    delegateMax: Number(goUint(m, "DelegateMax", 8)),
    delegateCur: Number(goUint(m, "DelegateCur", 8)),
  };
}

function toMembers(body: unknown): RpcMember[] {
  const m = struct(body, ["Members"], "members response");
  const list = m.Members;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new Error("members response: Members is not an array");
  return list.map(toMember);
}

function toKeyResponse(body: unknown): KeyResponse {
  const m = struct(body, ["Messages", "Keys", "NumNodes", "NumErr", "NumResp"], "key response");
  return {
    messages: goStringMap(m, "Messages"),
    keys: goIntMap(m, "Keys"),
    numNodes: goInt(m, "NumNodes"),
    numErr: goInt(m, "NumErr"),
    numResp: goInt(m, "NumResp"),
  };
}

function toStats(body: unknown): Record<string, Record<string, string>> {
  const m = struct(body, [], "stats");
  const out: Record<string, Record<string, string>> = {};
  for (const k of Object.keys(m)) out[k] = goStringMap(m, k);
  return out;
}

function toCoordinate(body: unknown): Coordinate | null {
  const m = struct(body, ["Coord", "Ok"], "coordinate response");
  if (!goBool(m, "Ok")) return null;
  const c = struct(m.Coord, ["Vec", "Error", "Adjustment", "Height"], "coordinate");
  return {
    vec: goFloats(c, "Vec"),
    error: goFloat(c, "Error"),
    adjustment: goFloat(c, "Adjustment"),
    height: goFloat(c, "Height"),
  };
}

/** Converts decoded stream-record values to plain objects (maps lose their null prototype). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

/**
 * A connection to a Serf agent's RPC port.
 *
 * @example
 * ```ts
 * const c = await RpcClient.connect("127.0.0.1:7373");
 * console.log(await c.members());
 * c.close();
 * ```
 */
export class RpcClient {
  #socket: Socket;
  #seq = 0;
  #handlers = new Map<string, SeqHandler>();
  #reader = new ValueReader("rpc", MAX_RESPONSE_BYTES);
  #awaiting: { header: Fields; handler: SeqHandler | undefined } | null = null;
  #closed = false;
  #localClose = false;
  #closeCbs: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.#onSocketClose());
  }

  /**
   * Dials (10 s timeout), handshakes (Version 1), then auths when authKey
   * is non-empty. Connection failures reject with Go-like text, e.g.
   * "dial tcp 127.0.0.1:1: connect: connection refused"; agent refusals
   * reject with {@link RpcError}.
   */
  static async connect(addr: string, opts: { authKey?: string; timeoutMs?: number } = {}): Promise<RpcClient> {
    const { host, port } = splitHostPort(addr);
    const socket = await dial(host, port, opts.timeoutMs || DEFAULT_TIMEOUT_MS);
    const client = new RpcClient(socket);
    try {
      await client.#call(Command.handshake, { Version: IPC_VERSION }, false);
      if (opts.authKey) await client.#call(Command.auth, { AuthKey: opts.authKey }, false);
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /** Every member known to the agent. */
  async members(): Promise<RpcMember[]> {
    return toMembers(await this.#call(Command.members, undefined, true));
  }

  /** Members whose tags/status/name match the anchored RE2 expressions ("" = any status/name). */
  async membersFiltered(tags: Record<string, string>, status: string, name: string): Promise<RpcMember[]> {
    return toMembers(await this.#call(Command.membersFiltered, { Tags: tags, Status: status, Name: name }, true));
  }

  /** Asks the agent to join `addrs`; resolves with the number of nodes contacted. */
  async join(addrs: string[], replay: boolean): Promise<number> {
    let num = 0;
    try {
      const body = await this.#call(Command.join, { Existing: addrs, Replay: replay }, true, (b) => {
        num = goInt(struct(b, ["Num"], "join response"), "Num", 32);
      });
      return goInt(struct(body, ["Num"], "join response"), "Num", 32);
    } catch (e) {
      if (e instanceof RpcError) e.num = num;
      throw e;
    }
  }

  /** Graceful leave; the agent then shuts down. */
  async leave(): Promise<void> {
    await this.#call(Command.leave, undefined, false);
  }

  /** Forces `node` into the left state (and with `prune`, removes it). */
  async forceLeave(node: string, prune = false): Promise<void> {
    await this.#call(Command.forceLeave, { Node: node, Prune: prune }, false);
  }

  /** Sets and deletes tags of the agent. */
  async updateTags(tags: Record<string, string>, deleteTags: string[]): Promise<void> {
    await this.#call(Command.tags, { Tags: tags, DeleteTags: deleteTags }, false);
  }

  /** The agent's `stats` map-of-maps. */
  async stats(): Promise<Record<string, Record<string, string>>> {
    return toStats(await this.#call(Command.stats, undefined, true));
  }

  /** The cached coordinate of `node`, or null when the agent has none. */
  async getCoordinate(node: string): Promise<Coordinate | null> {
    return toCoordinate(await this.#call(Command.getCoordinate, { Node: node }, true));
  }

  /** Dispatches a user event. */
  async userEvent(name: string, payload: Uint8Array | null, coalesce: boolean): Promise<void> {
    await this.#call(Command.event, { Name: name, Payload: payload, Coalesce: coalesce }, false);
  }

  /**
   * Starts a query and reports its acks and responses; resolves after the
   * "done" record, or when the connection drops (as Go's channels close).
   * Rejects with {@link RpcError} when the agent refuses the query.
   */
  query(params: QueryParams, onRecord: (r: QueryRecord) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const seq = this.#nextSeq();
      let started = false;
      const finish = () => {
        this.#handlers.delete(String(seq));
        resolve();
      };
      this.#handlers.set(String(seq), {
        wantsBody: () => started,
        handle: (header, body) => {
          if (!started) {
            started = true;
            const err = goString(header, "Error");
            if (err) {
              this.#handlers.delete(String(seq));
              reject(new RpcError(err));
            }
            return;
          }
          const rec = struct(body, ["Type", "From", "Payload"], "query record");
          const type = goString(rec, "Type");
          if (type === "done") {
            onRecord({ type: "done", from: goString(rec, "From"), payload: null });
            return finish();
          }
          if (type === "ack" || type === "response") {
            onRecord({ type, from: goString(rec, "From"), payload: goBytes(rec, "Payload") });
          }
        },
        cleanup: () => (started ? resolve() : reject(new Error(CLIENT_CLOSED))),
      });
      const req = {
        FilterNodes: params.filterNodes,
        FilterTags: params.filterTags,
        RequestAck: params.requestAck,
        RelayFactor: params.relayFactor,
        Timeout: Math.round(params.timeoutMs * 1e6),
        Name: params.name,
        Payload: params.payload,
      };
      this.#write(Command.query, seq, req, reject);
    });
  }

  /** Responds to a query received on a stream (`ID` from its record). */
  async respond(id: number, payload: Uint8Array): Promise<void> {
    await this.#call(Command.respond, { ID: id, Payload: payload }, false);
  }

  /** Streams the agent's log lines at `logLevel` and above (the agent first replays its buffer). */
  monitor(logLevel: string, onLog: (line: string) => void): Promise<StreamHandle> {
    return this.#subscribe(Command.monitor, { LogLevel: logLevel }, (body) => {
      onLog(goString(struct(body, ["Log"], "log record"), "Log"));
    });
  }

  /**
   * Streams events matching `filter` ("*", "member-join,user:deploy", ...).
   * Records are plain objects as Go decodes them into `map[string]interface{}`:
   * strings, numbers, `Uint8Array` payloads and addresses, arrays of members.
   */
  stream(filter: string, onEvent: (record: Record<string, unknown>) => void): Promise<StreamHandle> {
    return this.#subscribe(Command.stream, { Type: filter }, (body) => {
      onEvent(plain(struct(body, [], "stream record")) as Record<string, unknown>);
    });
  }

  /** Installs a key on every member. */
  installKey(key: string): Promise<KeyResponse> {
    return this.#keyCall(Command.installKey, { Key: key });
  }

  /** Makes a key primary on every member. */
  useKey(key: string): Promise<KeyResponse> {
    return this.#keyCall(Command.useKey, { Key: key });
  }

  /** Removes a key from every member. */
  removeKey(key: string): Promise<KeyResponse> {
    return this.#keyCall(Command.removeKey, { Key: key });
  }

  /** Lists the keys installed across the cluster. */
  listKeys(): Promise<KeyResponse> {
    return this.#keyCall(Command.listKeys, undefined);
  }

  /** Called once when the connection drops (not after {@link close}); used by `serf monitor`. */
  onClose(cb: () => void): void {
    if (this.#closed) {
      if (!this.#localClose) queueMicrotask(cb);
      return;
    }
    this.#closeCbs.push(cb);
  }

  /** Closes the connection; pending calls reject with "client closed". */
  close(): void {
    if (this.#closed) return;
    this.#localClose = true;
    this.#socket.destroy();
    this.#shutdown();
  }

  async #keyCall(command: string, body: unknown): Promise<KeyResponse> {
    let response: KeyResponse | undefined;
    try {
      const b = await this.#call(command, body, true, (raw) => {
        response = toKeyResponse(raw);
      });
      return toKeyResponse(b);
    } catch (e) {
      if (e instanceof RpcError && response) e.keyResponse = response;
      throw e;
    }
  }

  #nextSeq(): number {
    return ++this.#seq;
  }

  /** Sends a request, waits for its response header (and body when `withBody`). */
  #call(command: string, body: unknown, withBody: boolean, onErrorBody?: (body: unknown) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const seq = this.#nextSeq();
      this.#handlers.set(String(seq), {
        wantsBody: (h) => withBody && goString(h, "Error") !== IpcError.authRequired,
        handle: (header, b) => {
          this.#handlers.delete(String(seq));
          const err = goString(header, "Error");
          if (!err) return resolve(b);
          if (b !== undefined && onErrorBody) {
            try {
              onErrorBody(b);
            } catch { /* a malformed error body does not hide the error */ }
          }
          reject(new RpcError(err));
        },
        cleanup: () => reject(new Error(CLIENT_CLOSED)),
      });
      this.#write(command, seq, body, reject);
    });
  }

  /** Starts a stream or monitor: resolves on the agent's first response. */
  #subscribe(command: string, body: unknown, onRecord: (body: unknown) => void): Promise<StreamHandle> {
    return new Promise((resolve, reject) => {
      const seq = this.#nextSeq();
      const key = String(seq);
      let started = false;
      this.#handlers.set(key, {
        wantsBody: () => started,
        handle: (header, b) => {
          if (started) return onRecord(b);
          started = true;
          const err = goString(header, "Error");
          if (err) {
            this.#handlers.delete(key);
            return reject(new RpcError(err));
          }
          resolve({
            stop: async () => {
              this.#handlers.delete(key);
              if (this.#closed) return;
              await this.#call(Command.stop, { Stop: seq }, false);
            },
          });
        },
        cleanup: () => {
          if (!started) reject(new Error(CLIENT_CLOSED));
        },
      });
      this.#write(command, seq, body, reject);
    });
  }

  #write(command: string, seq: number, body: unknown, reject: (e: Error) => void): void {
    if (this.#closed) {
      this.#handlers.delete(String(seq));
      return reject(new Error(CLIENT_CLOSED));
    }
    const enc = new Encoder("rpc").write({ Command: command, Seq: seq });
    if (body !== undefined) enc.write(body);
    this.#socket.write(enc.bytes().slice());
  }

  #onData(chunk: Uint8Array): void {
    this.#reader.push(chunk);
    try {
      for (let v = this.#reader.next(); v; v = this.#reader.next()) this.#onValue(v.value);
    } catch {
      // Undecodable or oversize data from the agent: Go's client gives up on the connection too.
      this.#socket.destroy();
    }
  }

  #onValue(v: unknown): void {
    const awaiting = this.#awaiting;
    if (awaiting) {
      this.#awaiting = null;
      if (isResponseHeader(v)) {
        this.#dispatch(awaiting.handler, awaiting.header, undefined);
        return this.#onHeader(v);
      }
      return this.#dispatch(awaiting.handler, awaiting.header, v);
    }
    if (isResponseHeader(v)) this.#onHeader(v);
    // Anything else is a stray body: skipped.
  }

  #onHeader(h: Fields): void {
    const handler = this.#handlers.get(String(goUint(h, "Seq", 64)));
    if (handler && !handler.wantsBody(h)) return this.#dispatch(handler, h, undefined);
    // Unknown Seq: a body may follow; it is recognised (and skipped) by its shape.
    this.#awaiting = { header: h, handler };
  }

  /**
   * Hands a response to its handler. A malformed record ends that
   * registration (as Go's client deregisters it); an exception from a
   * caller's callback is rethrown asynchronously and leaves the connection up.
   */
  #dispatch(handler: SeqHandler | undefined, header: Fields, body: unknown): void {
    if (!handler) return;
    try {
      handler.handle(header, body);
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        queueMicrotask(() => {
          throw e;
        });
        return;
      }
      for (const [k, h] of this.#handlers) if (h === handler) this.#handlers.delete(k);
      handler.cleanup();
    }
  }

  #onSocketClose(): void {
    if (this.#closed) return;
    this.#awaiting = null;
    this.#shutdown();
    for (const cb of this.#closeCbs.splice(0)) cb();
  }

  #shutdown(): void {
    this.#closed = true;
    const handlers = [...this.#handlers.values()];
    this.#handlers.clear();
    for (const h of handlers) h.cleanup();
  }
}
