/**
 * The agent's `stats` map (RPC `stats`, `serf info`): agent, runtime, serf,
 * tags and event handlers, every value a string.
 *
 * @module
 */
import { nodeOs } from "../runtime/builtin.ts";
import { runtimeName } from "../runtime/detect.ts";
import type { Agent } from "./agent.ts";
import { type AgentConfig, eventScripts } from "./config.ts";

/** Go's GOARCH name for Node's `process.arch`. */
const GO_ARCH: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm" };

/** The runtime section: os, arch, runtime version, CPU counts. */
export function runtimeStats(): Record<string, string> {
  const name = runtimeName();
  const versions = process.versions as Record<string, string | undefined>;
  const { availableParallelism, cpus } = nodeOs();
  const cpuCount = String(cpus().length);
  return {
    os: process.platform === "win32" ? "windows" : process.platform,
    arch: GO_ARCH[process.arch] ?? process.arch,
    version: `${name}${versions[name] ?? process.version}`,
    max_procs: String(typeof availableParallelism === "function" ? availableParallelism() : cpuCount),
    goroutines: "1",
    cpu_count: cpuCount,
  };
}

/** Go's `Agent.Stats()`. */
export function agentStats(agent: Agent, config: AgentConfig): Record<string, Record<string, string>> {
  const local = agent.localMember();
  const handlers: Record<string, string> = {};
  for (const s of eventScripts(config)) handlers[`${s.event}:${s.name}`] = s.script;
  return {
    agent: { name: local.name },
    runtime: runtimeStats(),
    serf: agent.serf.stats(),
    tags: { ...local.tags },
    event_handlers: handlers,
  };
}
