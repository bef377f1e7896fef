/**
 * The Deno adapter: `node:dgram` (stable, no `--unstable-net` needed) and
 * `node:net`. Deno's dgram hands out views over 64 KiB buffers; the shared
 * UDP code copies each datagram. (`Deno.listenDatagram` would be ~15%
 * faster but needs `--unstable-net`; not used.)
 *
 * @module
 */
import { composeRuntime } from "./compose.ts";
import type { RuntimeOptions } from "./options.ts";
import { connectNodeTcp, listenNodeTcp } from "./tcp_node.ts";
import type { Runtime } from "./types.ts";
import { bindNodeUdp } from "./udp_node.ts";

/** A {@link Runtime} for Deno. */
export function createDenoRuntime(opts: RuntimeOptions = {}): Runtime {
  return composeRuntime("deno", { bindUdp: bindNodeUdp, listenTcp: listenNodeTcp, connectTcp: connectNodeTcp }, opts);
}
