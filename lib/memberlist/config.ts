/**
 * memberlist's configuration profiles (`memberlist/config.go`) with Go's
 * exact defaults; durations in milliseconds.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Random } from "../core/random.ts";
import type { MemberlistConfig } from "./types.ts";

/** Lowest memberlist protocol version we understand. */
export const PROTOCOL_VERSION_MIN = 1;
/** Protocol version spoken by default (`ProtocolVersion2Compatible`). */
export const PROTOCOL_VERSION_2_COMPATIBLE = 2;
/** Highest memberlist protocol version we understand. */
export const PROTOCOL_VERSION_MAX = 5;
/** Maximum node metadata size (`MetaMaxSize`). */
export const META_MAX_SIZE = 512;

/**
 * Go's `DefaultLANConfig()`.
 *
 * @example
 * ```ts
 * const cfg = defaultLanConfig("node1", seeded(1), silentLogger);
 * cfg.probeInterval; // 1000
 * ```
 */
export function defaultLanConfig(name: string, random: Random, logger: Logger): MemberlistConfig {
  return {
    name,
    bindAddr: "0.0.0.0",
    bindPort: 7946,
    advertiseAddr: "",
    advertisePort: 7946,
    protocolVersion: PROTOCOL_VERSION_2_COMPATIBLE,
    delegateProtocolVersion: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    tcpTimeout: 10_000,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullInterval: 30_000,
    probeTimeout: 500,
    probeInterval: 1_000,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipNodes: 3,
    gossipInterval: 200,
    gossipToTheDeadTime: 30_000,
    enableCompression: true,
    udpBufferSize: 1400,
    handoffQueueDepth: 1024,
    deadNodeReclaimTime: 0,
    random,
    logger,
  };
}

/** Go's `DefaultWANConfig()`: LAN with slower, more tolerant timings. */
export function defaultWanConfig(name: string, random: Random, logger: Logger): MemberlistConfig {
  return {
    ...defaultLanConfig(name, random, logger),
    tcpTimeout: 30_000,
    suspicionMult: 6,
    pushPullInterval: 60_000,
    probeTimeout: 3_000,
    probeInterval: 5_000,
    gossipNodes: 4,
    gossipInterval: 500,
    gossipToTheDeadTime: 60_000,
  };
}

/** Go's `DefaultLocalConfig()`: LAN tuned for loopback. */
export function defaultLocalConfig(name: string, random: Random, logger: Logger): MemberlistConfig {
  return {
    ...defaultLanConfig(name, random, logger),
    tcpTimeout: 1_000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullInterval: 15_000,
    probeTimeout: 200,
    probeInterval: 1_000,
    gossipInterval: 100,
    gossipToTheDeadTime: 15_000,
  };
}

/** memberlist's configuration profiles (Serf's `-profile`). */
export type Profile = "lan" | "local" | "wan";

/** The profile's default configuration (Go's `Default{LAN,Local,WAN}Config`); unknown names get LAN. */
export function profileDefaults(profile: string, name: string, random: Random, logger: Logger): MemberlistConfig {
  const make = profile === "wan" ? defaultWanConfig : profile === "local" ? defaultLocalConfig : defaultLanConfig;
  return make(name, random, logger);
}

/** Where a bare member listens and what it advertises (see {@link bareMemberConfig}). */
export interface BareMemberOptions {
  profile: string;
  name: string;
  random: Random;
  logger: Logger;
  /** Bound and advertised IP and port. */
  ip: string;
  port: number;
  /** Node meta sent in alive messages (e.g. Serf-encoded tags). */
  meta: Uint8Array;
}

/**
 * A memberlist configuration for a member without Serf: it advertises the
 * delegate protocol range of Serf 0.9 (2–5) and fixed `meta`, so real Serf
 * agents list it as a member, and ignores user messages and state. For
 * tools and tests; add `events` to observe membership.
 *
 * @example
 * ```ts
 * const c = bareMemberConfig({ profile: "lan", name: "probe", random: Math.random, logger: () => {},
 *   ip: "127.0.0.1", port: 7946, meta: new Uint8Array(0) });
 * ```
 */
export function bareMemberConfig(o: BareMemberOptions): MemberlistConfig {
  const config = profileDefaults(o.profile, o.name, o.random, o.logger);
  Object.assign(config, {
    bindAddr: o.ip,
    bindPort: o.port,
    advertiseAddr: o.ip,
    advertisePort: o.port,
    delegateProtocolMin: 2,
    delegateProtocolMax: 5,
    delegateProtocolVersion: 5,
  });
  config.delegate = {
    nodeMeta: () => o.meta,
    notifyMsg: () => {},
    getBroadcasts: () => [],
    localState: () => new Uint8Array(0),
    mergeRemoteState: () => {},
  };
  return config;
}

/** Go's `Config.BuildVsnArray()`: [PMin, PMax, PCur, DMin, DMax, DCur]. */
export function buildVsn(config: MemberlistConfig): number[] {
  return [
    PROTOCOL_VERSION_MIN,
    PROTOCOL_VERSION_MAX,
    config.protocolVersion,
    config.delegateProtocolMin,
    config.delegateProtocolMax,
    config.delegateProtocolVersion,
  ];
}
