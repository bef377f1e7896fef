/**
 * Join-address parsing and resolution, following memberlist's
 * `resolveAddr`/`ensurePort`/`hasPort` (memberlist.go, util.go): an optional
 * leading `name/`, then `host`, `host:port`, `ip`, `[v6]` or `[v6]:port`; a
 * missing port means the local bind port. Host names are resolved with
 * `node:dns` (every A/AAAA record becomes one target), loaded only then.
 *
 * @module
 */
import type { JoinTarget } from "../memberlist/types.ts";
import { nodeDnsPromises } from "../runtime/builtin.ts";
import { ipVersion } from "../runtime/ip.ts";

/** A parsed join address before name resolution. */
export interface ParsedAddress {
  /** The node name expected there (the part before `/`), if any. */
  name?: string;
  /** An IP literal or a host name (IPv6 without brackets). */
  host: string;
  port: number;
}

/** Go's `hasPort`: a bracketed IPv6 with `]:`, or exactly one colon. */
function hasPort(s: string): boolean {
  if (s.lastIndexOf("[") === 0) return s.lastIndexOf(":") > s.lastIndexOf("]");
  return s.split(":").length === 2;
}

/** Go's `net.SplitHostPort` for the inputs `ensurePort` can produce. */
function splitHostPort(s: string): [string, string] {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) throw new Error(`address ${s}: missing ']' in address`);
    if (s[end + 1] !== ":") throw new Error(`address ${s}: missing port in address`);
    const host = s.slice(1, end);
    const port = s.slice(end + 2);
    if (port.includes(":")) throw new Error(`address ${s}: too many colons in address`);
    return [host, port];
  }
  const i = s.lastIndexOf(":");
  if (i < 0) throw new Error(`address ${s}: missing port in address`);
  const host = s.slice(0, i);
  if (host.includes(":")) throw new Error(`address ${s}: too many colons in address`);
  return [host, s.slice(i + 1)];
}

/**
 * Parses one join address like memberlist does (without resolving names).
 * Throws with Go's wording for malformed input.
 *
 * @example
 * ```ts
 * parseJoinAddress("b/[::1]:7946", 7946); // { name: "b", host: "::1", port: 7946 }
 * parseJoinAddress("10.0.0.1", 7946);     // { host: "10.0.0.1", port: 7946 }
 * ```
 */
export function parseJoinAddress(input: string, defaultPort: number): ParsedAddress {
  let s = input;
  let name: string | undefined;
  const slash = s.indexOf("/");
  if (slash >= 0) {
    if (slash === 0) throw new Error("empty node name provided");
    name = s.slice(0, slash);
    s = s.slice(slash + 1);
  }
  if (!hasPort(s)) {
    const bare = s.replace(/^[[\]]+|[[\]]+$/g, "");
    s = bare.includes(":") ? `[${bare}]:${defaultPort}` : `${bare}:${defaultPort}`;
  }
  const [host, portText] = splitHostPort(s);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`strconv.ParseUint: parsing "${portText}": invalid syntax`);
  }
  const out: ParsedAddress = { host, port: Number(portText) };
  if (name !== undefined) out.name = name;
  return out;
}

/** Normalizes an IP text: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes the dotted quad. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}

/** Whether `host` is an IP literal (v4 or v6). */
export function isIpLiteral(host: string): boolean {
  return ipVersion(host) !== 0;
}

/**
 * Parses `input` and returns its targets synchronously when the host is an IP
 * literal, or `undefined` when a DNS lookup is needed.
 */
export function literalTargets(input: string, defaultPort: number): JoinTarget[] | undefined {
  const p = parseJoinAddress(input, defaultPort);
  if (!isIpLiteral(p.host)) return undefined;
  return [toTarget(p, normalizeIp(p.host))];
}

function toTarget(p: ParsedAddress, ip: string): JoinTarget {
  const t: JoinTarget = { ip, port: p.port };
  if (p.name !== undefined) t.name = p.name;
  return t;
}

/**
 * Parses and resolves one join address to its targets (one per IP of a host
 * name). Rejects with `Failed to resolve <input>: <reason>` as memberlist logs it.
 */
export async function resolveJoinAddress(input: string, defaultPort: number): Promise<JoinTarget[]> {
  try {
    const p = parseJoinAddress(input, defaultPort);
    if (isIpLiteral(p.host)) return [toTarget(p, normalizeIp(p.host))];
    const found = await nodeDnsPromises().lookup(p.host, { all: true });
    return found.map((a) => toTarget(p, normalizeIp(a.address)));
  } catch (e) {
    throw new Error(`Failed to resolve ${input}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
