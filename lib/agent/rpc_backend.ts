/**
 * The agent's side of the RPC protocol: an `RpcBackend` over an `Agent`.
 *
 * @module
 */
import type { AgentLog } from "./logging.ts";
import type { Agent } from "./agent.ts";
import { type AgentConfig, splitHostPort } from "./config.ts";
import { agentStats } from "./stats.ts";
import { RpcServer } from "../rpc/server.ts";
import type { Runtime } from "../runtime/types.ts";
import type { KeyOp, KeyResult, QuerySink, RpcBackend, RpcEvent } from "../rpc/backend.ts";
import type { Coordinate, QueryParams, RpcMember } from "../rpc/types.ts";
import type { Member, SerfEvent } from "../serf/types.ts";
import { runKeyOperation } from "./keys.ts";

/** Serf's member record as the RPC sends it (same fields). */
function toRpcMember(m: Member): RpcMember {
  return { ...m, tags: { ...m.tags } };
}

/** Maps a Serf event onto the RPC's event record; undefined for events streams never see. */
export function toRpcEvent(e: SerfEvent, now: () => number): RpcEvent | undefined {
  if (e.type === "user") {
    return { type: "user", ltime: e.ltime, name: e.name, payload: e.payload, coalesce: e.coalesce };
  }
  if (e.type === "query") {
    const q = e.query;
    return {
      type: "query",
      ltime: q.ltime,
      name: q.name,
      payload: q.payload,
      deadline: q.deadline ?? now(),
      respond: (payload) => q.respond(payload, now()),
    };
  }
  return { type: "member", event: e.type, members: e.members.map(toRpcMember) };
}

/**
 * Builds the backend the RPC server calls.
 *
 * @example
 * ```ts
 * const server = await RpcServer.listen({ runtime, backend: agentBackend(agent, log, stats), port: 7373 });
 * ```
 */
export function agentBackend(
  agent: Agent,
  log: AgentLog,
  stats: () => Record<string, Record<string, string>>,
): RpcBackend {
  const now = () => agent.host.runtime.now();
  return {
    members: () => agent.members().map(toRpcMember),
    join: (addrs, replay) => agent.join(addrs, replay),
    leave: () => agent.leave(),
    shutdown: () => agent.shutdown(),
    forceLeave: (node, prune) => agent.forceLeave(node, prune),
    localTags: () => ({ ...agent.localMember().tags }),
    setTags: (tags) => agent.setTags(tags),
    stats,
    getCoordinate: (node): Coordinate | null => agent.serf.getCachedCoordinate(node) ?? null,
    userEvent: (name, payload, coalesce) => agent.userEvent(name, payload, coalesce),
    query: (params: QueryParams, sink: QuerySink) => {
      const resp = agent.query(params.name, params.payload, {
        filterNodes: params.filterNodes,
        filterTags: params.filterTags,
        requestAck: params.requestAck,
        relayFactor: params.relayFactor,
        timeout: params.timeoutMs,
      });
      resp.onAck = (from) => sink.ack(from);
      resp.onResponse = (r) => sink.response(r.from, r.payload);
      resp.onClose = () => sink.done();
      for (const a of resp.acks ?? []) sink.ack(a);
      for (const r of resp.responses) sink.response(r.from, r.payload);
      if (resp.finished(now())) sink.done();
    },
    keyOperation: (op: KeyOp, key: string): Promise<KeyResult> => runKeyOperation(agent, op, key),
    subscribeEvents: (handler: (event: RpcEvent) => void) =>
      agent.onEvent((e) => {
        const r = toRpcEvent(e, now);
        if (r) handler(r);
      }),
    subscribeLogs: (handler) => log.subscribe(handler),
  };
}

/** Starts the RPC server on the configured `rpc_addr` (and `rpc_auth`) for `agent`. */
export async function serveRpc(config: AgentConfig, agent: Agent, log: AgentLog, runtime: Runtime): Promise<RpcServer> {
  const [host, port] = splitHostPort(config.rpcAddr);
  return await RpcServer.listen({
    runtime,
    host: host === "" ? "0.0.0.0" : host,
    port: Number(port),
    authKey: config.rpcAuth,
    logger: log.logger,
    backend: agentBackend(agent, log, () => agentStats(agent, config)),
  });
}
