/**
 * TCP on `Bun.listen`/`Bun.connect`, used by the Bun adapter so that a Bun
 * agent never loads `node:net` (~5 MiB of resident memory in a compiled
 * binary; also a faster path, see runtimes.md §2).
 *
 * Same behaviour as `tcp_node.ts` (and the memory network):
 * - `write` is never partial: `Bun.Socket.write` takes only what the kernel
 *   accepts, so each connection queues the rest and resumes on `drain`;
 * - `end()` half-closes (`shutdown()`, i.e. SHUT_WR) once the queue is
 *   flushed, and we keep reading (`Socket.end()` would close both ways and
 *   lose the peer's reply);
 * - a FIN from the peer flushes our queue and closes our side too;
 * - `onClose` is called exactly once, never from inside a call into the
 *   connection, with Go's text for resets and failed dials; `destroy()`
 *   reports it at once, even while the connect is still pending.
 *
 * Bun APIs are reached through `globalThis.Bun` with the minimal local types
 * below, so this file type-checks under Deno without `@types/bun`.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { ownBytes, plainIp } from "./bytes.ts";
import { dialErrorText, hostPort, listenError, streamErrorText } from "./errors.ts";
import { StreamEvents } from "./stream_events.ts";
import type { StreamHandlers, TcpConn, TcpListener } from "./types.ts";

/** The part of Bun's `Socket` we use; `data` holds our connection object. */
interface BunSocket {
  data: BunTcpConn | undefined;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  /** Bytes the kernel took (possibly fewer than given), or -1 when closed. */
  write(data: Uint8Array): number;
  /** Half-close: FIN after what was written; the socket stays readable. */
  shutdown(): void;
  /** Closes at once (RST); calls the `close` handler synchronously. */
  terminate(): void;
  setNoDelay(on: boolean): boolean;
}

/** The part of Bun's `SocketHandler` we use. */
interface BunSocketHandler {
  binaryType: "uint8array";
  open(s: BunSocket): void;
  data(s: BunSocket, data: Uint8Array): void;
  drain(s: BunSocket): void;
  end(s: BunSocket): void;
  close(s: BunSocket, error?: Error): void;
  error(s: BunSocket, error: Error): void;
  connectError?(s: BunSocket, error: Error): void;
}

/** The part of Bun's TCP listener we use. */
interface BunListener {
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

/** The part of the `Bun` global we use. */
interface BunTcpGlobal {
  listen(options: { hostname: string; port: number; allowHalfOpen: true; socket: BunSocketHandler }): BunListener;
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: true;
    data: BunTcpConn;
    socket: BunSocketHandler;
  }): Promise<BunSocket>;
}

function bunGlobal(): BunTcpGlobal {
  const bun = (globalThis as { Bun?: BunTcpGlobal }).Bun;
  if (!bun) throw new Error("tcp_bun: not running on Bun");
  return bun;
}

/** A `TcpConn` over a Bun socket. Handler exceptions are logged and end the connection. */
class BunTcpConn implements TcpConn {
  readonly remoteHost: string;
  readonly remotePort: number;
  #sock?: BunSocket;
  readonly #events: StreamEvents;
  /** Bytes the kernel has not taken yet, oldest first. */
  #queue: Uint8Array[] = [];
  #ending = false;
  #shut = false;
  #destroyed = false;
  /** `onClose` was delivered or is scheduled. */
  #closing = false;
  #localText = "";

  constructor(remoteHost: string, remotePort: number, log: Logger) {
    this.remoteHost = remoteHost;
    this.remotePort = remotePort;
    this.#events = new StreamEvents(log, () => this.destroy());
  }

  /** The socket is usable (inbound: accepted; outbound: connected). */
  opened(sock: BunSocket, outbound: boolean): void {
    if (this.#destroyed) {
      sock.data = undefined;
      sock.terminate();
      return;
    }
    this.#sock = sock;
    sock.data = this;
    sock.setNoDelay(true);
    this.#localText = hostPort(plainIp(sock.localAddress), sock.localPort ?? 0);
    if (outbound) this.#events.call((h) => h.onConnect?.());
    this.flush();
  }

  setHandlers(h: StreamHandlers): void {
    this.#events.setHandlers(h);
  }

