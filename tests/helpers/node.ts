/**
 * In-process memberlist nodes for tests: a core with a profile's config on a
 * {@link MemberlistHost}, with recorded events and Serf-style node meta.
 *
 * @module
 */
import { encode } from "../../lib/codec/msgpack.ts";
import type { Logger } from "../../lib/core/log.ts";
import { type HostOptions, MemberlistHost } from "../../lib/host/memberlist_host.ts";
import { bindTransport } from "../../lib/host/transport.ts";
import { bareMemberConfig } from "../../lib/memberlist/config.ts";
import { Memberlist } from "../../lib/memberlist/memberlist.ts";
import type { MemberlistConfig, NodeInfo, NodeStateType } from "../../lib/memberlist/types.ts";
import type { Runtime } from "../../lib/runtime/types.ts";

/** Options of {@link startNode}. */
export interface NodeOptions {
  runtime: Runtime;
  name: string;
  ip?: string;
  port?: number;
  profile?: "lan" | "local" | "wan";
  /** Serf tags to encode as node meta (0xFF + msgpack); default `{}`. */
  tags?: Record<string, string>;
  logger?: Logger;
  host?: HostOptions;
  configure?: (c: MemberlistConfig) => void;
}

/** A started node. */
export interface TestNode {
  readonly name: string;
  readonly host: MemberlistHost;
  readonly core: Memberlist;
  readonly config: MemberlistConfig;
  readonly port: number;
  /** Every event seen: [kind, node name, state]. */
  readonly events: [string, string, NodeStateType][];
  /** The state this node holds for `name`, or undefined. */
  stateOf(name: string): NodeStateType | undefined;
  /** Shuts the host down. */
  stop(): Promise<void>;
}

/** Serf's tag encoding: 0xFF then a msgpack map (gossip dialect). */
export function serfMeta(tags: Record<string, string>): Uint8Array {
  const body = encode(tags, "gossip");
  const out = new Uint8Array(body.length + 1);
  out[0] = 0xff;
  out.set(body, 1);
  return out;
}

/** Binds, creates and starts a node (Serf-compatible Vsn [1,5,2,2,5,5]). */
export async function startNode(o: NodeOptions): Promise<TestNode> {
  const ip = o.ip ?? "127.0.0.1";
  const transport = await bindTransport(o.runtime, ip, o.port ?? 0);
  const config = bareMemberConfig({
    profile: o.profile ?? "local",
    name: o.name,
    random: () => o.runtime.random(),
    logger: o.logger ?? (() => {}),
    ip,
    port: transport.port,
    meta: serfMeta(o.tags ?? {}),
  });
  const events: [string, string, NodeStateType][] = [];
  config.events = {
    notifyJoin: (n: NodeInfo) => events.push(["join", n.name, n.state]),
    notifyLeave: (n: NodeInfo) => events.push(["leave", n.name, n.state]),
    notifyUpdate: (n: NodeInfo) => events.push(["update", n.name, n.state]),
  };
  o.configure?.(config);
  const core = new Memberlist(config, o.runtime.now());
  const host = new MemberlistHost(o.runtime, transport, core, { logger: o.logger, ...o.host });
  host.start();
  return {
    name: o.name,
    host,
    core,
    config,
    port: transport.port,
    events,
    stateOf: (name) => core.allNodes().find((n) => n.name === name)?.state,
    stop: () => host.shutdown(),
  };
}
