/**
 * The agent: one Serf core driven by a host over a runtime, plus what Serf's
 * `agent.Agent` adds — tags file, keyring file, Go-style join errors, the
 * event fan-out to RPC streams and handlers, and an orderly shutdown.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { MemberlistHost } from "../host/memberlist_host.ts";
import { resolveJoinAddress } from "../host/address.ts";
import { bindTransport } from "../host/transport.ts";
import { profileDefaults } from "../memberlist/config.ts";
import type { JoinTarget, MemberlistConfig } from "../memberlist/types.ts";
import { nodeFs, nodeOs } from "../runtime/builtin.ts";
import type { Runtime } from "../runtime/types.ts";
import { Keyring } from "../security/keyring.ts";
import { defaultSerfConfig, type SerfConfig } from "../serf/config.ts";
import { Serf } from "../serf/serf.ts";
import type { QueryParams, QueryResponse } from "../serf/query.ts";
import type { Member, SerfEvent } from "../serf/types.ts";
import { type AgentAddresses, type AgentConfig, decodeBase64Std } from "./config.ts";
import { errorMessage, multiError } from "./errors.ts";
import { AgentSnapshot } from "./snapshot.ts";
import { warmUp } from "./warmup.ts";

/** Go's `serf.InternalQueryPrefix`. */
const INTERNAL_QUERY_PREFIX = "_serf_";

/** A failure before Serf starts (tags or keyring file): "Failed to setup the Serf agent: ...". */
export class AgentSetupError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "AgentSetupError";
  }
}

/** Everything an agent needs from its surroundings. */
export interface AgentDeps {
  runtime: Runtime;
  logger: Logger;
}

/** Chooses memberlist's profile defaults (`lan`, `wan`, `local`). */
export function profileConfig(profile: string, name: string, runtime: Runtime, logger: Logger): MemberlistConfig {
  return profileDefaults(profile, name, () => runtime.random(), logger);
}

/** Reads a tags file (JSON object of strings); undefined when it does not exist. */
export function readTagsFile(path: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = nodeFs().readFileSync(path, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw new Error(`Failed to read tags file: ${errorMessage(e)}`);
  }
  let tags: unknown;
  try {
    tags = JSON.parse(text);
  } catch (e) {
    throw new Error(`Failed to decode tags file: ${errorMessage(e)}`);
  }
  if (tags === null) return {};
  if (typeof tags !== "object" || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== "string")) {
    throw new Error("Failed to decode tags file: json: cannot unmarshal into Go value of type map[string]string");
  }
  return tags as Record<string, string>;
}

