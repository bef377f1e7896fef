/**
 * Assembles a real-network {@link Runtime} from the shared pieces: the real
 * clock, TCP on `node:net`, and a runtime-specific UDP binder.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { realClock } from "./clock.ts";
import { type RuntimeOptions, stderrLogger } from "./options.ts";
import { connectNodeTcp, listenNodeTcp } from "./tcp_node.ts";
import type { DatagramHandler, Runtime, UdpSocket } from "./types.ts";

/** Binds a UDP socket the way one runtime does it; `log` receives swallowed errors. */
export type UdpBinder = (host: string, port: number, onMessage: DatagramHandler, log: Logger) => Promise<UdpSocket>;

/** A {@link Runtime} named `name` whose UDP comes from `bindUdp` and everything else is shared. */
export function composeRuntime(name: string, bindUdp: UdpBinder, opts: RuntimeOptions): Runtime {
  const log = opts.logger ?? stderrLogger;
  return {
    name,
    ...realClock,
    bindUdp: (host, port, onMessage) => bindUdp(host, port, onMessage, log),
    listenTcp: (host, port, onConnection) => listenNodeTcp(host, port, onConnection, log),
    connectTcp: (host, port, handlers) => connectNodeTcp(host, port, handlers, log),
  };
}
