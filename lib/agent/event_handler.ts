/**
 * Event handler scripts (Serf's `agent/event_handler.go`): which scripts an
 * event triggers, and a queue running them one event at a time, every
 * matching script in turn, as the agent's single event loop does. The list
 * of scripts can be replaced at any time (SIGHUP); the new list applies from
 * the next event.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Query } from "../serf/query.ts";
import type { Member, SerfEvent } from "../serf/types.ts";
import type { Agent } from "./agent.ts";
import type { EventScript } from "./config.ts";
import { errorMessage } from "./errors.ts";
import { eventTypeName, invokeEventScript } from "./invoke.ts";

/** An event filter: `*`, an event type, or `user`/`query` with an optional exact name. */
export interface EventFilter {
  event: string;
  name: string;
}

/** Go's `EventFilter.Invoke`: whether a handler with this filter runs for `e`. */
export function filterMatches(f: EventFilter, e: SerfEvent): boolean {
  if (f.event === "*") return true;
  if (eventTypeName(e) !== f.event) return false;
  if (f.name === "") return true;
  if (e.type === "user") return e.name === f.name;
  if (e.type === "query") return e.query.name === f.name;
  return true;
}

/** What a {@link ScriptEventHandler} needs from the agent. */
export interface ScriptHandlerDeps {
  /** The local member at the time of the event (name, tags). */
  self(): Member;
  /** The agent's logger. */
  logger: Logger;
  /** Sends a query response (under the host); throws Serf's errors. */
  respond(query: Query, payload: Uint8Array): void;
  /** The environment scripts inherit (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Delay before the slow-script warning, ms (default 1000). */
  slowMs?: number;
}

/**
 * Runs the configured scripts for each event, sequentially (Go's
 * `ScriptEventHandler` on the agent's event loop).
 *
 * @example
 * ```ts
 * const h = new ScriptEventHandler(parseEventScript("user:deploy=./deploy.sh"), deps);
 * agent.onEvent((e) => h.handleEvent(e));
 * h.updateScripts([]); // on reload
 * ```
 */
export class ScriptEventHandler {
  #scripts: EventScript[];
  #next: EventScript[] | undefined;
  #queue: SerfEvent[] = [];
  #running = false;
  #stopped = false;
  #idle: (() => void)[] = [];

  /** Creates the handler with its initial scripts. */
  constructor(scripts: EventScript[], readonly deps: ScriptHandlerDeps) {
    this.#scripts = [...scripts];
  }

  /** The scripts in effect (a pending update not yet applied). */
  get scripts(): EventScript[] {
    return [...this.#scripts];
  }

  /** Number of events waiting (not counting the one running). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues `e`; its scripts run after those of every earlier event. */
  handleEvent(e: SerfEvent): void {
    if (this.#stopped) return;
    this.#queue.push(e);
    if (!this.#running) void this.#drain();
  }

  /** Replaces the scripts from the next event on (Go's `UpdateScripts`). */
  updateScripts(scripts: EventScript[]): void {
    this.#next = [...scripts];
  }

  /** Drops queued events; the script running (if any) finishes on its own. */
  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
  }

  /** Resolves once no event is queued or running. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      for (let e = this.#queue.shift(); e && !this.#stopped; e = this.#queue.shift()) await this.#run(e);
    } finally {
      this.#running = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }

  /** Go's `HandleEvent`: swap in new scripts, then run each matching one in order. */
  async #run(e: SerfEvent): Promise<void> {
    if (this.#next) {
      this.#scripts = this.#next;
      this.#next = undefined;
    }
    const { logger } = this.deps;
    let self: Member;
    try {
      self = this.deps.self();
    } catch (err) {
      logger("ERR", `agent: event handler could not read the local member: ${errorMessage(err)}`);
      return;
    }
    for (const s of this.#scripts) {
      if (this.#stopped) return;
      if (!filterMatches(s, e)) continue;
      try {
        await invokeEventScript(s.script, self, e, this.deps);
      } catch (err) {
        logger("ERR", `agent: Error invoking script '${s.script}': ${errorMessage(err)}`);
      }
    }
  }
}

/** Handlers attached to agents by {@link attachEventHandlers}. */
const attached = new WeakMap<Agent, ScriptEventHandler>();

/**
 * Runs `scripts` for the events of `agent` (what `serf agent` sets up
 * before starting): answers queries through the agent's host, stops when
 * the agent shuts down. Returns the handler (also found with
 * {@link scriptHandlerOf}).
 */
export function attachEventHandlers(agent: Agent, scripts: EventScript[]): ScriptEventHandler {
  const handler = new ScriptEventHandler(scripts, {
    self: () => agent.localMember(),
    logger: agent.deps.logger,
    respond: (query, payload) => agent.host.act((now) => query.respond(payload, now)),
  });
  // Events flushed while the agent shuts down (coalesced leftovers) no longer run scripts.
  const unsubscribe = agent.onEvent((e) => {
    if (!agent.isShutdown) handler.handleEvent(e);
  });
  void agent.whenShutdown().then(() => {
    unsubscribe();
    handler.stop();
  });
  attached.set(agent, handler);
  return handler;
}

/** The script handler attached to `agent`, if any (for SIGHUP reloads). */
export function scriptHandlerOf(agent: Agent): ScriptEventHandler | undefined {
  return attached.get(agent);
}
