/**
 * Key operations for the RPC (`install-key`, `use-key`, `remove-key`,
 * `list-keys`) through Serf's `KeyManager`, with the agent's log lines.
 *
 * @module
 */
import type { KeyOp, KeyResult } from "../rpc/backend.ts";
import { KeyManager, type KeyOperation } from "../serf/keymanager.ts";
import type { Agent } from "./agent.ts";

const OPS: Record<KeyOp, { query: KeyOperation; log: string }> = {
  install: { query: "install-key", log: "agent: Initiating key installation" },
  use: { query: "use-key", log: "agent: Initiating primary key change" },
  remove: { query: "remove-key", log: "agent: Initiating key removal" },
  list: { query: "list-keys", log: "agent: Initiating key listing" },
};

const managers = new WeakMap<Agent, KeyManager>();

/** Runs a key operation across the cluster; `key` is base64 ("" for list). */
export function runKeyOperation(agent: Agent, op: KeyOp, key: string): Promise<KeyResult> {
  let km = managers.get(agent);
  if (!km) managers.set(agent, km = new KeyManager(agent.serf));
  const manager = km;
  agent.deps.logger("INFO", OPS[op].log);
  return new Promise((resolve) => {
    agent.host.act((now) =>
      manager.run(OPS[op].query, key, now, (resp, error) => {
        const result: KeyResult = {
          messages: resp.messages,
          numNodes: resp.numNodes,
          numErr: resp.numErr,
          numResp: resp.numResp,
        };
        if (op === "list") result.keys = resp.keys;
        if (error) result.error = error;
        resolve(result);
      })
    );
  });
}
