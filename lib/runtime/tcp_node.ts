/**
 * TCP on `node:net`, shared by the Node, Deno and Bun adapters. `node:net`
 * buffers writes itself, so a write is never partial.
 *
 * Close semantics (the same in the memory network): when the peer closes
 * (FIN), we flush what we queued, close our side too and then call
 * `onClose()`; a reset or failure gives `onClose(error)` with Go's text.
 *
 * `node:net` is loaded when the first listener or connection is made (see
 * `builtin.ts`).
 *
 * @module
 */
import type { Socket } from "node:net";
import type { Logger } from "../core/log.ts";
import { nodeNet } from "./builtin.ts";
import { ownBytes, plainIp } from "./bytes.ts";
import { dialErrorText, hostPort, listenError, streamErrorText } from "./errors.ts";
import { StreamEvents } from "./stream_events.ts";
import type { StreamHandlers, TcpConn, TcpListener } from "./types.ts";

/** `ip:port` of our end of `sock`. */
function localText(sock: Socket): string {
  return hostPort(plainIp(sock.localAddress), sock.localPort ?? 0);
}

/** A `TcpConn` over a `Socket`. Handler exceptions are logged and end the connection. */
class NodeTcpConn implements TcpConn {
  readonly remoteHost: string;
  readonly remotePort: number;
  #sock: Socket;
  readonly #events: StreamEvents;
  #connected: boolean;
  #error?: string;
  /** Our address as Go prints it, captured while the socket still knows it. */
  #localText = "";

  constructor(sock: Socket, remoteHost: string, remotePort: number, outbound: boolean, log: Logger) {
    this.#sock = sock;
    this.#events = new StreamEvents(log, () => sock.destroy());
    this.remoteHost = remoteHost;
    this.remotePort = remotePort;
    this.#connected = !outbound;
    sock.on("connect", () => {
      this.#connected = true;
      this.#localText = localText(sock);
      sock.setNoDelay(true);
      this.#events.call((h) => h.onConnect?.());
    });
    sock.on("data", (chunk: Uint8Array) => this.#events.data(ownBytes(chunk)));
    sock.on("error", (err) => {
      this.#error ??= this.#connected
        ? streamErrorText(this.#localText || localText(sock), hostPort(this.remoteHost, this.remotePort), err)
        : dialErrorText(this.remoteHost, this.remotePort, err);
    });
    sock.on("close", () => this.#events.close(this.#error));
    if (!outbound) {
      this.#localText = localText(sock);
      sock.setNoDelay(true);
    }
  }

  setHandlers(h: StreamHandlers): void {
    this.#events.setHandlers(h);
  }

  write(data: Uint8Array): void {
    if (this.#events.closed || this.#sock.destroyed || this.#sock.writableEnded) return;
    this.#sock.write(data);
  }

  end(): void {
    if (!this.#sock.destroyed) this.#sock.end();
  }

  destroy(): void {
    this.#sock.destroy();
  }
}

/**
 * Listens on `host:port`. Rejects with Go's text
 * (`listen tcp 127.0.0.1:7946: bind: address already in use`); later
 * listener errors are logged.
 */
export function listenNodeTcp(
  host: string,
  port: number,
  onConnection: (conn: TcpConn) => void,
  log: Logger,
): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    let listening = false;
    const server = nodeNet().createServer((sock) => {
      const conn = new NodeTcpConn(sock, plainIp(sock.remoteAddress), sock.remotePort ?? 0, false, log);
      try {
        onConnection(conn);
      } catch (err) {
        log("ERR", `runtime: TCP accept handler failed: ${(err as Error)?.stack ?? err}`);
        sock.destroy();
      }
    });
    server.on("error", (err) => {
      if (listening) log("ERR", `runtime: Error accepting TCP connection: ${err.message}`);
      else reject(listenError("tcp", host, port, err));
    });
    server.once("listening", () => {
      listening = true;
      const addr = server.address();
      const bound = typeof addr === "object" && addr ? addr.port : port;
      let closed = false;
      resolve({
        port: bound,
        close() {
          if (closed) return;
          closed = true;
          server.close();
        },
      });
    });
    try {
      server.listen({ host, port, exclusive: true });
    } catch (err) {
      reject(listenError("tcp", host, port, err));
    }
  });
}

/** Connects to `host:port`; failures arrive as `onClose(error)` (Go's `dial tcp ...` text) without `onConnect`. */
export function connectNodeTcp(host: string, port: number, handlers: StreamHandlers, log: Logger): TcpConn {
  let sock: Socket;
  try {
    sock = nodeNet().connect({ host, port });
  } catch (err) {
    // Invalid arguments (e.g. a bad port) throw synchronously; report them like any dial failure.
    return failedConn(host, port, handlers, dialErrorText(host, port, err));
  }
  const conn = new NodeTcpConn(sock, host, port, true, log);
  conn.setHandlers(handlers);
  return conn;
}

/** A connection that never was: `onClose(error)` on the next turn of the event loop. */
function failedConn(host: string, port: number, handlers: StreamHandlers, error: string): TcpConn {
  let h = handlers;
  setTimeout(() => h.onClose(error), 0);
  return {
    remoteHost: host,
    remotePort: port,
    setHandlers(next) {
      h = next;
    },
    write() {},
    end() {},
    destroy() {},
  };
}
