/**
 * Runs the agent process: the Serf core on a runtime host, the RPC server,
 * event handlers, logging and signal handling.
 *
 * @module
 */
import type { AgentConfig, AgentIo } from "./config.ts";

/** Starts an agent with `config` and resolves with the process exit code when it stops. */
export function runAgent(config: AgentConfig, io: AgentIo): Promise<number> {
  void config;
  io.stderr("==> agent not wired yet\n");
  return Promise.resolve(1);
}
