/**
 * The one small interface between the cores/hosts and a runtime: UDP, TCP,
 * timers, clock and randomness. Implemented for Bun, Deno and Node
 * (`node.ts`, `bun.ts`, `deno.ts`) and by the in-memory network with a
 * virtual clock (`memory.ts`). Nothing outside `lib/runtime/` may check which
 * runtime it is on.
 *
 * Everything on the hot path is callback-based and synchronous to call, so
 * the in-memory network can run fully deterministically without promises.
 *
 * @module
 */

/** A cancellable timer. */
export interface Timer {
  /** Stops the timer; idempotent. */
  cancel(): void;
}

/** Receives one datagram. `data` is owned by the callee (already copied). */
export type DatagramHandler = (data: Uint8Array, fromHost: string, fromPort: number) => void;

/** A bound UDP socket. */
export interface UdpSocket {
  /** The bound port (resolved when 0 was asked). */
  readonly port: number;
  /** Sends one datagram; errors (e.g. ICMP unreachable) are swallowed and logged by the adapter. */
  send(data: Uint8Array, host: string, port: number): void;
  /** Closes the socket; idempotent. */
  close(): void;
}

/** Callbacks of a TCP connection. */
export interface StreamHandlers {
  /** Outbound only: the connection is established. */
  onConnect?(): void;
  /** A chunk arrived (owned by the callee). */
  onData(chunk: Uint8Array): void;
  /** The connection ended (peer closed, reset, or local close); `error` when abnormal. Called once. */
  onClose(error?: string): void;
}

/** One TCP connection, inbound or outbound. */
export interface TcpConn {
  readonly remoteHost: string;
  readonly remotePort: number;
  /** Installs the handlers. For inbound connections call it inside the accept callback. */
  setHandlers(h: StreamHandlers): void;
  /** Queues bytes for writing (the adapter buffers; never partial). */
  write(data: Uint8Array): void;
  /** Half-closes after queued writes are flushed. */
  end(): void;
  /** Closes at once. Idempotent. */
  destroy(): void;
}

/** A listening TCP socket. */
export interface TcpListener {
  readonly port: number;
  close(): void;
}

/** The runtime adapter. */
export interface Runtime {
  /** "bun" | "deno" | "node" | "memory". Informational only. */
  readonly name: string;
  /** Milliseconds on a monotonic clock (virtual in the simulator). */
  now(): number;
  /** Runs `fn` after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
  /** Uniform number in [0, 1). */
  random(): number;
  /** Binds UDP. Rejects with a clear message when the port is in use. */
  bindUdp(host: string, port: number, onMessage: DatagramHandler): Promise<UdpSocket>;
  /** Listens on TCP. Rejects with a clear message when the port is in use. */
  listenTcp(host: string, port: number, onConnection: (conn: TcpConn) => void): Promise<TcpListener>;
  /** Starts an outbound connection; failures arrive as `onClose(error)` without `onConnect`. */
  connectTcp(host: string, port: number, handlers: StreamHandlers): TcpConn;
}
