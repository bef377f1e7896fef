/**
 * Filters of the RPC layer: event filters for `stream` (the same syntax as
 * event handlers, `agent/event_handler.go`) and the anchored RE2 filters of
 * `members-filtered` (`agent/ipc.go:filterMembers`).
 *
 * @module
 */
import type { RpcEvent } from "./backend.ts";
import { compileRe2 } from "./re2.ts";
import type { RpcMember } from "./types.ts";

/** One event filter: `event` is "*", "user", "query" or a member event; `name` narrows user/query. */
export interface EventFilter {
  event: string;
  name: string;
}

const VALID_EVENTS = new Set([
  "member-join",
  "member-leave",
  "member-failed",
  "member-update",
  "member-reap",
  "user",
  "query",
  "*",
]);

/**
 * Parses "member-join,user:deploy,query:ping" (empty = "*"), like Go's
 * `ParseEventFilter`. No validation: see {@link isValidEventFilter}.
 */
export function parseEventFilter(spec: string): EventFilter[] {
  return (spec === "" ? "*" : spec).split(",").map((part) => {
    if (part.startsWith("user:")) return { event: "user", name: part.slice(5) };
    if (part.startsWith("query:")) return { event: "query", name: part.slice(6) };
    return { event: part, name: "" };
  });
}

/** Whether the filter names a known event type (Go's `EventFilter.Valid`). */
export function isValidEventFilter(f: EventFilter): boolean {
  return VALID_EVENTS.has(f.event);
}

/** The Go `EventType().String()` of an event. */
export function eventTypeName(e: RpcEvent): string {
  return e.type === "member" ? e.event : e.type;
}

/** Whether `f` selects `e` (Go's `EventFilter.Invoke`). */
export function eventFilterMatches(f: EventFilter, e: RpcEvent): boolean {
  if (f.event === "*") return true;
  if (eventTypeName(e) !== f.event) return false;
  if ((e.type === "user" || e.type === "query") && f.name !== "" && e.name !== f.name) return false;
  return true;
}

/** Whether any of `filters` selects `e`. */
export function anyFilterMatches(filters: EventFilter[], e: RpcEvent): boolean {
  return filters.some((f) => eventFilterMatches(f, e));
}

/**
 * Filters members like Go's `filterMembers`: each expression is compiled
 * as `"^" + expr + "$"` (plain concatenation); every requested tag must
 * match (a missing tag is ""); empty `status`/`name` do not filter.
 * Throws `Failed to compile regex: error parsing regexp: ...` for bad input.
 */
export function filterMembers(
  members: RpcMember[],
  tags: Record<string, string>,
  status: string,
  name: string,
): RpcMember[] {
  const compile = (expr: string) => {
    try {
      return compileRe2(`^${expr}$`);
    } catch (e) {
      throw new Error(`Failed to compile regex: ${(e as Error).message}`);
    }
  };
  const tagRes = Object.entries(tags).map(([k, expr]) => [k, compile(expr)] as const);
  const statusRe = compile(status);
  const nameRe = compile(name);
  return members.filter((m) =>
    tagRes.every(([k, re]) => re.test(Object.hasOwn(m.tags, k) ? m.tags[k] : "")) &&
    (status === "" || statusRe.test(m.status)) &&
    (name === "" || nameRe.test(m.name))
  );
}
