/**
 * memberlist's small formulas and helpers (`memberlist/util.go`): retransmit
 * limit, suspicion timeout, push/pull scaling, random node selection, and
 * Go-compatible IP text formatting.
 *
 * @module
 */
import { randInt, type Random } from "../core/random.ts";

/** Nodes before push/pull scaling starts (`pushPullScaleThreshold`). */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * Number of transmissions of one broadcast: `mult × ceil(log10(n + 1))`.
 *
 * @example
 * ```ts
 * retransmitLimit(4, 3); // 4
 * retransmitLimit(4, 10); // 8
 * ```
 */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * Minimum suspicion timeout (ms): `mult × max(1, log10(max(1, n))) × interval`,
 * with Go's millisecond truncation of the node scale.
 *
 * @example
 * ```ts
 * suspicionTimeout(4, 10, 1000); // 4000
 * suspicionTimeout(4, 100, 1000); // 8000
 * ```
 */
export function suspicionTimeout(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // Go: Duration(mult) * Duration(nodeScale*1000) * interval / 1000 (exact for whole-ms intervals).
  const scaled = Math.trunc(nodeScale * 1000);
  return (suspicionMult * scaled * intervalMs) / 1000;
}

/**
 * Push/pull interval scaled to the cluster size: unchanged up to 32 nodes,
 * then × (ceil(log2(n) − log2(32)) + 1).
 */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/** A random integer in [0, n) (0 when n is 0), like Go's `randomOffset`. */
export function randomOffset(random: Random, n: number): number {
  return n === 0 ? 0 : randInt(random, n);
}

/**
 * Up to `k` distinct random items for which `exclude` is false, trying at
 * most 3n random picks (Go's `kRandomNodes`): may return fewer than k.
 */
export function kRandomNodes<T>(random: Random, k: number, nodes: readonly T[], exclude?: (n: T) => boolean): T[] {
  const n = nodes.length;
  const out: T[] = [];
  for (let i = 0; i < 3 * n && out.length < k; i++) {
    const node = nodes[randomOffset(random, n)];
    if (exclude?.(node)) continue;
    if (out.includes(node)) continue;
    out.push(node);
  }
  return out;
}

/**
 * Go's `net.IP.String()`: dotted quad for 4-byte and IPv4-mapped addresses,
 * RFC 5952 text for IPv6, "?hex" for other lengths, "<nil>" when empty.
 */
export function ipToString(ip: Uint8Array): string {
  if (ip.length === 0) return "<nil>";
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  if (ip.length !== 16) return "?" + Array.from(ip, (b) => b.toString(16).padStart(2, "0")).join("");
  if (isV4Mapped(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  let e0 = -1, e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) e0 = e1 = -1;
  let out = "";
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      out += "::";
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) out += ":";
    out += ((ip[i] << 8) | ip[i + 1]).toString(16);
  }
  return out;
}

function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/**
 * Parses IP text into wire bytes: IPv4 → 4 bytes, IPv6 → 16 bytes.
 * Returns undefined when the text is not an IP address.
 */
export function parseIp(text: string): Uint8Array | undefined {
  const s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return parseV4(s) ?? parseV6(s);
}

/** Whether {@link parseIp} accepts `text`, without building the bytes (dotted quads checked in place). */
export function isIpText(text: string): boolean {
  return isDottedQuad(text) || parseIp(text) !== undefined;
}

/** Four `.`-separated groups of 1–3 ASCII digits, each at most 255 (what {@link parseV4} accepts). */
function isDottedQuad(s: string): boolean {
  let groups = 0, digits = 0, value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e; // a final "." closes the last group
    if (c === 0x2e) {
      if (digits === 0 || value > 255) return false;
      groups++;
      digits = value = 0;
    } else if (c < 0x30 || c > 0x39 || ++digits > 3) return false;
    else value = value * 10 + (c - 0x30);
  }
  return groups === 4;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const v = Number(parts[i]);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseV6(text: string): Uint8Array | undefined {
  let s = text;
  if (!s.includes(":")) return undefined;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    const v4 = parseV4(last);
    if (!v4) return undefined;
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    s = s.slice(0, lastColon + 1) + hex(v4[0], v4[1]) + ":" + hex(v4[2], v4[3]);
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = hexGroups(halves[0]);
  const tail = halves.length === 2 ? hexGroups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function hexGroups(h: string): number[] | undefined {
  if (h === "") return [];
  const out: number[] = [];
  for (const g of h.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

/** Go's `net.JoinHostPort(ip, port)`: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Byte-wise equality of two arrays. */
export function bytesEqual(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  const n = a ? a.length : 0;
  if (n !== (b ? b.length : 0)) return false;
  for (let i = 0; i < n; i++) if (a![i] !== b![i]) return false;
  return true;
}
