/**
 * The RPC command handlers (Go's `AgentIPC.handle*` in `agent/ipc.go`).
 * Each reads its request body (if the command has one), calls the backend
 * and writes exactly the response Go writes. A handler that throws makes
 * the server log `Failed to evaluate request: ...` and close the connection.
 *
 * @module
 */
import type { Fields } from "../codec/fields.ts";
import { f64 } from "../codec/msgpack.ts";
import { LOG_LEVELS, type Logger, type LogLevel } from "../core/log.ts";
import type { Runtime } from "../runtime/types.ts";
import type { KeyOp, QuerySink, RpcBackend, RpcEvent } from "./backend.ts";
import type { IpcConnection } from "./connection.ts";
import { goBool, goBytes, goInt, goString, goStringMap, goStrings, goUint, type U64 } from "./decode.ts";
import { anyFilterMatches, filterMembers, isValidEventFilter, parseEventFilter } from "./filter.ts";
import { Pump } from "./pump.ts";
import { Command, IPC_VERSION, IpcError, memberToWire, type QueryParams } from "./types.ts";

/** What a handler needs. */
export interface CommandContext {
  conn: IpcConnection;
  seq: U64;
  backend: RpcBackend;
  runtime: Runtime;
  logger: Logger;
  authKey: string;
  /** Per-stream queue size (Go: 512). */
  streamBuffer: number;
  /** Reads the request body as a struct with these fields (declaration order). */
  body(fields: readonly string[]): Promise<Fields>;
}

/** A command handler. */
export type CommandHandler = (ctx: CommandContext) => Promise<void>;

/** Go's `errToString` for whatever a backend threw. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Runs `fn` and returns "" or its error text. */
async function attempt(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return "";
  } catch (e) {
    return errorText(e);
  }
}

const handshake: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Version"]);
  const version = goInt(req, "Version", 32);
  let error = "";
  if (version !== IPC_VERSION) error = IpcError.unsupportedIPCVersion;
  else if (ctx.conn.version !== 0) error = IpcError.duplicateHandshake;
  else ctx.conn.version = version;
  ctx.conn.send(ctx.seq, error);
};

const auth: CommandHandler = async (ctx) => {
  const req = await ctx.body(["AuthKey"]);
  let error = "";
  if (goString(req, "AuthKey") === ctx.authKey) ctx.conn.didAuth = true;
  else error = IpcError.invalidAuthToken;
  ctx.conn.send(ctx.seq, error);
};

const event: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Name", "Payload", "Coalesce"]);
  const error = await attempt(() =>
    ctx.backend.userEvent(goString(req, "Name"), goBytes(req, "Payload"), goBool(req, "Coalesce"))
  );
  ctx.conn.send(ctx.seq, error);
};

const forceLeave: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Node", "Prune"]);
  const error = await attempt(() => ctx.backend.forceLeave(goString(req, "Node"), goBool(req, "Prune")));
  ctx.conn.send(ctx.seq, error);
};

const join: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Existing", "Replay"]);
  let num = 0;
  let error = "";
  try {
    const res = await ctx.backend.join(goStrings(req, "Existing"), goBool(req, "Replay"));
    num = res.num;
    error = res.error ?? "";
  } catch (e) {
    error = errorText(e);
  }
  ctx.conn.send(ctx.seq, error, { Num: num });
};

function membersHandler(filtered: boolean): CommandHandler {
  return async (ctx) => {
    let members = await ctx.backend.members();
    if (filtered) {
      const req = await ctx.body(["Tags", "Status", "Name"]);
      // A bad regexp throws: no response, the connection is closed (as in Go).
      members = filterMembers(members, goStringMap(req, "Tags"), goString(req, "Status"), goString(req, "Name"));
    }
    ctx.conn.send(ctx.seq, "", { Members: members.map(memberToWire) });
  };
}

/** Encodes an event as the stream record Go sends, registering queries for `respond`. */
function eventRecord(conn: IpcConnection, e: RpcEvent): Record<string, unknown> {
  switch (e.type) {
    case "member":
      return { Event: e.event, Members: e.members.map(memberToWire) };
    case "user":
      return { Event: "user", LTime: e.ltime, Name: e.name, Payload: e.payload, Coalesce: e.coalesce };
    case "query": {
      const id = conn.registerQuery(e);
      return { Event: "query", ID: id, LTime: e.ltime, Name: e.name, Payload: e.payload };
    }
  }
}

