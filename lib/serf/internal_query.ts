/**
 * Serf's internal queries (`internal_query.go`): `_serf_ping`,
 * `_serf_conflict` and the keyring queries, answered inside Serf and never
 * passed to listeners.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Keyring } from "../security/keyring.ts";
import {
  decodeKeyRequest,
  encodeConflictResponse,
  encodeKeyResponse,
  encodeQueryResponse,
  type KeyResponseMessage,
  type WireMember,
} from "./messages.ts";
import type { Query } from "./query.ts";

/** Prefix of internal query names. */
export const INTERNAL_QUERY_PREFIX = "_serf_";

/** `minEncodedKeyLength`: sizes the first list-keys truncation attempt. */
export const MIN_ENCODED_KEY_LENGTH = 25;

/** What internal query handlers need from Serf. */
export interface InternalQueryHost {
  readonly nodeName: string;
  readonly logger: Logger;
  readonly keyring?: Keyring;
  /** The member record for `name`, as sent in conflict responses. */
  wireMember(name: string): WireMember | null;
  /** Persists the keyring after a change; throws on failure (Go's writeKeyringFile). */
  writeKeyringFile?(keys: Uint8Array[]): void;
  /** Set when a keyring file is configured (install-key only writes then). */
  readonly hasKeyringFile: boolean;
}

/** True for names Serf answers itself. */
export function isInternalQuery(name: string): boolean {
  return name.startsWith(INTERNAL_QUERY_PREFIX);
}

/** Answers one internal query at time `now`. */
export function handleInternalQuery(host: InternalQueryHost, q: Query, now: number): void {
  const name = q.name.slice(INTERNAL_QUERY_PREFIX.length);
  switch (name) {
    case "ping":
      return;
    case "conflict":
      return handleConflict(host, q, now);
    case "install-key":
    case "use-key":
    case "remove-key":
      return handleKeyChange(host, q, name, now);
    case "list-keys":
      return handleListKeys(host, q, now);
    default:
      host.logger("WARN", `serf: Unhandled internal query '${name}'`);
  }
}

function respond(host: InternalQueryHost, q: Query, buf: Uint8Array, now: number, what: string): void {
  try {
    q.respond(buf, now);
  } catch (err) {
    host.logger("ERR", `serf: Failed to respond to ${what}: ${(err as Error).message}`);
  }
}

function handleConflict(host: InternalQueryHost, q: Query, now: number): void {
  const node = new TextDecoder().decode(q.payload ?? new Uint8Array(0));
  if (node === host.nodeName) return;
  host.logger("DEBUG", `serf: Got conflict resolution query for '${node}'`);
  respond(host, q, encodeConflictResponse(host.wireMember(node)), now, "conflict query");
}

const KEY_ACTIONS = {
  "install-key": { verb: "install", log: "Failed to install key", op: (k: Keyring, key: Uint8Array) => k.addKey(key) },
  "use-key": { verb: "use", log: "Failed to change primary key", op: (k: Keyring, key: Uint8Array) => k.useKey(key) },
  "remove-key": { verb: "remove", log: "Failed to remove key", op: (k: Keyring, key: Uint8Array) => k.removeKey(key) },
};

function keyChangeResult(host: InternalQueryHost, q: Query, name: keyof typeof KEY_ACTIONS): KeyResponseMessage {
  const resp: KeyResponseMessage = { result: false, message: "", keys: null, primaryKey: "" };
  let key: Uint8Array | null;
  try {
    key = decodeKeyRequest(q.payload ?? new Uint8Array(0), 1).key;
  } catch (err) {
    host.logger("ERR", `serf: Failed to decode key request: ${(err as Error).message}`);
    return resp;
  }
  if (!host.keyring) {
    resp.message = "No keyring to modify (encryption not enabled)";
    host.logger("ERR", `serf: ${resp.message}`);
    return resp;
  }
  const action = KEY_ACTIONS[name];
  host.logger("INFO", `serf: Received ${name} query`);
  try {
    action.op(host.keyring, key ?? new Uint8Array(0));
  } catch (err) {
    resp.message = (err as Error).message;
    host.logger("ERR", `serf: ${action.log}: ${resp.message}`);
    return resp;
  }
  // Go writes the file after install-key only when one is configured; use/remove always call
  // writeKeyringFile, which itself does nothing without a file.
  if (host.hasKeyringFile && host.writeKeyringFile) {
    try {
      host.writeKeyringFile(host.keyring.getKeys());
    } catch (err) {
      resp.message = (err as Error).message;
      host.logger("ERR", `serf: Failed to write keyring file: ${resp.message}`);
      return resp;
    }
  }
  resp.result = true;
  return resp;
}

function handleKeyChange(host: InternalQueryHost, q: Query, name: keyof typeof KEY_ACTIONS, now: number): void {
  respond(host, q, encodeKeyResponse(keyChangeResult(host, q, name)), now, "key query");
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function handleListKeys(host: InternalQueryHost, q: Query, now: number): void {
  const resp: KeyResponseMessage = { result: false, message: "", keys: null, primaryKey: "" };
  if (!host.keyring) {
    resp.message = "Keyring is empty (encryption not enabled)";
    host.logger("ERR", `serf: ${resp.message}`);
  } else {
    host.logger("INFO", "serf: Received list-keys query");
    const keys = host.keyring.getKeys().map(base64);
    resp.keys = keys.length ? keys : null;
    resp.primaryKey = base64(host.keyring.getPrimaryKey() ?? new Uint8Array(0));
    resp.result = true;
  }
  const buf = fitKeyList(host, q, resp);
  if (buf) respond(host, q, buf, now, "key query");
}

/** Go's `keyListResponseWithCorrectSize`: drops keys until the response fits. */
function fitKeyList(host: InternalQueryHost, q: Query, resp: KeyResponseMessage): Uint8Array | undefined {
  const limit = q.host.responseSizeLimit;
  const actual = resp.keys?.length ?? 0;
  for (let i = Math.floor(limit / MIN_ENCODED_KEY_LENGTH); i >= 0; i--) {
    const buf = encodeKeyResponse(resp);
    const raw = encodeQueryResponse({ ltime: q.ltime, id: q.id, from: host.nodeName, flags: 0, payload: buf });
    if (raw.length > limit) {
      resp.keys = (resp.keys ?? []).slice(0, i);
      resp.message = `truncated key list response, showing first ${i} of ${actual} keys`;
      continue;
    }
    if (actual > i) host.logger("WARN", `serf: ${resp.message}`);
    return buf;
  }
  host.logger("ERR", "serf: Failed to truncate response so that it fits into message");
  return undefined;
}
