/**
 * Serf's KeyManager, initiator side: a key operation is an internal query
 * (`_serf_install-key`, `_serf_use-key`, `_serf_remove-key`,
 * `_serf_list-keys`) to every member, whose responses are tallied.
 * Operations run one at a time, as Go serialises them with a lock.
 *
 * @module
 */
import type { KeyOp, KeyResult } from "../rpc/backend.ts";
import { decodeKeyResponse, encodeKeyRequest, MessageType } from "../serf/messages.ts";
import type { NodeResponse } from "../serf/query.ts";
import { decodeBase64Std } from "./config.ts";
import type { Agent } from "./agent.ts";
import { errorMessage } from "./errors.ts";

const QUERY_NAMES: Record<KeyOp, string> = {
  install: "_serf_install-key",
  use: "_serf_use-key",
  remove: "_serf_remove-key",
  list: "_serf_list-keys",
};

const LOG_LINES: Record<KeyOp, string> = {
  install: "agent: Initiating key installation",
  use: "agent: Initiating primary key change",
  remove: "agent: Initiating key removal",
  list: "agent: Initiating key listing",
};

let chain: Promise<unknown> = Promise.resolve();

/** Adds one node's response to the tally (Go's `streamKeyResp` body). */
export function tallyKeyResponse(result: KeyResult & { keys: Record<string, number> }, r: NodeResponse): void {
  result.numResp++;
  const p = r.payload;
  if (!p || p.length < 1 || p[0] !== MessageType.KeyResponse) {
    result.messages[r.from] = `Invalid key query response type: [${[...(p ?? [])].join(" ")}]`;
    result.numErr++;
    return;
  }
  let resp;
  try {
    resp = decodeKeyResponse(p, 1);
  } catch {
    result.messages[r.from] = `Failed to decode key query response: [${[...p].join(" ")}]`;
    result.numErr++;
    return;
  }
  if (!resp.result) {
    result.messages[r.from] = resp.message;
    result.numErr++;
  } else if (resp.message.length > 0) {
    result.messages[r.from] = resp.message;
  }
  for (const k of resp.keys ?? []) result.keys[k] = (result.keys[k] ?? 0) + 1;
}

/** Runs a key operation across the cluster; `key` is base64 ("" for list). */
export function runKeyOperation(agent: Agent, op: KeyOp, key: string): Promise<KeyResult> {
  const run = chain.then(() => keyOperation(agent, op, key));
  chain = run.catch(() => {});
  return run;
}

function keyOperation(agent: Agent, op: KeyOp, key: string): Promise<KeyResult> {
  agent.deps.logger("INFO", LOG_LINES[op]);
  const result = { messages: {}, keys: {}, numNodes: 0, numErr: 0, numResp: 0 } as KeyResult & {
    keys: Record<string, number>;
  };
  let raw: Uint8Array;
  try {
    raw = decodeBase64Std(key);
  } catch (e) {
    return Promise.resolve({ ...result, error: errorMessage(e) });
  }
  return new Promise((resolve) => {
    const finish = (error?: string) => resolve(error ? { ...result, error } : result);
    try {
      agent.host.act((now) => {
        result.numNodes = agent.serf.memberlist.numMembers();
        const payload = encodeKeyRequest({ key: op === "list" ? null : raw });
        const resp = agent.serf.query(QUERY_NAMES[op], payload, {}, now);
        let done = false;
        const close = () => {
          if (done) return;
          done = true;
          if (result.numErr !== 0) return finish(`${result.numErr}/${result.numNodes} nodes reported failure`);
          if (result.numResp !== result.numNodes) {
            return finish(`${result.numResp}/${result.numNodes} nodes reported success`);
          }
          finish();
        };
        const onResponse = (r: NodeResponse) => {
          tallyKeyResponse(result, r);
          if (r.payload?.[0] === MessageType.KeyResponse) {
            try {
              const m = decodeKeyResponse(r.payload, 1);
              if (m.result && m.message) agent.deps.logger("WARN", `serf: ${m.message}`);
            } catch { /* counted as an error above */ }
          }
          if (result.numResp === result.numNodes) close();
        };
        resp.onResponse = onResponse;
        resp.onClose = close;
        for (const r of resp.responses) onResponse(r);
        if (resp.finished(now)) close();
      });
    } catch (e) {
      finish(errorMessage(e));
    }
  });
}
