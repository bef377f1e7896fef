/**
 * IP literal checks with the results of `node:net`'s `isIP`, without loading
 * `node:net` (see `builtin.ts` for why that matters).
 *
 * @module
 */

const IPV4_PART = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/** Whether `s` is a dotted-quad IPv4 address (no leading zeros, as `node:net` wants). */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => IPV4_PART.test(p));
}

/** Whether `s` is an IPv6 address, optionally with an embedded IPv4 tail and a `%zone`. */
export function isIPv6(s: string): boolean {
  const pct = s.indexOf("%");
  if (pct >= 0) {
    if (!ZONE.test(s.slice(pct + 1))) return false;
    s = s.slice(0, pct);
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  let groups = 0;
  for (let h = 0; h < halves.length; h++) {
    if (halves[h] === "") continue;
    const parts = halves[h].split(":");
    for (let i = 0; i < parts.length; i++) {
      const last = h === halves.length - 1 && i === parts.length - 1;
      if (last && parts[i].includes(".")) {
        if (!isIPv4(parts[i])) return false;
        groups += 2;
      } else if (IPV6_GROUP.test(parts[i])) groups++;
      else return false;
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8;
}

/** `node:net`'s `isIP`: 4, 6, or 0 when `s` is not an IP literal. */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (isIPv4(s)) return 4;
  return isIPv6(s) ? 6 : 0;
}
