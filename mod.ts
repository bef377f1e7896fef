/**
 * serf-ts: HashiCorp Serf for Deno and Bun.
 *
 * Embed a Serf agent in your program, or drive a running agent (ours or
 * HashiCorp's) over its RPC port. Import from a URL or a local path; the
 * module has no dependencies beyond `node:` built-ins.
 *
 * @example Embed an agent and watch the cluster
 * ```ts
 * import { startAgent } from "./mod.ts";
 *
 * const node = await startAgent({ nodeName: "web-1", bind: "127.0.0.1:7946", tags: { role: "web" } });
 * await node.join(["127.0.0.1:7947"]);
 * for await (const event of node.events()) {
 *   if (event.type === "member-failed") console.log("lost", event.members.map((m) => m.name));
 * }
 * ```
 *
 * @example Drive an agent over RPC
 * ```ts
 * import { RpcClient } from "./mod.ts";
 *
 * const client = await RpcClient.connect("127.0.0.1:7373");
 * for (const m of await client.members()) console.log(m.name, m.status);
 * await client.userEvent("deploy", new TextEncoder().encode("v42"), true);
 * client.close();
 * ```
 *
 * @module
 */

export { EmbeddedAgent, type EmbedOptions, startAgent } from "./lib/agent/embed.ts";
export { type AgentConfig, defaultConfig } from "./lib/agent/config.ts";
export {
  type Coordinate,
  type KeyResponse,
  type QueryParams as RpcQueryParams,
  type QueryRecord,
  RpcClient,
  RpcError,
  type RpcMember,
  type StreamHandle,
} from "./lib/rpc/client.ts";
export type { Member, MemberEvent, MemberStatus, QueryEvent, SerfEvent, UserEvent } from "./lib/serf/types.ts";
export type { QueryParams, QueryResponse } from "./lib/serf/query.ts";

// The sans-IO cores, for custom hosts and simulations.
export { Serf } from "./lib/serf/serf.ts";
export { defaultSerfConfig, type SerfConfig } from "./lib/serf/config.ts";
export { Memberlist } from "./lib/memberlist/memberlist.ts";
export { defaultLanConfig, defaultLocalConfig, defaultWanConfig } from "./lib/memberlist/config.ts";
export type { Address, MemberlistConfig, NodeInfo, Output } from "./lib/memberlist/types.ts";
export { MemberlistHost } from "./lib/host/memberlist_host.ts";
export { bindTransport } from "./lib/host/transport.ts";
export { currentRuntime } from "./lib/runtime/detect.ts";
export { MemoryNetwork } from "./lib/runtime/memory.ts";
export type { Runtime } from "./lib/runtime/types.ts";
export { Simulator } from "./lib/sim/simulator.ts";