const stream: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Type"]);
  const filters = parseEventFilter(goString(req, "Type"));
  const key = String(ctx.seq);
  const { conn, runtime, logger } = ctx;
  if (!filters.every(isValidEventFilter)) return conn.send(ctx.seq, IpcError.invalidFilter);
  if (conn.eventStreams.has(key)) return conn.send(ctx.seq, IpcError.streamExists);
  const seq = ctx.seq;
  const pump = new Pump<RpcEvent>(
    runtime,
    ctx.streamBuffer,
    (e) => conn.send(seq, "", eventRecord(conn, e)),
    () => logger("WARN", `agent.ipc: Dropping event to ${conn}`),
  );
  let unsubscribe = () => {};
  conn.eventStreams.set(key, {
    stop() {
      unsubscribe();
      pump.stop();
    },
  });
  conn.send(ctx.seq, "");
  // Registered after the OK response was written, as in Go.
  if (conn.eventStreams.has(key)) {
    unsubscribe = ctx.backend.subscribeEvents((e) => {
      if (anyFilterMatches(filters, e)) pump.offer(e);
    });
  }
};

/** The level of a log line: the text between its first '[' and the next ']' (logutils). */
function lineLevel(line: string): string {
  const x = line.indexOf("[");
  if (x < 0) return "";
  const y = line.indexOf("]", x);
  return y < 0 ? "" : line.slice(x + 1, y);
}

/** Whether logutils' LevelFilter with `min` lets `line` through. */
export function levelAllows(min: LogLevel, line: string): boolean {
  const below = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(min)) as readonly string[];
  return !below.includes(lineLevel(line));
}

const monitor: CommandHandler = async (ctx) => {
  const req = await ctx.body(["LogLevel"]);
  const level = goString(req, "LogLevel").toUpperCase();
  const { conn, runtime, logger } = ctx;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    return conn.send(ctx.seq, `Unknown log level: ${level}`);
  }
  if (conn.monitor) return conn.send(ctx.seq, IpcError.monitorExists);
  const seq = ctx.seq;
  let dropping = false;
  const pump = new Pump<string>(
    runtime,
    ctx.streamBuffer,
    (line) => {
      dropping = false;
      conn.send(seq, "", { Log: line });
    },
    () => {
      // Go logs each drop from a goroutine; once per overflow episode avoids a feedback loop.
      if (dropping) return;
      dropping = true;
      runtime.setTimer(0, () => logger("WARN", `agent.ipc: Dropping logs to ${conn}`));
    },
  );
  let unsubscribe = () => {};
  conn.monitor = {
    seq: String(seq),
    stream: {
      stop() {
        unsubscribe();
        pump.stop();
      },
    },
  };
  conn.send(ctx.seq, "");
  if (conn.monitor?.seq === String(seq)) {
    unsubscribe = ctx.backend.subscribeLogs((line) => {
      if (levelAllows(level as LogLevel, line)) pump.offer(line);
    });
  }
};

const stop: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Stop"]);
  const target = String(goUint(req, "Stop", 64));
  const { conn } = ctx;
  if (conn.monitor && conn.monitor.seq === target) {
    conn.monitor.stream.stop();
    conn.monitor = null;
  }
  const es = conn.eventStreams.get(target);
  if (es) {
    es.stop();
    conn.eventStreams.delete(target);
  }
  conn.send(ctx.seq, "");
};

const leave: CommandHandler = async (ctx) => {
  ctx.logger("INFO", "agent.ipc: Graceful leave triggered");
  const error = await attempt(() => ctx.backend.leave());
  if (error) ctx.logger("ERR", `agent.ipc: leave failed: ${error}`);
  ctx.conn.send(ctx.seq, error);
  const shutdownError = await attempt(() => ctx.backend.shutdown());
  if (shutdownError) ctx.logger("ERR", `agent.ipc: shutdown failed: ${shutdownError}`);
};

function keyHandler(op: KeyOp): CommandHandler {
  return async (ctx) => {
    const key = op === "list" ? "" : goString(await ctx.body(["Key"]), "Key");
    let body: Record<string, unknown> = { Messages: {}, Keys: null, NumNodes: 0, NumErr: 0, NumResp: 0 };
    let error = "";
    try {
      const r = await ctx.backend.keyOperation(op, key);
      body = {
        Messages: r.messages,
        Keys: op === "list" ? r.keys ?? {} : null,
        NumNodes: r.numNodes,
        NumErr: r.numErr,
        NumResp: r.numResp,
      };
      error = r.error ?? "";
    } catch (e) {
      error = errorText(e);
    }
    ctx.conn.send(ctx.seq, error, body);
  };
}