/** Writes a tags file as Go's `json.MarshalIndent(tags, "", "  ")`, mode 0600. */
export function writeTagsFile(path: string, tags: Record<string, string>): void {
  const keys = Object.keys(tags).sort();
  const body = keys.length === 0
    ? "{}"
    : `{\n${keys.map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(tags[k])}`).join(",\n")}\n}`;
  try {
    nodeFs().writeFileSync(path, body, { mode: 0o600 });
  } catch (e) {
    throw new Error(`Failed to write tags file: ${errorMessage(e)}`);
  }
}

/** Reads a keyring file (JSON array of base64 keys, primary first). */
export function readKeyringFile(path: string): Keyring {
  let text: string;
  try {
    text = nodeFs().readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") throw new Error(`stat ${path}: no such file or directory`);
    throw new Error(`Failed to read keyring file: ${errorMessage(e)}`);
  }
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch (e) {
    throw new Error(`Failed to decode keyring file: ${errorMessage(e)}`);
  }
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
    throw new Error("Failed to decode keyring file: json: cannot unmarshal into Go value of type []string");
  }
  const decoded = keys.map((k) => {
    try {
      return decodeBase64Std(k as string);
    } catch (e) {
      throw new Error(`Failed to decode key from keyring: ${errorMessage(e)}`);
    }
  });
  if (decoded.length === 0) throw new Error("Keyring file contains no keys");
  try {
    return new Keyring(decoded, decoded[0]);
  } catch (e) {
    throw new Error(`Failed to restore keyring: ${errorMessage(e)}`);
  }
}

/** Writes a keyring file as Serf does: indented JSON array of base64 keys, primary first, mode 0600. */
export function writeKeyringFile(path: string, keys: Uint8Array[]): void {
  const b64 = keys.map((k) => JSON.stringify(btoa(String.fromCharCode(...k))));
  nodeFs().writeFileSync(path, `[\n${b64.map((k) => `  ${k}`).join(",\n")}\n]`, { mode: 0o600 });
}

/** Loads the tags and keyring files (Go's `agent.Create`); throws {@link AgentSetupError}. */
function loadFiles(config: AgentConfig, logger: Logger): { tags: Record<string, string>; keyring?: Keyring } {
  let tags = { ...config.tags };
  let keyring: Keyring | undefined;
  try {
    if (config.tagsFile) {
      if (Object.keys(config.tags).length > 0) throw new Error("Tags config not allowed while using tag files");
      const restored = readTagsFile(config.tagsFile);
      if (restored) {
        tags = restored;
        logger("INFO", `agent: Restored ${Object.keys(tags).length} tag(s) from ${config.tagsFile}`);
      }
    }
    if (config.keyringFile) {
      if (config.encryptKey) throw new Error("Encryption key not allowed while using a keyring");
      keyring = readKeyringFile(config.keyringFile);
      logger("INFO", `agent: Restored keyring with ${keyring.getKeys().length} keys from ${config.keyringFile}`);
    }
  } catch (e) {
    throw new AgentSetupError(errorMessage(e));
  }
  return { tags, keyring };
}

/** Maps the agent configuration onto Serf's (Go's `setupAgent`). */
export function serfConfigFor(config: AgentConfig, tags: Record<string, string>): SerfConfig {
  const c = defaultSerfConfig({
    nodeName: config.nodeName,
    tags,
    protocolVersion: config.protocol,
    coalescePeriod: 3000,
    quiescentPeriod: 1000,
    userCoalescePeriod: 3000,
    userQuiescentPeriod: 1000,
    queryResponseSizeLimit: config.queryResponseSizeLimit,
    querySizeLimit: config.querySizeLimit,
    userEventSizeLimit: config.userEventSizeLimit,
    enableNameConflictResolution: !config.disableNameResolution,
    rejoinAfterLeave: config.rejoinAfterLeave,
  });
  if (config.reconnectInterval) c.reconnectInterval = config.reconnectInterval;
  if (config.reconnectTimeout) c.reconnectTimeout = config.reconnectTimeout;
  if (config.tombstoneTimeout) c.tombstoneTimeout = config.tombstoneTimeout;
  if (config.broadcastTimeout) c.broadcastTimeout = config.broadcastTimeout;
  return c;
}

/**
 * A running agent.
 *
 * @example
 * ```ts
 * const agent = await Agent.create(config, addresses, { runtime: currentRuntime(), logger });
 * await agent.join(["127.0.0.1:7946"], false);
 * await agent.leave();
 * await agent.shutdown();
 * ```
 */
export class Agent {
  #shutdown = false;
  #shutdownWaiters: (() => void)[] = [];
  #listeners = new Set<(e: SerfEvent) => void>();
  /** The snapshot file (with `-snapshot`). */
  snapshot?: AgentSnapshot;

  private constructor(
    readonly config: AgentConfig,
    readonly serf: Serf,
    readonly host: MemberlistHost<Serf>,
    readonly deps: AgentDeps,
  ) {
    serf.onEvent((e) => this.#dispatch(e));
  }

  /**
   * Creates and starts the agent: loads the tags and keyring files, binds
   * the gossip port (UDP and TCP) and starts Serf. Throws with Serf's texts.
   */
  static async create(config: AgentConfig, addresses: AgentAddresses, deps: AgentDeps): Promise<Agent> {
    const { tags, keyring } = loadFiles(config, deps.logger);
    return await Agent.#start(config, addresses, deps, tags, keyring);
  }

  static async #start(
    config: AgentConfig,
    addresses: AgentAddresses,
    deps: AgentDeps,
    tags: Record<string, string>,
    fileKeyring: Keyring | undefined,
  ): Promise<Agent> {
    const { runtime, logger } = deps;
    let keyring = fileKeyring;
    logger("INFO", "agent: Serf agent starting");
    await warmUp({ compression: config.enableCompression });
    const ml = profileConfig(config.profile, config.nodeName, runtime, logger);
    const bind = addresses.bind;
    ml.bindAddr = bind.ip;
    ml.bindPort = bind.port;
    ml.enableCompression = config.enableCompression;
    if (addresses.encryptKey.length > 0) {
      try {
        keyring = new Keyring([addresses.encryptKey], addresses.encryptKey);
      } catch (e) {
        throw new Error(`Error creating Serf: Failed to create memberlist: ${errorMessage(e)}`);
      }
    }
    if (keyring) ml.keyring = keyring;
    let transport;
    try {
      transport = await bindTransport(runtime, bind.ip, bind.port);
    } catch (e) {
      const msg = errorMessage(e);
      const proto = /^listen (tcp|udp)/.exec(msg)?.[1]?.toUpperCase() ?? "TCP";
      throw new Error(
        `Error creating Serf: Failed to create memberlist: Could not set up network transport: failed to obtain an address: Failed to start ${proto} listener on "${bind.ip}" port ${bind.port}: ${msg}`,
      );
    }
    ml.bindPort = transport.port;
    const adv = addresses.advertise;
    ml.advertiseAddr = adv ? adv.ip : advertiseIpFor(bind.ip);
    ml.advertisePort = adv ? adv.port : transport.port;
    let serf: Serf;
    let snapshot: AgentSnapshot | undefined;
    try {
      serf = new Serf(serfConfigFor(config, tags), ml, runtime.now());
      if (config.snapshotPath) {
        snapshot = AgentSnapshot.open(config.snapshotPath, config.rejoinAfterLeave, serf, runtime, logger);
      }
    } catch (e) {
      transport.close();
      throw new Error(`Error creating Serf: ${errorMessage(e)}`);
    }
    if (config.keyringFile) {
      const path = config.keyringFile;
      serf.writeKeyringFile = (keys) => writeKeyringFile(path, keys);
    }
    const host = new MemberlistHost(runtime, transport, serf, { logger });
    const agent = new Agent(config, serf, host, deps);
    agent.snapshot = snapshot;
    host.start();
    snapshot?.start(host);
    return agent;
  }

  /** The local member (name, address, tags, versions). */
  localMember(): Member {
    return this.serf.localMember();
  }

  /** Every member Serf knows. */
  members(): Member[] {
    return this.serf.members();
  }

  /** Subscribes to Serf events (after coalescing); returns the unsubscribe. */
  onEvent(cb: (e: SerfEvent) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  #dispatch(e: SerfEvent): void {
    this.deps.logger("INFO", `agent: Received event: ${eventString(e)}`);
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        this.deps.logger("ERR", `agent: event listener failed: ${errorMessage(err)}`);
      }
    }
  }

  /**
   * Joins through `addrs` (Go's `agent.Join`): resolves with the number of
   * nodes contacted and, when none could be, Go's multierror text.
   */
  async join(addrs: string[], replay: boolean): Promise<{ num: number; error?: string }> {
    const log = this.deps.logger;
    log("INFO", `agent: joining: [${addrs.join(" ")}] replay: ${replay}`);
    const targets: JoinTarget[] = [];
    const errors: string[] = [];
    for (const a of addrs) {
      try {
        targets.push(...await resolveJoinAddress(a, this.host.port));
      } catch (e) {
        errors.push(errorMessage(e));
        log("WARN", `memberlist: ${errorMessage(e)}`);
      }
    }
    const { joined, errs } = await new Promise<{ joined: number; errs: string[] }>((resolve) => {
      if (targets.length === 0) return resolve({ joined: 0, errs: [] });
      this.host.act((now) => this.serf.join(targets, !replay, now, (joined, errs) => resolve({ joined, errs })));
    });
    const all = [...errors, ...errs];
    if (joined > 0) log("INFO", `agent: joined: ${joined} nodes`);
    if (joined > 0 || all.length === 0) return { num: joined };
    const error = multiError(all);
    log("WARN", `agent: error joining: ${error}`);
    return { num: joined, error };
  }

  /** Graceful leave (Go's `serf.Leave`). */
  leave(): Promise<void> {
    this.deps.logger("INFO", "agent: requesting graceful leave from Serf");
    this.snapshot?.leave();
    return this.#op((now, done) => this.serf.leave(now, done));
  }

  /** Force-leaves `node` (and with `prune`, erases it). */
  async forceLeave(node: string, prune: boolean): Promise<void> {
    const log = this.deps.logger;
    log("INFO", prune ? `agent: Force leaving node (prune): ${node}` : `agent: Force leaving node: ${node}`);
    try {
      await this.#op((now, done) => this.serf.forceLeave(node, prune, now, done));
    } catch (e) {
      log("WARN", `agent: failed to remove node${prune ? " (prune)" : ""}: ${errorMessage(e)}`);
      throw e;
    }
  }

  /** Replaces the local tags: tags file first (when configured), then gossip. */
  setTags(tags: Record<string, string>): Promise<void> {
    if (this.config.tagsFile) {
      try {
        writeTagsFile(this.config.tagsFile, tags);
      } catch (e) {
        this.deps.logger("ERR", `agent: ${errorMessage(e)}`);
        return Promise.reject(e);
      }
    }
    return this.#op((now, done) => this.serf.setTags(tags, now, done));
  }

  /** Sends a user event; throws Serf's size-limit errors. */
  userEvent(name: string, payload: Uint8Array | null, coalesce: boolean): void {
    const shown = new TextDecoder().decode(payload ?? new Uint8Array(0));
    this.deps.logger(
      "DEBUG",
      `agent: Requesting user event send: ${name}. Coalesced: ${coalesce}. Payload: ${JSON.stringify(shown)}`,
    );
    try {
      this.host.act((now) => this.serf.userEvent(name, payload, coalesce, now));
    } catch (e) {
      this.deps.logger("WARN", `agent: failed to send user event: ${errorMessage(e)}`);
      throw e;
    }
  }

  /** Starts a query (Go's `agent.Query`), refusing `_serf_` names but the bare `_serf_ping`. */
  query(name: string, payload: Uint8Array | null, params: QueryParams): QueryResponse {
    if (name.startsWith(INTERNAL_QUERY_PREFIX) && (name !== `${INTERNAL_QUERY_PREFIX}ping` || payload !== null)) {
      throw new Error(`Queries cannot contain the '${INTERNAL_QUERY_PREFIX}' prefix`);
    }
    const shown = new TextDecoder().decode(payload ?? new Uint8Array(0));
    this.deps.logger("DEBUG", `agent: Requesting query send: ${name}. Payload: ${JSON.stringify(shown)}`);
    try {
      return this.host.act((now) => this.serf.query(name, payload, params, now));
    } catch (e) {
      this.deps.logger("WARN", `agent: failed to start user query: ${errorMessage(e)}`);
      throw e;
    }
  }

  /** Runs a core operation that completes through a `done(error?)` callback. */
  #op(start: (now: number, done: (error?: string) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.host.act((now) => start(now, (err) => err ? reject(new Error(err)) : resolve()));
    });
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /** Resolves when the agent has shut down (RPC `leave`, or Serf shutting itself down). */
  whenShutdown(): Promise<void> {
    if (this.#shutdown) return Promise.resolve();
    return new Promise((r) => this.#shutdownWaiters.push(r));
  }

  /** Stops Serf and closes the sockets; idempotent. */
  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    this.#shutdown = true;
    this.deps.logger("INFO", "agent: requesting serf shutdown");
    await this.host.shutdown();
    this.snapshot?.close();
    this.deps.logger("INFO", "agent: shutdown complete");
    for (const w of this.#shutdownWaiters.splice(0)) w();
  }
}

/**
 * The IP we advertise when none is configured: the bind IP, or for a
 * wildcard bind the first private (else loopback) IPv4 address of the host.
 */
export function advertiseIpFor(bindIp: string): string {
  if (bindIp !== "0.0.0.0" && bindIp !== "::" && bindIp !== "") return bindIp;
  const addrs: string[] = [];
  for (const list of Object.values(nodeOs().networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) addrs.push(a.address);
  }
  const isPrivate = (ip: string) => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip);
  return addrs.find(isPrivate) ?? addrs[0] ?? "127.0.0.1";
}

/** Go's `Event.String()` for the "Received event" log line. */
export function eventString(e: SerfEvent): string {
  if (e.type === "user") return `user-event: ${e.name}`;
  if (e.type === "query") return `query: ${e.query.name}`;
  return e.type;
}
