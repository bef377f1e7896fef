/**
 * Queries (`query.go`, `event.go`): parameters and filters, the origin's
 * response collector, the `Query` handed to listeners (with `respond`), and
 * response relaying.
 *
 * @module
 */
import type { Random } from "../core/random.ts";
import type { Address } from "../memberlist/types.ts";
import { ipToString } from "../memberlist/util.ts";
import {
  decodeNodeFilter,
  decodeTagFilter,
  encodeNodeFilter,
  encodeQueryResponse,
  encodeRelay,
  encodeTagFilter,
  FilterType,
  type QueryMessage,
  type QueryResponseMessage,
} from "./messages.ts";
import type { Member } from "./types.ts";

/** Options of `Serf.query` (Go's `QueryParam`); durations in ms. */
export interface QueryParams {
  filterNodes?: string[];
  filterTags?: Record<string, string>;
  requestAck?: boolean;
  relayFactor?: number;
  /** 0 or absent → the default timeout. */
  timeout?: number;
}

/** Go's `DefaultQueryTimeout`: GossipInterval × QueryTimeoutMult × ceil(log10(n+1)). */
export function defaultQueryTimeout(gossipInterval: number, mult: number, numMembers: number): number {
  return gossipInterval * mult * Math.ceil(Math.log10(numMembers + 1));
}

/** Encodes the filters of `params`; `null` (Go's nil) when there are none. */
export function encodeFilters(params: QueryParams): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  if (params.filterNodes?.length) out.push(encodeNodeFilter(params.filterNodes));
  for (const [tag, expr] of Object.entries(params.filterTags ?? {})) out.push(encodeTagFilter({ tag, expr }));
  return out.length ? out : null;
}

/**
 * Compiles a Go (RE2) expression as a JS RegExp. A leading `(?flags)` group
 * becomes JS flags; the rest of the syntax is taken as is.
 */
export function goRegexp(expr: string): RegExp {
  const m = /^\(\?([imsU]+)\)/.exec(expr);
  if (!m) return new RegExp(expr);
  const flags = [...new Set(m[1].replace(/U/g, "").split(""))].join("");
  return new RegExp(expr.slice(m[0].length), flags);
}

/**
 * Go's `shouldProcessQuery`: every filter must pass. Node filter: our name
 * is listed; tag filter: the unanchored regexp matches our tag value (missing
 * tag = ""). Unknown or undecodable filters fail; `warn` gets Go's wording.
 */
export function shouldProcessQuery(
  filters: Uint8Array[] | null,
  nodeName: string,
  tags: Record<string, string>,
  warn: (msg: string) => void,
): boolean {
  for (const f of filters ?? []) {
    if (f[0] === FilterType.Node) {
      let names: string[];
      try {
        names = decodeNodeFilter(f);
      } catch (err) {
        warn(`serf: failed to decode filterNodeType: ${(err as Error).message}`);
        return false;
      }
      if (!names.includes(nodeName)) return false;
    } else if (f[0] === FilterType.Tag) {
      let tag: string, expr: string;
      try {
        ({ tag, expr } = decodeTagFilter(f));
      } catch (err) {
        warn(`serf: failed to decode filterTagType: ${(err as Error).message}`);
        return false;
      }
      let re: RegExp;
      try {
        re = goRegexp(expr);
      } catch (err) {
        warn(`serf: failed to compile filter regex (${expr}): ${(err as Error).message}`);
        return false;
      }
      if (!re.test(tags[tag] ?? "")) return false;
    } else {
      warn(`serf: query has unrecognized filter type: ${f[0]}`);
      return false;
    }
  }
  return true;
}

/** One node's answer to a query. */
export interface NodeResponse {
  from: string;
  payload: Uint8Array | null;
}

/**
 * The origin's view of a running query (Go's `QueryResponse`): acks and
 * responses arrive through the callbacks (and are kept in `acks` /
 * `responses`); `onClose` fires at the deadline.
 */
export class QueryResponse {
  /** Nodes that acked, in arrival order (undefined unless acks were requested). */
  readonly acks?: string[];
  /** Responses in arrival order. */
  readonly responses: NodeResponse[] = [];
  /** Called for each new ack. */
  onAck?: (from: string) => void;
  /** Called for each new response. */
  onResponse?: (r: NodeResponse) => void;
  /** Called once when the query closes. */
  onClose?: () => void;
  #closed = false;

  /** Creates a collector for query `id` sent at `ltime`, open until `deadline` (ms). */
  constructor(readonly id: number, readonly ltime: number, readonly deadline: number, wantAcks: boolean) {
    if (wantAcks) this.acks = [];
  }

  /** True once closed or past the deadline. */
  finished(now: number): boolean {
    return this.#closed || now > this.deadline;
  }

