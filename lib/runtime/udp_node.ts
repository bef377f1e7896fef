/**
 * UDP on `node:dgram`, used by the Node and Deno adapters (and available to
 * Bun as a fallback). Works the same in all three runtimes. `node:dgram` is
 * loaded when the first socket is bound (see `builtin.ts`).
 *
 * @module
 */
import type { Socket } from "node:dgram";
import type { Logger } from "../core/log.ts";
import { nodeDgram } from "./builtin.ts";
import { ownBytes, plainIp } from "./bytes.ts";
import { errorCode, hostPort, listenError } from "./errors.ts";
import { isIPv6 } from "./ip.ts";
import type { DatagramHandler, UdpSocket } from "./types.ts";

/** memberlist's `udpRecvBufSize`: the receive buffer we ask for (halving until accepted). */
export const UDP_RECV_BUF = 2 * 1024 * 1024;

/** Options of {@link bindNodeUdp}. */
export interface NodeUdpOptions {
  /**
   * Ask for a {@link UDP_RECV_BUF} receive buffer (default true). Deno's
   * dgram does not pass the size to the kernel; it allocates a buffer of
   * twice that size for every datagram received instead.
   */
  recvBuffer?: boolean;
}

/**
 * Binds a `node:dgram` socket on `host:port`. Rejects with Go's text
 * (`listen udp 127.0.0.1:7946: bind: address already in use`). Afterwards
 * socket errors and exceptions thrown by `onMessage` are logged, never fatal.
 */
export function bindNodeUdp(
  host: string,
  port: number,
  onMessage: DatagramHandler,
  log: Logger,
  opts: NodeUdpOptions = {},
): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    let sock: Socket;
    try {
      sock = nodeDgram().createSocket({ type: isIPv6(host) ? "udp6" : "udp4" });
    } catch (err) {
      reject(listenError("udp", host, port, err));
      return;
    }
    let bound = false;
    sock.on("error", (err) => {
      if (!bound) {
        try {
          sock.close();
        } catch { /* already closed */ }
        reject(listenError("udp", host, port, err));
      } else if (errorCode(err) !== "ECONNREFUSED") {
        log("ERR", `runtime: Error reading UDP packet: ${err.message}`);
      }
    });
    sock.on("message", (msg, rinfo) => {
      try {
        onMessage(ownBytes(msg), plainIp(rinfo.address), rinfo.port);
      } catch (err) {
        log("ERR", `runtime: UDP packet handler failed: ${(err as Error)?.stack ?? err}`);
      }
    });
    sock.once("listening", () => {
      bound = true;
      if (opts.recvBuffer ?? true) setRecvBuffer(sock);
      resolve(new NodeUdpSocket(sock, log));
    });
    try {
      sock.bind({ address: host, port, exclusive: true });
    } catch (err) {
      reject(listenError("udp", host, port, err));
    }
  });
}

/** Best effort, like memberlist's `setUDPRecvBuf` (some runtimes lack the call). */
function setRecvBuffer(sock: Socket): void {
  for (let size = UDP_RECV_BUF; size >= 65536; size >>= 1) {
    try {
      sock.setRecvBufferSize(size);
      return;
    } catch { /* try smaller */ }
  }
}

class NodeUdpSocket implements UdpSocket {
  readonly port: number;
  #sock: Socket;
  #log: Logger;
  #closed = false;

  constructor(sock: Socket, log: Logger) {
    this.#sock = sock;
    this.#log = log;
    this.port = sock.address().port;
  }

  /**
   * Sends one datagram. Bun's dgram fails a send with ECONNREFUSED, without
   * sending it, when an ICMP port-unreachable from an earlier send is
   * pending: that send is retried once, and such errors are never logged.
   */
  send(data: Uint8Array, host: string, port: number, retried = false): void {
    if (this.#closed) return;
    try {
      this.#sock.send(data, port, host, (err) => {
        if (!err) return;
        if (errorCode(err) !== "ECONNREFUSED") this.#warn(host, port, err);
        else if (!retried) this.send(data, host, port, true);
      });
    } catch (err) {
      this.#warn(host, port, err);
    }
  }

  #warn(host: string, port: number, err: unknown): void {
    this.#log("WARN", `runtime: UDP send to ${hostPort(host, port)} failed: ${(err as Error)?.message ?? err}`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#sock.close();
    } catch { /* already closed */ }
  }
}
