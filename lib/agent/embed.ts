/**
 * Embedding an agent in a Deno or Bun program: start a Serf node in-process,
 * read its events as an async iterable, act on the cluster, stop it.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { currentRuntime } from "../runtime/detect.ts";
import type { Runtime } from "../runtime/types.ts";
import type { RpcServer } from "../rpc/server.ts";
import type { QueryParams, QueryResponse } from "../serf/query.ts";
import type { Member, SerfEvent } from "../serf/types.ts";
import { Agent } from "./agent.ts";
import { type AgentConfig, checkAgentSetup, defaultConfig, eventScripts } from "./config.ts";
import { attachEventHandlers } from "./event_handler.ts";
import { AgentLog, parseLogLevel } from "./logging.ts";
import { serveRpc } from "./rpc_backend.ts";

/** Options of {@link startAgent}: any agent configuration key, plus embedding extras. */
export interface EmbedOptions extends Partial<Omit<AgentConfig, "reload">> {
  /** Serve the RPC protocol on `rpcAddr` (so the `serf` CLI can drive this node). Default false. */
  serveRpc?: boolean;
  /** Receives every formatted log line (default: dropped). */
  onLog?: (line: string) => void;
  /** The runtime adapter (default: the one for this runtime). */
  runtime?: Runtime;
}

/**
 * An agent running inside this process.
 *
 * @example
 * ```ts
 * const node = await startAgent({ nodeName: "a", bind: "127.0.0.1:7946", profile: "local" });
 * (async () => {
 *   for await (const e of node.events()) console.log(e.type);
 * })();
 * await node.join(["127.0.0.1:7947"]);
 * console.log(node.members().map((m) => `${m.name} ${m.status}`));
 * await node.leave();
 * await node.shutdown();
 * ```
 */
export class EmbeddedAgent {
  /** @internal */
  constructor(readonly agent: Agent, readonly log: AgentLog, private rpc?: RpcServer) {}

  /** Our node name. */
  get name(): string {
    return this.agent.serf.nodeName;
  }

  /** The bound gossip port (useful with port 0). */
  get port(): number {
    return this.agent.host.port;
  }

  /** The RPC port when `serveRpc` was set. */
  get rpcPort(): number | undefined {
    return this.rpc?.port;
  }

  /** Every member this node knows, ourselves included. */
  members(): Member[] {
    return this.agent.members();
  }

  /** Joins through `addrs` ("host:port", "name/host:port"); resolves with how many nodes were contacted. */
  async join(addrs: string[], replay = false): Promise<number> {
    const { num, error } = await this.agent.join(addrs, replay);
    if (error) throw new Error(error);
    return num;
  }

  /** Replaces our tags and gossips them. */
  setTags(tags: Record<string, string>): Promise<void> {
    return this.agent.setTags(tags);
  }

  /** Sends a user event. */
  userEvent(name: string, payload: Uint8Array | null = null, coalesce = true): void {
    this.agent.userEvent(name, payload, coalesce);
  }

  /** Starts a query; acks and responses arrive on the returned collector. */
  query(name: string, payload: Uint8Array | null = null, params: QueryParams = {}): QueryResponse {
    return this.agent.query(name, payload, params);
  }

  /** Force-leaves a failed node. */
  forceLeave(node: string, prune = false): Promise<void> {
    return this.agent.forceLeave(node, prune);
  }

  /**
   * Serf events (member-join/leave/failed/update/reap, user events,
   * queries) from now on, until {@link shutdown} or the loop breaks.
   */
  events(): AsyncIterableIterator<SerfEvent> {
    const queue: SerfEvent[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const unsubscribe = this.agent.onEvent((e) => {
      queue.push(e);
      wake?.();
    });
    void this.agent.whenShutdown().then(() => {
      ended = true;
      wake?.();
    });
    const finish = (): IteratorResult<SerfEvent> => {
      ended = true;
      unsubscribe();
      return { done: true, value: undefined };
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<SerfEvent>> {
        while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (queue.length) return { done: false, value: queue.shift()! };
        return finish();
      },
      return(): Promise<IteratorResult<SerfEvent>> {
        return Promise.resolve(finish());
      },
    };
  }

  /** Leaves the cluster gracefully (others see us `left`). */
  leave(): Promise<void> {
    return this.agent.leave();
  }

  /** Stops the node and its RPC server. */
  async shutdown(): Promise<void> {
    this.rpc?.close();
    await this.agent.shutdown();
  }
}

/** Starts an agent in this process; rejects with Serf's error texts. */
export async function startAgent(options: EmbedOptions = {}): Promise<EmbeddedAgent> {
  const { serveRpc: withRpc, onLog, runtime: rt, ...rest } = options;
  const config: AgentConfig = { ...defaultConfig(), nodeName: "", ...rest };
  if (!config.nodeName) config.nodeName = (await import("node:os")).hostname();
  const setup = await checkAgentSetup(config);
  if (!setup.addresses) throw new Error(setup.error ?? "Invalid bind address");
  const log = new AgentLog(parseLogLevel(config.logLevel) ?? "INFO", onLog ?? (() => {}));
  log.openGate();
  const logger: Logger = log.logger;
  const runtime = rt ?? currentRuntime({ logger });
  const agent = await Agent.create(config, setup.addresses, { runtime, logger });
  if (config.eventHandlers.length > 0) attachEventHandlers(agent, eventScripts(config));
  let rpc: RpcServer | undefined;
  if (withRpc) {
    try {
      rpc = await serveRpc(config, agent, log, runtime);
    } catch (e) {
      await agent.shutdown();
      throw e;
    }
  }
  return new EmbeddedAgent(agent, log, rpc);
}
