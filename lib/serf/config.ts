/**
 * Serf's configuration (Go's `serf.Config`) with `DefaultConfig()`'s values.
 * Durations are milliseconds.
 *
 * @module
 */

/** Lowest Serf protocol this implementation speaks. */
export const PROTOCOL_VERSION_MIN = 2;
/** Highest Serf protocol this implementation speaks. */
export const PROTOCOL_VERSION_MAX = 5;
/** The memberlist protocol used for each Serf protocol (Go's `ProtocolVersionMap`). */
export const PROTOCOL_VERSION_MAP: Record<number, number> = { 2: 2, 3: 2, 4: 2, 5: 2 };
/** Hard ceiling for user event name + payload (Go's `UserEventSizeLimit` constant). */
export const USER_EVENT_SANE_LIMIT = 9 * 1024;

/** Go's `serf.Config`, minus the channels, logger and memberlist config. */
export interface SerfConfig {
  /** Node name; also memberlist's name. Empty → the memberlist config's name. */
  nodeName: string;
  tags: Record<string, string>;
  /** Serf protocol, 2..5 (Go default 4; the agent uses 5). */
  protocolVersion: number;
  broadcastTimeout: number;
  leavePropagateDelay: number;
  /** Member event coalescing; both must be > 0 to enable it. */
  coalescePeriod: number;
  quiescentPeriod: number;
  /** User event coalescing (events sent with coalesce=true); both > 0 to enable. */
  userCoalescePeriod: number;
  userQuiescentPeriod: number;
  reapInterval: number;
  reconnectInterval: number;
  reconnectTimeout: number;
  tombstoneTimeout: number;
  /** Only used for metrics in Go. */
  flapTimeout: number;
  queueCheckInterval: number;
  queueDepthWarning: number;
  maxQueueDepth: number;
  /** When > 0 the queue limit becomes max(minQueueDepth, 2 × members). */
  minQueueDepth: number;
  recentIntentTimeout: number;
  eventBuffer: number;
  queryBuffer: number;
  queryTimeoutMult: number;
  queryResponseSizeLimit: number;
  querySizeLimit: number;
  userEventSizeLimit: number;
  enableNameConflictResolution: boolean;
  disableCoordinates: boolean;
  rejoinAfterLeave: boolean;
  /**
   * Not in Go: after a successful join, one more push/pull with a random
   * member once this many memberlist gossip intervals have passed (times a
   * random factor in [1, 2)); 0 turns it off, as in Go. Gossip alone leaves
   * gaps after many simultaneous joins: with 50 agents joining at once, a
   * node that misses one of them waits for the periodic push/pull (60 s at
   * that size) in about 4 of 10 runs of Go's agent.
   */
  joinResyncIntervals: number;
}

/**
 * Go's `serf.DefaultConfig()` (protocol 4, coalescing off) plus our
 * `joinResyncIntervals`, with overrides.
 *
 * @example
 * ```ts
 * const c = defaultSerfConfig({ nodeName: "a", protocolVersion: 5 });
 * c.broadcastTimeout; // 5000
 * ```
 */
export function defaultSerfConfig(overrides: Partial<SerfConfig> = {}): SerfConfig {
  return {
    nodeName: "",
    tags: {},
    protocolVersion: 4,
    broadcastTimeout: 5_000,
    leavePropagateDelay: 1_000,
    coalescePeriod: 0,
    quiescentPeriod: 0,
    userCoalescePeriod: 0,
    userQuiescentPeriod: 0,
    reapInterval: 15_000,
    reconnectInterval: 30_000,
    reconnectTimeout: 24 * 3600_000,
    tombstoneTimeout: 24 * 3600_000,
    flapTimeout: 60_000,
    queueCheckInterval: 30_000,
    queueDepthWarning: 128,
    maxQueueDepth: 4096,
    minQueueDepth: 0,
    recentIntentTimeout: 5 * 60_000,
    eventBuffer: 512,
    queryBuffer: 512,
    queryTimeoutMult: 16,
    queryResponseSizeLimit: 1024,
    querySizeLimit: 1024,
    userEventSizeLimit: 512,
    enableNameConflictResolution: true,
    disableCoordinates: false,
    rejoinAfterLeave: false,
    joinResyncIntervals: 5,
    ...overrides,
  };
}

/** Checks the ranges `serf.Create` checks; throws Go's error text. */
export function validateSerfConfig(c: SerfConfig): void {
  const range = `Must be in range: [${PROTOCOL_VERSION_MIN}, ${PROTOCOL_VERSION_MAX}]`;
  if (c.protocolVersion < PROTOCOL_VERSION_MIN) {
    throw new Error(`Protocol version '${c.protocolVersion}' too low. ${range}`);
  }
  if (c.protocolVersion > PROTOCOL_VERSION_MAX) {
    throw new Error(`Protocol version '${c.protocolVersion}' too high. ${range}`);
  }
  if (c.userEventSizeLimit > USER_EVENT_SANE_LIMIT) {
    throw new Error(`user event size limit exceeds limit of ${USER_EVENT_SANE_LIMIT} bytes`);
  }
}