  write(data: Uint8Array): void {
    if (this.#closing || this.#destroyed || this.#ending || data.length === 0) return;
    if (this.#sock && this.#queue.length === 0) {
      const n = this.#sock.write(data);
      if (n >= data.length || n < 0) return;
      data = data.subarray(n);
    }
    this.#queue.push(data);
  }

  end(): void {
    if (this.#ending || this.#destroyed) return;
    this.#ending = true;
    this.flush();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#queue = [];
    const sock = this.#sock;
    if (sock) {
      sock.data = undefined;
      sock.terminate();
    }
    this.gone(undefined);
  }

  /** Writes queued bytes until the kernel pushes back; then half-closes if `end()` was asked. */
  flush(): void {
    const sock = this.#sock;
    if (!sock || this.#destroyed || this.#shut) return;
    while (this.#queue.length) {
      const head = this.#queue[0];
      const n = sock.write(head);
      if (n < 0) {
        this.#queue = [];
        return;
      }
      if (n < head.length) {
        this.#queue[0] = head.subarray(n);
        return;
      }
      this.#queue.shift();
    }
    if (this.#ending) {
      this.#shut = true;
      sock.shutdown();
    }
  }

  /** A chunk arrived. */
  received(chunk: Uint8Array): void {
    this.#events.data(ownBytes(chunk));
  }

  /** The peer sent FIN: flush what we queued and close our side too. */
  peerEnded(): void {
    this.end();
  }

  /** The connection is gone; `onClose(error)` follows on a microtask, once. */
  gone(error: string | undefined): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#queue = [];
    queueMicrotask(() => this.#events.close(error));
  }

  /** Go's text for an error on this established connection. */
  streamError(err: unknown): string {
    return streamErrorText(this.#localText, hostPort(this.remoteHost, this.remotePort), err);
  }
}

/** Socket handlers shared by every connection (Bun's model); `s.data` is the connection. */
function socketHandlers(log: Logger, onOpen: (s: BunSocket) => void): BunSocketHandler {
  return {
    binaryType: "uint8array",
    open: onOpen,
    data: (s, data) => s.data?.received(data),
    drain: (s) => s.data?.flush(),
    end: (s) => s.data?.peerEnded(),
    close: (s, error) => {
      const conn = s.data;
      if (!conn) return;
      s.data = undefined;
      conn.gone(error ? conn.streamError(error) : undefined);
    },
    // Bun reports here what a handler threw; ours catch everything, so this is unexpected.
    error: (_s, error) => log("ERR", `runtime: TCP socket error: ${error?.message ?? error}`),
  };
}

/**
 * Listens on `host:port` with `Bun.listen`. Rejects with Go's text
 * (`listen tcp 127.0.0.1:7946: bind: address already in use`).
 */
export function listenBunTcp(
  host: string,
  port: number,
  onConnection: (conn: TcpConn) => void,
  log: Logger,
): Promise<TcpListener> {
  const accept = (s: BunSocket): void => {
    const conn = new BunTcpConn(plainIp(s.remoteAddress), s.remotePort ?? 0, log);
    conn.opened(s, false);
    try {
      onConnection(conn);
    } catch (err) {
      log("ERR", `runtime: TCP accept handler failed: ${(err as Error)?.stack ?? err}`);
      conn.destroy();
    }
  };
  let listener: BunListener;
  try {
    listener = bunGlobal().listen({ hostname: host, port, allowHalfOpen: true, socket: socketHandlers(log, accept) });
  } catch (err) {
    return Promise.reject(listenError("tcp", host, port, err));
  }
  let closed = false;
  return Promise.resolve({
    port: listener.port,
    close() {
      if (closed) return;
      closed = true;
      // Like node's server.close(): stop accepting, leave established connections alone.
      listener.stop(false);
    },
  });
}

/**
 * Connects with `Bun.connect`; failures arrive as `onClose(error)` (Go's
 * `dial tcp ...` text) without `onConnect`.
 */
export function connectBunTcp(host: string, port: number, h: StreamHandlers, log: Logger): TcpConn {
  const conn = new BunTcpConn(host, port, log);
  conn.setHandlers(h);
  const fail = (err: unknown) => conn.gone(dialErrorText(host, port, err));
  const socket: BunSocketHandler = {
    ...socketHandlers(log, (s) => conn.opened(s, true)),
    connectError: (_s, err) => fail(err),
  };
  try {
    // The promise rejects after connectError has run; `gone` reports only the first.
    bunGlobal().connect({ hostname: host, port, allowHalfOpen: true, data: conn, socket }).catch(fail);
  } catch (err) {
    // Invalid arguments (e.g. a bad port) may throw synchronously; report them like any dial failure.
    fail(err);
  }
  return conn;
}
