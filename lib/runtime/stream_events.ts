/**
 * The event side of a real TCP connection, shared by the socket adapters
 * (`tcp_node.ts`, `tcp_bun.ts`): data and the single close reach the
 * connection's {@link StreamHandlers} in order, events that arrive before
 * `setHandlers` are kept until then, nothing is delivered after the close,
 * and a handler that throws is logged and ends the connection.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { StreamHandlers } from "./types.ts";

type Pending = { data: Uint8Array } | { close: string | undefined };

/**
 * Delivers one connection's events to its handlers.
 *
 * @example
 * ```ts
 * const events = new StreamEvents(console.error, () => socket.destroy());
 * socket.on("data", (b) => events.data(b));
 * socket.on("close", () => events.close(undefined));
 * ```
 */
export class StreamEvents {
  #handlers?: StreamHandlers;
  #pending: Pending[] = [];
  #closed = false;

  /** `abort` ends the connection after a handler threw. */
  constructor(readonly log: Logger, readonly abort: () => void) {}

  /** Whether `onClose` has been delivered. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Attaches the handlers and delivers what arrived before. */
  setHandlers(h: StreamHandlers): void {
    this.#handlers = h;
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) this.#emit(p);
  }

  /** A chunk arrived (the caller hands over a buffer of its own). */
  data(chunk: Uint8Array): void {
    this.#emit({ data: chunk });
  }

  /** The connection is gone; `error` when abnormal. */
  close(error: string | undefined): void {
    this.#emit({ close: error });
  }

  /** Runs `fn` with the handlers, if attached; a throw is logged and aborts the connection. */
  call(fn: (h: StreamHandlers) => void): void {
    const h = this.#handlers;
    if (!h) return;
    try {
      fn(h);
    } catch (err) {
      this.log("ERR", `runtime: TCP stream handler failed: ${(err as Error)?.stack ?? err}`);
      this.abort();
    }
  }

  #emit(p: Pending): void {
    if (this.#closed) return;
    if (!this.#handlers) {
      this.#pending.push(p);
      return;
    }
    if ("data" in p) {
      const chunk = p.data;
      this.call((h) => h.onData(chunk));
    } else {
      this.#closed = true;
      this.call((h) => h.onClose(p.close));
    }
  }
}