  /** Closes the query (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose?.();
  }

  /** Records an ack; false if `from` already acked. */
  addAck(from: string): boolean {
    if (!this.acks || this.acks.includes(from)) return false;
    this.acks.push(from);
    this.onAck?.(from);
    return true;
  }

  /** Records a response; false if `from` already responded. */
  addResponse(r: NodeResponse): boolean {
    if (this.#closed || this.responses.some((x) => x.from === r.from)) return false;
    this.responses.push(r);
    this.onResponse?.(r);
    return true;
  }
}

/** What a `Query` needs from its Serf to respond and relay. */
export interface QueryHost {
  readonly nodeName: string;
  readonly responseSizeLimit: number;
  readonly random: Random;
  members(): Member[];
  sendToAddress(to: Address, msg: Uint8Array): void;
}

/** Go's `kRandomMembers`: up to k distinct members not rejected by `skip`, 3n random probes. */
export function kRandomMembers(k: number, members: Member[], random: Random, skip: (m: Member) => boolean): Member[] {
  const out: Member[] = [];
  const n = members.length;
  for (let i = 0; i < 3 * n && out.length < k; i++) {
    const m = members[Math.floor(random() * n)];
    if (skip(m) || out.some((x) => x.name === m.name)) continue;
    out.push(m);
  }
  return out;
}

/**
 * Go's `relayResponse`: sends copies of `resp` wrapped in relay messages
 * through up to `relayFactor` random alive members (protocol max ≥ 5, not
 * us). Throws Go's error text.
 */
export function relayResponse(
  host: QueryHost,
  relayFactor: number,
  dest: { ip: Uint8Array | null; port: number },
  destName: string,
  resp: QueryResponseMessage,
): void {
  if (relayFactor === 0) return;
  const members = host.members();
  if (members.length < relayFactor + 1) return;
  const raw = encodeRelay({ ip: dest.ip, port: dest.port, zone: "" }, destName, resp);
  if (raw.length > host.responseSizeLimit) {
    throw new Error(`relayed response exceeds limit of ${host.responseSizeLimit} bytes`);
  }
  const skip = (m: Member) => m.status !== "alive" || m.protocolMax < 5 || m.name === host.nodeName;
  for (const m of kRandomMembers(relayFactor, members, host.random, skip)) {
    host.sendToAddress({ ip: ipToString(m.addr), port: m.port }, raw);
  }
}

/** A query as delivered to listeners (Go's `*serf.Query`). */
export class Query {
  /** Lamport time of the query. */
  readonly ltime: number;
  /** Query name. */
  readonly name: string;
  /** Query payload. */
  readonly payload: Uint8Array | null;
  /** Query id (not exported by Go; the RPC keys responses on it). */
  readonly id: number;
  /** Where responses go. */
  readonly addr: Uint8Array | null;
  /** Origin port. */
  readonly port: number;
  /** Origin node name. */
  readonly sourceNode: string;
  /** Relay factor requested by the origin. */
  readonly relayFactor: number;
  #deadline: number | undefined;

  /** Builds the event from a received query at time `now`. */
  constructor(readonly host: QueryHost, msg: QueryMessage, now: number) {
    this.ltime = msg.ltime;
    this.name = msg.name;
    this.payload = msg.payload;
    this.id = msg.id;
    this.addr = msg.addr;
    this.port = msg.port;
    this.sourceNode = msg.sourceNode;
    this.relayFactor = msg.relayFactor;
    this.#deadline = now + msg.timeoutNs / 1e6;
  }

  /** Time (ms) by which a response must be sent; undefined once responded. */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /**
   * Sends `payload` to the origin (and relays). Throws Go's errors:
   * `failed to respond to key query: response exceeds limit of N bytes`,
   * `... response already sent`, `... response is past the deadline`.
   */
  respond(payload: Uint8Array | null, now: number): void {
    const resp: QueryResponseMessage = { ltime: this.ltime, id: this.id, from: this.host.nodeName, flags: 0, payload };
    const raw = encodeQueryResponse(resp);
    const fail = (msg: string) => new Error(`failed to respond to key query: ${msg}`);
    if (raw.length > this.host.responseSizeLimit) {
      throw fail(`response exceeds limit of ${this.host.responseSizeLimit} bytes`);
    }
    if (this.#deadline === undefined) throw fail("response already sent");
    if (now > this.#deadline) throw fail("response is past the deadline");
    this.host.sendToAddress({ ip: ipToString(this.addr ?? new Uint8Array(0)), port: this.port }, raw);
    try {
      relayResponse(this.host, this.relayFactor, { ip: this.addr, port: this.port }, this.sourceNode, resp);
    } catch (err) {
      throw fail((err as Error).message);
    }
    this.#deadline = undefined;
  }
}
