/**
 * Node records and the pure parts of memberlist's state rules
 * (`memberlist/state.go`): the record type, dead/left tests, snapshots for
 * delegates, and `verifyProtocol`.
 *
 * @module
 */
import type { PushNodeState } from "./messages.ts";
import { type NodeInfo, NodeState, type NodeStateType } from "./types.ts";

/** Our record of one node (Go's `nodeState`). */
export interface NodeRec {
  name: string;
  /** Possibly shared with other records (see `intern.ts`): never written to. */
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  /** [PMin, PMax, PCur, DMin, DMax, DCur]; possibly shared with other records. */
  vsn: readonly number[];
  incarnation: number;
  state: NodeStateType;
  /** Time (ms) of the last state change. */
  stateChange: number;
  /** Bumped on each state change (Go compares StateChange times). */
  changeSeq: number;
}

/** Go's `DeadOrLeft()`. */
export function deadOrLeft(n: { state: number }): boolean {
  return n.state === NodeState.Dead || n.state === NodeState.Left;
}

/** A copy of a record as delegates and callers see it. */
export function nodeInfo(n: NodeRec): NodeInfo {
  return {
    name: n.name,
    addr: n.addr.slice(),
    port: n.port,
    meta: n.meta ? n.meta.slice() : new Uint8Array(0),
    state: n.state,
    vsn: n.vsn.slice(),
  };
}

/** Go's `%v` of a byte slice: `[1 2 3]`. */
export function fmtBytes(b: Uint8Array | null): string {
  return `[${Array.from(b ?? []).join(" ")}]`;
}

/**
 * Go's `verifyProtocol`: the common protocol and delegate ranges of every
 * alive node (local and remote) must contain every node's current versions.
 * Returns Go's error text, or undefined when compatible. A version vector
 * of 1–5 bytes (which would crash Go) is an error too.
 *
 * @example
 * ```ts
 * verifyProtocol(remoteNodes, localNodes); // "Node 'x' protocol version (1) is incompatible: [2, 5]"
 * ```
 */
export function verifyProtocol(remote: PushNodeState[], local: readonly NodeRec[]): string | undefined {
  let maxpmin = 0, minpmax = 255, maxdmin = 0, mindmax = 255;
  const widen = (v: ArrayLike<number>): void => {
    maxpmin = Math.max(maxpmin, v[0]);
    minpmax = Math.min(minpmax, v[1]);
    maxdmin = Math.max(maxdmin, v[3]);
    mindmax = Math.min(mindmax, v[4]);
  };
  for (const r of remote) {
    const v = r.vsn ?? new Uint8Array(0);
    if (v.length > 0 && v.length < 6) return `Node '${r.name}' sent a version vector of ${v.length} bytes`;
    if (r.state === NodeState.Alive && v.length > 0) widen(v);
  }
  for (const n of local) if (n.state === NodeState.Alive) widen(n.vsn);
  const check = (name: string, pCur: number, dCur: number): string | undefined => {
    if (pCur < maxpmin || pCur > minpmax) {
      return `Node '${name}' protocol version (${pCur}) is incompatible: [${maxpmin}, ${minpmax}]`;
    }
    if (dCur < maxdmin || dCur > mindmax) {
      return `Node '${name}' delegate protocol version (${dCur}) is incompatible: [${maxdmin}, ${mindmax}]`;
    }
    return undefined;
  };
  // Go checks every node here, whatever its state.
  for (const r of remote) {
    const v = r.vsn ?? new Uint8Array(0);
    const err = check(r.name, v.length ? v[2] : 0, v.length ? v[5] : 0);
    if (err) return err;
  }
  for (const n of local) {
    const err = check(n.name, n.vsn[2], n.vsn[5]);
    if (err) return err;
  }
  return undefined;
}
