/**
 * Event coalescing (`coalesce.go`, `coalesce_member.go`, `coalesce_user.go`)
 * on the virtual-time scheduler: a window opens at the first coalescible
 * event and is flushed `period` after it or `quiescent` after the last
 * event, whichever comes first, and on shutdown.
 *
 * @module
 */
import type { Scheduler, TimerHandle } from "../core/scheduler.ts";
import type { Member, MemberEventType, SerfEvent, UserEvent } from "./types.ts";

/** One coalescing policy (Go's `coalescer` interface). */
export interface Coalescer {
  /** Whether the event is coalesced; others pass straight through. */
  handle(e: SerfEvent): boolean;
  /** Absorbs one handled event. */
  coalesce(e: SerfEvent): void;
  /** Emits what was absorbed. */
  flush(out: (e: SerfEvent) => void): void;
}

/** A coalescing stage: events in through `push`, out through `out`. */
export class CoalesceStage {
  #quantum?: TimerHandle;
  #quiescent?: TimerHandle;

  /** Creates a stage; timers go on `scheduler`. */
  constructor(
    readonly scheduler: Scheduler,
    readonly period: number,
    readonly quiescentPeriod: number,
    readonly coalescer: Coalescer,
    readonly out: (e: SerfEvent) => void,
  ) {}

  /** Takes one event at time `now`. */
  push(e: SerfEvent, now: number): void {
    if (!this.coalescer.handle(e)) return this.out(e);
    this.#quantum ??= this.scheduler.at(now + this.period, () => this.flush());
    this.#quiescent?.cancel();
    this.#quiescent = this.scheduler.at(now + this.quiescentPeriod, () => this.flush());
    this.coalescer.coalesce(e);
  }

  /** Flushes now (timers fire this; call it on shutdown). */
  flush(): void {
    this.#quantum?.cancel();
    this.#quiescent?.cancel();
    this.#quantum = this.#quiescent = undefined;
    this.coalescer.flush(this.out);
  }
}

const MEMBER_TYPES = new Set<string>(["member-join", "member-leave", "member-failed", "member-update", "member-reap"]);

/**
 * Member events: keep the latest type per member; at flush skip members
 * whose type equals the one last flushed for them (except updates) and emit
 * one event per type.
 *
 * [quirk] As in Go, the latest-event map is never cleared, so a member's
 * last `member-update` is emitted again at every later flush.
 */
export class MemberEventCoalescer implements Coalescer {
  #last = new Map<string, MemberEventType>();
  #latest = new Map<string, { type: MemberEventType; member: Member }>();

  /** Member events only. */
  handle(e: SerfEvent): boolean {
    return MEMBER_TYPES.has(e.type);
  }

  /** Records the latest event type of each member. */
  coalesce(e: SerfEvent): void {
    if (e.type === "user" || e.type === "query") return;
    for (const m of e.members) {
      this.#latest.delete(m.name);
      this.#latest.set(m.name, { type: e.type, member: m });
    }
  }

  /** Emits one event per type. */
  flush(out: (e: SerfEvent) => void): void {
    const byType = new Map<MemberEventType, Member[]>();
    for (const [name, { type, member }] of this.#latest) {
      if (this.#last.get(name) === type && type !== "member-update") continue;
      this.#last.set(name, type);
      if (!byType.has(type)) byType.set(type, []);
      byType.get(type)!.push(member);
    }
    for (const [type, members] of byType) out({ type, members });
  }
}

/** User events sent with coalesce=true: per name keep only those with the highest LTime. */
export class UserEventCoalescer implements Coalescer {
  #events = new Map<string, { ltime: number; events: UserEvent[] }>();

  /** User events that allow coalescing. */
  handle(e: SerfEvent): boolean {
    return e.type === "user" && e.coalesce;
  }

  /** Keeps the newest events of each name. */
  coalesce(e: SerfEvent): void {
    if (e.type !== "user") return;
    const latest = this.#events.get(e.name);
    if (!latest || latest.ltime < e.ltime) {
      this.#events.set(e.name, { ltime: e.ltime, events: [e] });
    } else if (latest.ltime === e.ltime) {
      latest.events.push(e);
    }
  }

  /** Emits the kept events. */
  flush(out: (e: SerfEvent) => void): void {
    const all = [...this.#events.values()];
    this.#events = new Map();
    for (const latest of all) for (const e of latest.events) out(e);
  }
}
