/**
 * The initiator side of cluster-wide keyring changes (`keymanager.go`): each
 * operation is an internal query answered by every node, tallied into a
 * `KeyResponse`. Operations run one at a time.
 *
 * @module
 */
import type { SerfCore } from "./core.ts";
import { decodeKeyResponse, encodeKeyRequest, type KeyResponseMessage, MessageType } from "./messages.ts";
import type { NodeResponse } from "./query.ts";

/** Tally of one key operation (Go's `KeyResponse`). */
export interface KeyResponse {
  /** Node name → message (errors, and warnings such as truncated key lists). */
  messages: Record<string, string>;
  /** `NumMembers()` when the query was sent. */
  numNodes: number;
  numResp: number;
  numErr: number;
  /** Base64 key → number of nodes that have it (list-keys). */
  keys: Record<string, number>;
  /** Base64 primary key → number of nodes using it ("" counted for other operations, as in Go). */
  primaryKeys: Record<string, number>;
}

/** Options of a key operation. */
export interface KeyRequestOptions {
  relayFactor?: number;
}

/** Which internal key query to run. */
export type KeyOperation = "install-key" | "use-key" | "remove-key" | "list-keys";

/** Done callback: the tally, and Go's error text when not every node succeeded. */
export type KeyDone = (resp: KeyResponse, error?: string) => void;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Go's `base64.StdEncoding.DecodeString` (padding required); throws
 * `illegal base64 data at input byte N`.
 */
export function decodeBase64Std(text: string): Uint8Array {
  const fail = (i: number) => new Error(`illegal base64 data at input byte ${i}`);
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 4) {
    const quad = text.slice(i, i + 4);
    const vals: number[] = [];
    for (let j = 0; j < quad.length; j++) {
      const c = quad[j];
      if (c === "=") {
        if (j < 2 || (j === 2 && quad[3] !== "=") || i + 4 < text.length) throw fail(i + j);
        break;
      }
      const v = B64.indexOf(c);
      if (v < 0) throw fail(i + j);
      vals.push(v);
    }
    if (quad.length < 4 && !quad.includes("=")) throw fail(text.length);
    if (vals.length >= 2) out.push((vals[0] << 2) | (vals[1] >> 4));
    if (vals.length >= 3) out.push(((vals[1] & 15) << 4) | (vals[2] >> 2));
    if (vals.length >= 4) out.push(((vals[2] & 3) << 6) | vals[3]);
  }
  return Uint8Array.from(out);
}

function goBytes(p: Uint8Array | null): string {
  return `[${Array.from(p ?? []).join(" ")}]`;
}

/** Runs keyring operations across the cluster through a Serf core. */
export class KeyManager {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  /** Binds to `serf`. */
  constructor(readonly serf: SerfCore) {}

  /** Installs a base64 key on every node. */
  installKey(key: string, now: number, done: KeyDone, opts?: KeyRequestOptions): void {
    this.run("install-key", key, now, done, opts);
  }

  /** Makes a base64 key primary on every node. */
  useKey(key: string, now: number, done: KeyDone, opts?: KeyRequestOptions): void {
    this.run("use-key", key, now, done, opts);
  }

  /** Removes a base64 key from every node. */
  removeKey(key: string, now: number, done: KeyDone, opts?: KeyRequestOptions): void {
    this.run("remove-key", key, now, done, opts);
  }

  /** Lists every node's keys. */
  listKeys(now: number, done: KeyDone, opts?: KeyRequestOptions): void {
    this.run("list-keys", "", now, done, opts);
  }

  /** Queues one operation; `now` is used if it can start at once. */
  run(op: KeyOperation, key: string, now: number, done: KeyDone, opts?: KeyRequestOptions): void {
    const start = () => {
      this.#busy = true;
      this.#request(op, key, now, opts ?? {}, (resp, err) => {
        this.#busy = false;
        done(resp, err);
        const next = this.#waiting.shift();
        if (next) next();
      });
    };
    if (this.#busy) this.#waiting.push(start);
    else start();
  }

  #request(op: KeyOperation, key: string, now: number, opts: KeyRequestOptions, done: KeyDone): void {
    const resp: KeyResponse = { messages: {}, numNodes: 0, numResp: 0, numErr: 0, keys: {}, primaryKeys: {} };
    let raw: Uint8Array;
    try {
      raw = decodeBase64Std(key);
    } catch (err) {
      return done(resp, (err as Error).message);
    }
    let query;
    try {
      query = this.serf.query(`_serf_${op}`, encodeKeyRequest({ key: raw }), { relayFactor: opts.relayFactor }, now);
    } catch (err) {
      return done(resp, (err as Error).message);
    }
    resp.numNodes = this.serf.memberlist.numMembers();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (resp.numErr !== 0) return done(resp, `${resp.numErr}/${resp.numNodes} nodes reported failure`);
      if (resp.numResp !== resp.numNodes) return done(resp, `${resp.numResp}/${resp.numNodes} nodes reported success`);
      done(resp);
    };
    query.onResponse = (r) => {
      if (finished) return;
      this.#tally(resp, r);
      if (resp.numResp === resp.numNodes) finish();
    };
    query.onClose = finish;
    for (const r of query.responses) query.onResponse(r);
  }

  #tally(resp: KeyResponse, r: NodeResponse): void {
    resp.numResp++;
    const p = r.payload;
    if (!p || p.length < 1 || p[0] !== MessageType.KeyResponse) {
      resp.messages[r.from] = `Invalid key query response type: ${goBytes(p)}`;
      resp.numErr++;
      return;
    }
    let m: KeyResponseMessage;
    try {
      m = decodeKeyResponse(p);
    } catch {
      resp.messages[r.from] = `Failed to decode key query response: ${goBytes(p)}`;
      resp.numErr++;
      return;
    }
    if (!m.result) {
      resp.messages[r.from] = m.message;
      resp.numErr++;
    }
    if (m.result && m.message.length > 0) {
      resp.messages[r.from] = m.message;
      this.serf.logger("WARN", `serf: ${m.message}`);
    }
    for (const k of m.keys ?? []) resp.keys[k] = (resp.keys[k] ?? 0) + 1;
    resp.primaryKeys[m.primaryKey] = (resp.primaryKeys[m.primaryKey] ?? 0) + 1;
  }
}
