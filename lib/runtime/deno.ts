/**
 * The Deno adapter: `node:dgram` (stable, no `--unstable-net` needed) and
 * `node:net`. Deno's dgram hands out views over 64 KiB buffers; the shared
 * UDP code copies each datagram. No receive buffer size is requested: Deno
 * only uses it as the size of the buffer it allocates per datagram (2 MiB
 * asked = 4 MiB zeroed per packet). (`Deno.listenDatagram` would be ~15%
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
  return composeRuntime(
    "deno",
    {
      // Deno's node:dgram turns a receive-buffer request into a zeroed 4 MiB buffer per datagram.
      bindUdp: (host, port, onMessage, log) => bindNodeUdp(host, port, onMessage, log, { recvBuffer: false }),
      listenTcp: listenNodeTcp,
      connectTcp: connectNodeTcp,
    },
    opts,
  );
}
