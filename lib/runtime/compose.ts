/**
 * Assembles a real-network {@link Runtime} from the shared pieces: the real
 * clock plus one runtime's UDP binder and TCP functions.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { realClock } from "./clock.ts";
import { type RuntimeOptions, stderrLogger } from "./options.ts";
import type { DatagramHandler, Runtime, StreamHandlers, TcpConn, TcpListener, UdpSocket } from "./types.ts";

/** Binds a UDP socket the way one runtime does it; `log` receives swallowed errors. */
export type UdpBinder = (host: string, port: number, onMessage: DatagramHandler, log: Logger) => Promise<UdpSocket>;

/** The socket functions of one runtime; each gets the adapter's logger last. */
export interface NetFunctions {
  /** Binds UDP. */
  bindUdp: UdpBinder;
  /** Listens on TCP. */
  listenTcp(host: string, port: number, onConnection: (conn: TcpConn) => void, log: Logger): Promise<TcpListener>;
  /** Starts an outbound TCP connection. */
  connectTcp(host: string, port: number, handlers: StreamHandlers, log: Logger): TcpConn;
}

/** A {@link Runtime} named `name` on the real clock whose sockets come from `net`. */
export function composeRuntime(name: string, net: NetFunctions, opts: RuntimeOptions): Runtime {
  const log = opts.logger ?? stderrLogger;
  return {
    name,
    ...realClock,
    bindUdp: (host, port, onMessage) => net.bindUdp(host, port, onMessage, log),
    listenTcp: (host, port, onConnection) => net.listenTcp(host, port, onConnection, log),
    connectTcp: (host, port, handlers) => net.connectTcp(host, port, handlers, log),
  };
}
