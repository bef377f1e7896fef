/**
 * The Bun adapter: UDP on `Bun.udpSocket` and TCP on `Bun.listen`/
 * `Bun.connect` (`tcp_bun.ts`): lower latency than `node:dgram`/`node:net`,
 * and neither module is loaded, which keeps a compiled agent smaller in
 * memory (`node:dns` is loaded only if a datagram goes to a host name).
 *
 * Bun APIs are reached through `globalThis.Bun` with the minimal local types
 * below, so this file type-checks under Deno without `@types/bun`.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { nodeDns } from "./builtin.ts";
import { ownBytes, plainIp } from "./bytes.ts";
import { composeRuntime } from "./compose.ts";
import { errorCode, hostPort, listenError } from "./errors.ts";
import { ipVersion } from "./ip.ts";
import type { RuntimeOptions } from "./options.ts";
import { connectBunTcp, listenBunTcp } from "./tcp_bun.ts";
import type { DatagramHandler, Runtime, UdpSocket } from "./types.ts";

/** The part of Bun's `udp.Socket` we use. */
interface BunUdpSocket {
  readonly port: number;
  readonly closed: boolean;
  /** false = kernel buffer full; `drain` fires when sending may resume. Throws when closed or too big. */
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

/** The part of Bun's `SocketHandler` for UDP we use. */
interface BunUdpHandlers {
  data(socket: BunUdpSocket, data: Uint8Array, port: number, address: string): void;
  drain(socket: BunUdpSocket): void;
  error(this: BunUdpSocket, err: Error): void;
}

/** The part of the `Bun` global we use. */
interface BunGlobal {
  udpSocket(options: {
    hostname: string;
    port: number;
    binaryType: "uint8array";
    socket: BunUdpHandlers;
  }): Promise<BunUdpSocket>;
}

/** Datagrams held while the kernel buffer is full; beyond this they are dropped (it is UDP). */
const MAX_QUEUED = 4096;

function bunGlobal(): BunGlobal | undefined {
  return (globalThis as { Bun?: BunGlobal }).Bun;
}

/**
 * A {@link Runtime} for Bun. Throws when not running on Bun.
 *
 * @example
 * ```ts
 * const rt = createBunRuntime({ logger: (level, msg) => console.log(level, msg) });
 * ```
 */
export function createBunRuntime(opts: RuntimeOptions = {}): Runtime {
  if (!bunGlobal()) throw new Error("createBunRuntime: not running on Bun");
  return composeRuntime("bun", { bindUdp: bindBunUdp, listenTcp: listenBunTcp, connectTcp: connectBunTcp }, opts);
}

/**
 * Binds `Bun.udpSocket`. Its `error` handler is mandatory: Bun reports ICMP
 * port-unreachable (`ECONNREFUSED`) even for unconnected sends, and an
 * unhandled one makes the process exit 1. Those are ignored (Go never sees
 * them); other errors are logged.
 */
export async function bindBunUdp(
  host: string,
  port: number,
  onMessage: DatagramHandler,
  log: Logger,
): Promise<UdpSocket> {
  const bun = bunGlobal();
  if (!bun) throw new Error("bindBunUdp: not running on Bun");
  const state: { udp?: BunUdp } = {};
  const handlers: BunUdpHandlers = {
    data(_sock, data, fromPort, fromHost) {
      try {
        onMessage(ownBytes(data), plainIp(fromHost), fromPort);
      } catch (err) {
        log("ERR", `runtime: UDP packet handler failed: ${(err as Error)?.stack ?? err}`);
      }
    },
    drain() {
      state.udp?.flush();
    },
    error(err) {
      if (errorCode(err) === "ECONNREFUSED") return;
      log("ERR", `runtime: Error reading UDP packet: ${err?.message ?? err}`);
    },
  };
  let sock: BunUdpSocket;
  try {
    sock = await bun.udpSocket({ hostname: host, port, binaryType: "uint8array", socket: handlers });
  } catch (err) {
    throw listenError("udp", host, port, err);
  }
  state.udp = new BunUdp(sock, log);
  return state.udp;
}

/** `UdpSocket` over a Bun socket, with a small queue for backpressure. */
class BunUdp implements UdpSocket {
  readonly port: number;
  #sock: BunUdpSocket;
  #log: Logger;
  #queue: Array<[Uint8Array, number, string]> = [];

  constructor(sock: BunUdpSocket, log: Logger) {
    this.#sock = sock;
    this.#log = log;
    this.port = sock.port;
  }

  send(data: Uint8Array, host: string, port: number): void {
    if (this.#sock.closed) return;
    if (ipVersion(host) !== 0) {
      this.#enqueue(data, port, host);
      return;
    }
    nodeDns().lookup(host, (err, address) => {
      if (err) this.#log("WARN", `runtime: UDP send to ${hostPort(host, port)} failed: ${err.message}`);
      else if (!this.#sock.closed) this.#enqueue(data, port, address);
    });
  }

  close(): void {
    this.#queue = [];
    if (!this.#sock.closed) this.#sock.close();
  }

  /** Sends queued datagrams until the kernel pushes back again. */
  flush(): void {
    while (this.#queue.length && !this.#sock.closed) {
      const [data, port, host] = this.#queue[0];
      if (!this.#trySend(data, port, host)) return;
      this.#queue.shift();
    }
  }

  #enqueue(data: Uint8Array, port: number, host: string): void {
    if (this.#queue.length === 0 && this.#trySend(data, port, host)) return;
    if (this.#queue.length >= MAX_QUEUED) {
      this.#log("WARN", `runtime: UDP send queue full, dropping packet to ${hostPort(host, port)}`);
      return;
    }
    this.#queue.push([data, port, host]);
  }

  /**
   * false only on backpressure; errors are logged and count as done. Bun
   * reports a pending ICMP error (from an earlier send to a closed port) by
   * failing the next send with ECONNREFUSED without sending it, so that
   * one is retried once, and never logged.
   */
  #trySend(data: Uint8Array, port: number, host: string): boolean {
    for (let attempt = 0;; attempt++) {
      try {
        return this.#sock.send(data, port, host);
      } catch (err) {
        const refused = errorCode(err) === "ECONNREFUSED";
        if (refused && attempt === 0) continue;
        if (!refused) {
          this.#log("WARN", `runtime: UDP send to ${hostPort(host, port)} failed: ${(err as Error)?.message ?? err}`);
        }
        return true;
      }
    }
  }
}
