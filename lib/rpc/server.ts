/**
 * The agent's RPC ("IPC") server (Go's `AgentIPC`, `agent/ipc.go`): accepts
 * TCP clients through a {@link Runtime}, processes each connection's
 * requests one at a time, and delegates every action to an
 * {@link RpcBackend}. Logs use Serf's wording ("agent.ipc: ...").
 *
 * @module
 */
import type { Fields } from "../codec/fields.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import type { Runtime, TcpConn, TcpListener } from "../runtime/types.ts";
import type { RpcBackend } from "./backend.ts";
import { type CommandContext, COMMANDS, errorText } from "./commands.ts";
import { EOF, IpcConnection, joinHostPort } from "./connection.ts";
import { goString, goUint, has, struct, type U64 } from "./decode.ts";
import { STREAM_BUFFER } from "./pump.ts";
import { DEFAULT_MAX_VALUE_BYTES } from "./reader.ts";
import { Command, IpcError } from "./types.ts";

/** Options of {@link RpcServer.listen}. */
export interface RpcServerOptions {
  runtime: Runtime;
  backend: RpcBackend;
  /** Listen address (default "127.0.0.1"). */
  host?: string;
  /** Listen port (default 7373; 0 picks a free one). */
  port?: number;
  /** `rpc_auth`: when non-empty, clients must `auth` after the handshake. */
  authKey?: string;
  logger?: Logger;
  /** Largest request value accepted; bigger input closes that connection (default 1 MiB). */
  maxValueBytes?: number;
  /** Per-stream/monitor queue size (default 512, as in Go). */
  streamBuffer?: number;
}

/** A request header as Go decodes it into a reused `requestHeader`. */
function decodeHeader(v: unknown, prev: { command: string; seq: U64 }): { command: string; seq: U64 } {
  const m = struct(v, ["Command", "Seq"], "request header");
  return {
    command: has(m, "Command") ? goString(m, "Command") : prev.command,
    seq: has(m, "Seq") ? goUint(m, "Seq", 64) : prev.seq,
  };
}

/**
 * The RPC server.
 *
 * @example
 * ```ts
 * const server = await RpcServer.listen({ runtime, backend, port: 7373 });
 * // ...
 * server.close();
 * ```
 */
export class RpcServer {
  readonly #opts: Required<Omit<RpcServerOptions, "host" | "port">>;
  readonly #clients = new Set<IpcConnection>();
  #listener: TcpListener | null = null;
  #stopped = false;

  private constructor(opts: RpcServerOptions, readonly host: string) {
    this.#opts = {
      runtime: opts.runtime,
      backend: opts.backend,
      authKey: opts.authKey ?? "",
      logger: opts.logger ?? silentLogger,
      maxValueBytes: opts.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
      streamBuffer: opts.streamBuffer ?? STREAM_BUFFER,
    };
  }

  /** Starts listening; rejects when the address cannot be bound. */
  static async listen(opts: RpcServerOptions): Promise<RpcServer> {
    const host = opts.host ?? "127.0.0.1";
    const server = new RpcServer(opts, host);
    server.#listener = await opts.runtime.listenTcp(host, opts.port ?? 7373, (c) => server.#accept(c));
    return server;
  }

  /** The bound port. */
  get port(): number {
    return this.#listener?.port ?? 0;
  }

  /** "host:port" of the listener. */
  get addr(): string {
    return joinHostPort(this.host, this.port);
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Stops listening and closes every client connection (Go's `AgentIPC.Shutdown`). */
  close(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#listener?.close();
    for (const c of this.#clients) c.close();
  }

  #accept(tcp: TcpConn): void {
    if (this.#stopped) return tcp.destroy();
    const conn = new IpcConnection(tcp, this.#opts.runtime, this.#opts.maxValueBytes);
    this.#opts.logger("INFO", `agent.ipc: Accepted client: ${conn.name}`);
    this.#clients.add(conn);
    conn.onClosed(() => this.#clients.delete(conn));
    void this.#serve(conn);
  }

  /** Go's `handleClient`: headers and requests until EOF or an error. */
  async #serve(conn: IpcConnection): Promise<void> {
    const log = this.#opts.logger;
    try {
      while (!conn.closed) {
        let header: { command: string; seq: U64 };
        try {
          const v = await conn.next();
          if (v === EOF) return;
          header = decodeHeader(v, conn.lastHeader);
          conn.lastHeader = header;
        } catch (e) {
          if (!this.#stopped) log("ERR", `agent.ipc: failed to decode request header: ${errorText(e)}`);
          return;
        }
        try {
          await this.#handle(conn, header.command, header.seq);
        } catch (e) {
          log("ERR", `agent.ipc: Failed to evaluate request: ${errorText(e)}`);
          return;
        }
      }
    } finally {
      conn.close();
    }
  }

  /** Go's `handleRequest`: gatekeeping, then dispatch. */
  async #handle(conn: IpcConnection, command: string, seq: U64): Promise<void> {
    if (command !== Command.handshake && conn.version === 0) {
      conn.send(seq, IpcError.handshakeRequired);
      throw new Error(IpcError.handshakeRequired);
    }
    const { authKey, logger } = this.#opts;
    if (authKey !== "" && !conn.didAuth && command !== Command.auth && command !== Command.handshake) {
      logger("WARN", "agent.ipc: Client sending commands before auth");
      // The request body (if any) is deliberately left on the wire, as Go does.
      conn.send(seq, IpcError.authRequired);
      return;
    }
    const handler = COMMANDS.get(command);
    if (!handler) {
      conn.send(seq, IpcError.unsupportedCommand);
      throw new Error(`command '${command}' not recognized`);
    }
    await handler(this.#context(conn, seq));
  }

  #context(conn: IpcConnection, seq: U64): CommandContext {
    const o = this.#opts;
    return {
      conn,
      seq,
      backend: o.backend,
      runtime: o.runtime,
      logger: o.logger,
      authKey: o.authKey,
      streamBuffer: o.streamBuffer,
      body: async (fields: readonly string[]): Promise<Fields> => {
        let v: unknown;
        try {
          v = await conn.next();
        } catch (e) {
          throw new Error(`decode failed: ${errorText(e)}`);
        }
        if (v === EOF) throw new Error("decode failed: EOF");
        try {
          return struct(v, fields, "request body");
        } catch (e) {
          throw new Error(`decode failed: ${errorText(e)}`);
        }
      },
    };
  }
}
