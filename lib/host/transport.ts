/**
 * Binds memberlist's pair of sockets — UDP and TCP on the same port — through
 * a {@link Runtime}, as memberlist's `NetTransport` does: TCP first (port 0
 * picks a free port), then UDP on the same number.
 *
 * @module
 */
import type { DatagramHandler, Runtime, TcpConn, TcpListener, UdpSocket } from "../runtime/types.ts";

/** A bound UDP+TCP pair. Incoming traffic goes to the handlers the host installs. */
export interface Transport {
  /** The runtime the sockets belong to. */
  readonly runtime: Runtime;
  /** The bound IP text. */
  readonly ip: string;
  /** The port both sockets are bound to. */
  readonly port: number;
  readonly udp: UdpSocket;
  readonly tcp: TcpListener;
  /** Receives datagrams; packets arriving while unset are dropped. */
  onPacket?: DatagramHandler;
  /** Receives accepted connections; connections arriving while unset are closed. */
  onConnection?: (conn: TcpConn) => void;
  /** Closes both sockets; idempotent. */
  close(): void;
}

/** How many random ports to try when asked for port 0 and UDP's twin is taken. */
const PORT_ATTEMPTS = 10;

/**
 * Binds TCP and UDP on `ip:port`. With port 0 a free port is chosen for
 * both (retrying when the TCP port's UDP twin is taken). Rejects with the
 * runtime's message when the port is in use.
 *
 * @example
 * ```ts
 * const t = await bindTransport(runtime, "127.0.0.1", 0);
 * t.onPacket = (data, host, port) => {};
 * ```
 */
export async function bindTransport(runtime: Runtime, ip: string, port: number): Promise<Transport> {
  const attempts = port === 0 ? PORT_ATTEMPTS : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await bindOnce(runtime, ip, port);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

async function bindOnce(runtime: Runtime, ip: string, port: number): Promise<Transport> {
  // Assigned once below, but read by the callbacks before that (a connection may arrive while UDP binds).
  // deno-lint-ignore prefer-const
  let transport: Transport | undefined;
  const tcp = await runtime.listenTcp(ip, port, (conn) => {
    if (transport?.onConnection) transport.onConnection(conn);
    else conn.destroy();
  });
  let udp: UdpSocket;
  try {
    udp = await runtime.bindUdp(ip, tcp.port, (data, host, fromPort) => {
      transport?.onPacket?.(data, host, fromPort);
    });
  } catch (e) {
    tcp.close();
    throw e;
  }
  let closed = false;
  transport = {
    runtime,
    ip,
    port: tcp.port,
    udp,
    tcp,
    close() {
      if (closed) return;
      closed = true;
      udp.close();
      tcp.close();
    },
  };
  return transport;
}
