/**
 * `Serf`: the sans-IO Serf core wired to the real memberlist core and
 * broadcast queues. Drive it like a Memberlist (see `core.ts`).
 *
 * @example
 * ```ts
 * const serf = new Serf(defaultSerfConfig({ nodeName: "a", protocolVersion: 5 }),
 *   { ...defaultLanConfig("a", seeded(1), log), bindPort: 7946 }, now);
 * serf.onEvent((e) => console.log(e.type));
 * serf.start(now);
 * ```
 *
 * @module
 */
import type { MemberlistConfig } from "../memberlist/types.ts";
import { Memberlist } from "../memberlist/memberlist.ts";
import { TransmitLimitedQueue } from "../memberlist/queue.ts";
import type { SerfConfig } from "./config.ts";
import { SerfCore } from "./core.ts";

/** A Serf node on top of the memberlist core. */
export class Serf extends SerfCore {
  /** Builds Serf and its memberlist (Serf's delegates installed); call `start(now)` next. */
  constructor(config: SerfConfig, mlConfig: MemberlistConfig, now: number) {
    super(config, mlConfig, now, {
      createMemberlist: (c, t) => new Memberlist(c, t),
      createQueue: (numNodes, mult) => new TransmitLimitedQueue(numNodes, mult),
    });
  }
}