const tags: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Tags", "DeleteTags"]);
  const set = goStringMap(req, "Tags");
  const del = new Set(goStrings(req, "DeleteTags"));
  const error = await attempt(() => {
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.backend.localTags())) if (!del.has(k)) next[k] = v;
    Object.assign(next, set);
    return ctx.backend.setTags(next);
  });
  ctx.conn.send(ctx.seq, error);
};

function queryParams(req: Fields): QueryParams {
  return {
    filterNodes: goStrings(req, "FilterNodes"),
    filterTags: goStringMap(req, "FilterTags"),
    requestAck: goBool(req, "RequestAck"),
    relayFactor: Number(goUint(req, "RelayFactor", 8)),
    timeoutMs: goInt(req, "Timeout", 64) / 1e6,
    name: goString(req, "Name"),
    payload: goBytes(req, "Payload"),
  };
}

/** A sink that buffers records until the OK header is written, then streams them. */
function querySink(ctx: CommandContext): { sink: QuerySink; start(): void } {
  const { conn, seq } = ctx;
  let started = false;
  let finished = false;
  const held: Array<Record<string, unknown>> = [];
  const emit = (rec: Record<string, unknown>) => {
    if (finished) return;
    if (rec.Type === "done") finished = true;
    if (started) conn.send(seq, "", rec);
    else held.push(rec);
  };
  return {
    sink: {
      ack: (from) => emit({ Type: "ack", From: from, Payload: null }),
      response: (from, payload) => emit({ Type: "response", From: from, Payload: payload }),
      done: () => emit({ Type: "done", From: "", Payload: null }),
    },
    start() {
      started = true;
      for (const rec of held.splice(0)) conn.send(seq, "", rec);
    },
  };
}

const query: CommandHandler = async (ctx) => {
  const req = await ctx.body(["FilterNodes", "FilterTags", "RequestAck", "RelayFactor", "Timeout", "Name", "Payload"]);
  const params = queryParams(req);
  const { sink, start } = querySink(ctx);
  const error = await attempt(() => ctx.backend.query(params, sink));
  ctx.conn.send(ctx.seq, error);
  if (!error) start();
};

const respond: CommandHandler = async (ctx) => {
  const req = await ctx.body(["ID", "Payload"]);
  const id = goUint(req, "ID", 64);
  const q = typeof id === "number" ? ctx.conn.pendingQueries.get(id) : undefined;
  const payload = goBytes(req, "Payload");
  const error = q ? await attempt(() => q.respond(payload)) : IpcError.invalidQueryID;
  ctx.conn.send(ctx.seq, error);
};

const stats: CommandHandler = async (ctx) => {
  const s = await ctx.backend.stats();
  ctx.conn.send(ctx.seq, "", s);
};

const getCoordinate: CommandHandler = async (ctx) => {
  const req = await ctx.body(["Node"]);
  const c = await ctx.backend.getCoordinate(goString(req, "Node"));
  const coord = c
    ? { Adjustment: f64(c.adjustment), Error: f64(c.error), Height: f64(c.height), Vec: c.vec.map(f64) }
    : { Adjustment: f64(0), Error: f64(0), Height: f64(0), Vec: null };
  ctx.conn.send(ctx.seq, "", { Coord: coord, Ok: c !== null });
};

/** Every command of the protocol, by name (the gatekeeping is the server's). */
export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map(Object.entries({
  [Command.handshake]: handshake,
  [Command.auth]: auth,
  [Command.event]: event,
  [Command.forceLeave]: forceLeave,
  [Command.join]: join,
  [Command.members]: membersHandler(false),
  [Command.membersFiltered]: membersHandler(true),
  [Command.stream]: stream,
  [Command.monitor]: monitor,
  [Command.stop]: stop,
  [Command.leave]: leave,
  [Command.installKey]: keyHandler("install"),
  [Command.useKey]: keyHandler("use"),
  [Command.removeKey]: keyHandler("remove"),
  [Command.listKeys]: keyHandler("list"),
  [Command.tags]: tags,
  [Command.query]: query,
  [Command.respond]: respond,
  [Command.stats]: stats,
  [Command.getCoordinate]: getCoordinate,
}));
