/**
 * The Node adapter: `node:dgram` + `node:net` + `setTimeout`. Uses only
 * `node:` modules, so it also runs unchanged on Deno and Bun. The modules are
 * loaded when the first socket is opened (see `builtin.ts`).
 *
 * @module
 */
import { composeRuntime } from "./compose.ts";
import type { RuntimeOptions } from "./options.ts";
import { connectNodeTcp, listenNodeTcp } from "./tcp_node.ts";
import type { Runtime } from "./types.ts";
import { bindNodeUdp } from "./udp_node.ts";

/**
 * A {@link Runtime} on `node:` built-ins.
 *
 * @example
 * ```ts
 * const rt = createNodeRuntime();
 * const udp = await rt.bindUdp("127.0.0.1", 0, (data, host, port) => {});
 * ```
 */
export function createNodeRuntime(opts: RuntimeOptions = {}): Runtime {
  return composeRuntime("node", { bindUdp: bindNodeUdp, listenTcp: listenNodeTcp, connectTcp: connectNodeTcp }, opts);
}
