/**
 * The agent's configuration (`agent/config.go`): every JSON config key with
 * Serf's defaults, `MergeConfig`'s rules, strict file/directory loading with
 * mapstructure's error texts, and the checks `serf agent` makes before it
 * starts (`agent/command.go:readConfig`/`setupAgent`, `log_levels.go`,
 * `event_handler.go`). Durations are milliseconds (0 = unset).
 *
 * @module
 */
import { decodeGoJson, GoJsonError, type JsonValue } from "../cli/gojson.ts";
import { parseGoDuration } from "../cli/duration.ts";
import { compareCodePoints, goFloatV, goIpString } from "../cli/gofmt.ts";
import { isValidEventFilter, parseEventFilter } from "../rpc/filter.ts";
import { nodeDnsPromises, nodeFs, nodeFsPromises, nodeOs } from "../runtime/builtin.ts";

/** The process streams the agent writes to, and its environment. */
export interface AgentIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
}

/** The agent configuration: one field per JSON key of `agent/config.go` (camelCase). */
export interface AgentConfig {
  /** `node_name`; "" until `serf agent` fills in the hostname. */
  nodeName: string;
  /** `role` (deprecated; copied into tag `role`). */
  role: string;
  /** `disable_coordinates` (parsed but never applied by Serf 0.9.4). */
  disableCoordinates: boolean;
  tags: Record<string, string>;
  tagsFile: string;
  /** `bind`: host[:port], port 7946 when absent. */
  bind: string;
  interface: string;
  /** `advertise`: host[:port], port 7946 when absent; "" = none. */
  advertise: string;
  discover: string;
  /** `encrypt_key`: base64. */
  encryptKey: string;
  keyringFile: string;
  logLevel: string;
  rpcAddr: string;
  /** `rpc_auth`. */
  rpcAuth: string;
  /** Serf protocol (2..5). */
  protocol: number;
  replayOnJoin: boolean;
  queryResponseSizeLimit: number;
  querySizeLimit: number;
  userEventSizeLimit: number;
  startJoin: string[];
  eventHandlers: string[];
  /** `lan`, `wan` or `local`. */
  profile: string;
  snapshotPath: string;
  leaveOnTerminate: boolean;
  skipLeaveOnInterrupt: boolean;
  /** ms; 0 = Serf's default (30 s). */
  reconnectInterval: number;
  /** ms; 0 = Serf's default (24 h). */
  reconnectTimeout: number;
  /** ms; 0 = Serf's default (24 h). */
  tombstoneTimeout: number;
  disableNameResolution: boolean;
  enableSyslog: boolean;
  syslogFacility: string;
  retryJoin: string[];
  retryMaxAttempts: number;
  /** ms. */
  retryInterval: number;
  rejoinAfterLeave: boolean;
  /** Effectively `!-disable-compression` (see {@link mergeConfig}). */
  enableCompression: boolean;
  statsiteAddr: string;
  statsdAddr: string;
  /** ms. */
  broadcastTimeout: number;
  /**
   * Set by `serf agent`: re-reads the command line and config files as on
   * SIGHUP, printing problems like the agent does; null when they are invalid.
   */
  reload?: () => Promise<AgentConfig | null>;
}

/** Serf's default bind/advertise port. */
export const DEFAULT_BIND_PORT = 7946;
/** Serf agent's default RPC address. */
export const DEFAULT_RPC_ADDR = "127.0.0.1:7373";
/** The levels of `agent/log_levels.go`. */
export const VALID_LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERR"] as const;

/** A config with every field at Go's zero value (`new(Config)`), the start of file and flag configs. */
export function emptyConfig(): AgentConfig {
  return {
    nodeName: "",
    role: "",
    disableCoordinates: false,
    tags: {},
    tagsFile: "",
    bind: "",
    interface: "",
    advertise: "",
    discover: "",
    encryptKey: "",
    keyringFile: "",
    logLevel: "",
    rpcAddr: "",
    rpcAuth: "",
    protocol: 0,
    replayOnJoin: false,
    queryResponseSizeLimit: 0,
    querySizeLimit: 0,
    userEventSizeLimit: 0,
    startJoin: [],
    eventHandlers: [],
    profile: "",
    snapshotPath: "",
    leaveOnTerminate: false,
    skipLeaveOnInterrupt: false,
    reconnectInterval: 0,
    reconnectTimeout: 0,
    tombstoneTimeout: 0,
    disableNameResolution: false,
    enableSyslog: false,
    syslogFacility: "",
    retryJoin: [],
    retryMaxAttempts: 0,
    retryInterval: 0,
    rejoinAfterLeave: false,
    enableCompression: false,
    statsiteAddr: "",
    statsdAddr: "",
    broadcastTimeout: 0,
  };
}

/** `DefaultConfig()` (with compression on, as `serf agent` always ends up unless `-disable-compression`). */
export function defaultConfig(): AgentConfig {
  return {
    ...emptyConfig(),
    bind: "0.0.0.0",
    logLevel: "INFO",
    rpcAddr: DEFAULT_RPC_ADDR,
    protocol: 5,
    profile: "lan",
    retryInterval: 30_000,
    syslogFacility: "LOCAL0",
    queryResponseSizeLimit: 1024,
    querySizeLimit: 1024,
    userEventSizeLimit: 512,
    broadcastTimeout: 5_000,
    enableCompression: true,
  };
}

type Kind = "string" | "bool" | "int" | "duration" | "tags" | "list";

const STRING_KEYS = {
  nodeName: "node_name",
  role: "role",
  tagsFile: "tags_file",
  bind: "bind",
  advertise: "advertise",
  encryptKey: "encrypt_key",
  keyringFile: "keyring_file",
  logLevel: "log_level",
  rpcAddr: "rpc_addr",
  rpcAuth: "rpc_auth",
  profile: "profile",
  snapshotPath: "snapshot_path",
  discover: "discover",
  interface: "interface",
  syslogFacility: "syslog_facility",
  statsiteAddr: "statsite_addr",
  statsdAddr: "statsd_addr",
} as const;

const BOOL_KEYS = {
  disableCoordinates: "disable_coordinates",
  replayOnJoin: "replay_on_join",
  leaveOnTerminate: "leave_on_terminate",
  skipLeaveOnInterrupt: "skip_leave_on_interrupt",
  disableNameResolution: "disable_name_resolution",
  enableSyslog: "enable_syslog",
  rejoinAfterLeave: "rejoin_after_leave",
  enableCompression: "enable_compression",
} as const;

const INT_KEYS = {
  protocol: "protocol",
  queryResponseSizeLimit: "query_response_size_limit",
  querySizeLimit: "query_size_limit",
  userEventSizeLimit: "user_event_size_limit",
  retryMaxAttempts: "retry_max_attempts",
} as const;

const LIST_KEYS = { startJoin: "start_join", eventHandlers: "event_handlers", retryJoin: "retry_join" } as const;

/** Duration fields: raw string key, in the order Go parses them after decoding. */
const DURATION_KEYS = {
  reconnectInterval: "reconnect_interval",
  reconnectTimeout: "reconnect_timeout",
  tombstoneTimeout: "tombstone_timeout",
  retryInterval: "retry_interval",
  broadcastTimeout: "broadcast_timeout",
} as const;

type DurationField = keyof typeof DURATION_KEYS;

/** Every mapstructure field of Go's `Config`: [key, kind, our field]. */
const FIELDS: [string, Kind, keyof AgentConfig][] = [
  ...Object.entries(STRING_KEYS).map(([f, k]) => [k, "string", f] as [string, Kind, keyof AgentConfig]),
  ...Object.entries(BOOL_KEYS).map(([f, k]) => [k, "bool", f] as [string, Kind, keyof AgentConfig]),
  ...Object.entries(INT_KEYS).map(([f, k]) => [k, "int", f] as [string, Kind, keyof AgentConfig]),
  ...Object.entries(LIST_KEYS).map(([f, k]) => [k, "list", f] as [string, Kind, keyof AgentConfig]),
  ["tags", "tags", "tags"],
];

/**
 * `MergeConfig(a, b)`: strings override when non-empty, ints and durations
 * when non-zero (`protocol` only when > 0), booleans only turn on, tags merge
 * key-wise, `event_handlers`/`start_join`/`retry_join` concatenate.
 * [quirk] `enableCompression` is always copied from `b`.
 */
export function mergeConfig(a: AgentConfig, b: AgentConfig): AgentConfig {
  const r: AgentConfig = { ...a, tags: { ...a.tags } };
  for (const f of Object.keys(STRING_KEYS) as (keyof typeof STRING_KEYS)[]) if (b[f] !== "") r[f] = b[f];
  for (const f of Object.keys(BOOL_KEYS) as (keyof typeof BOOL_KEYS)[]) if (b[f]) r[f] = true;
  for (const f of Object.keys(INT_KEYS) as (keyof typeof INT_KEYS)[]) if (b[f] !== 0) r[f] = b[f];
  if (b.protocol <= 0) r.protocol = a.protocol;
  for (const f of Object.keys(DURATION_KEYS) as DurationField[]) if (b[f] !== 0) r[f] = b[f];
  Object.assign(r.tags, b.tags);
  r.enableCompression = b.enableCompression;
  r.eventHandlers = [...a.eventHandlers, ...b.eventHandlers];
  r.startJoin = [...a.startJoin, ...b.startJoin];
  r.retryJoin = [...a.retryJoin, ...b.retryJoin];
  return r;
}

// ---------------------------------------------------------------------------
// Decoding (encoding/json + mapstructure with ErrorUnused)

/** Go's `%T` of a JSON-decoded value. */
function goTypeName(v: JsonValue): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

/** Go's `reflect.Kind` name of a JSON-decoded value. */
function goKindName(v: JsonValue): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "slice";
  return "map";
}

/** Go's `%v` of a JSON-decoded value. */
function goValueText(v: JsonValue): string {
  if (v === null) return "<nil>";
  if (typeof v === "number") return goFloatV(v);
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return `[${v.map(goValueText).join(" ")}]`;
  const keys = Object.keys(v).sort(compareCodePoints);
  return `map[${keys.map((k) => `${k}:${goValueText(v[k])}`).join(" ")}]`;
}

const unconvertible = (name: string, want: string, v: JsonValue) =>
  `'${name}' expected type '${want}', got unconvertible type '${goTypeName(v)}', value: '${goValueText(v)}'`;

const foldEq = (a: string, b: string) => a === b || a.toLowerCase() === b.toLowerCase();

/**
 * Decodes one config file's bytes as Serf's `DecodeConfig`: first JSON value,
 * strict types, unknown keys rejected, Go duration strings. Throws with Go's
 * message (without the file name).
 */
export function decodeConfig(bytes: Uint8Array): AgentConfig {
  const raw = decodeGoJson(bytes);
  const result = emptyConfig();
  if (raw === null) return result;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error(`'' expected a map, got '${goKindName(raw)}'`);
  const errors: string[] = [];
  const unused = new Set(Object.keys(raw));
  const find = (key: string): string | undefined => {
    if (key in raw) return key;
    return Object.keys(raw).find((k) => foldEq(k, key));
  };
  for (const [key, kind, field] of FIELDS) {
    const k = find(key);
    if (k === undefined) continue;
    unused.delete(k);
    const v = raw[k];
    if (v === null) continue;
    const err = decodeField(result, field, key, kind, v, errors);
    if (err) errors.push(err);
  }
  const rawDurations = decodeDurationFields(raw, unused, errors, result);
  if (unused.size > 0) errors.push(`'' has invalid keys: ${[...unused].sort(compareCodePoints).join(", ")}`);
  if (errors.length > 0) {
    const points = errors.map((e) => `* ${e}`).sort(compareCodePoints);
    throw new Error(`${errors.length} error(s) decoding:\n\n${points.join("\n")}`);
  }
  for (const f of Object.keys(DURATION_KEYS) as DurationField[]) {
    const text = rawDurations[f];
    if (text) result[f] = Number(parseGoDuration(text)) / 1e6;
  }
  return result;
}

function decodeField(
  out: AgentConfig,
  field: keyof AgentConfig,
  key: string,
  kind: Kind,
  v: Exclude<JsonValue, null>,
  errors: string[],
): string | undefined {
  const rec = out as unknown as Record<string, unknown>;
  switch (kind) {
    case "string":
      if (typeof v !== "string") return unconvertible(key, "string", v);
      rec[field] = v;
      return;
    case "bool":
      if (typeof v !== "boolean") return unconvertible(key, "bool", v);
      rec[field] = v;
      return;
    case "int":
      if (typeof v !== "number") return unconvertible(key, "int", v);
      rec[field] = Math.trunc(v);
      return;
    case "list": {
      if (!Array.isArray(v)) return `'${key}': source data must be an array or slice, got ${goKindName(v)}`;
      const list: string[] = [];
      v.forEach((item, i) => {
        if (item === null || typeof item === "string") list.push(item ?? "");
        else errors.push(unconvertible(`${key}[${i}]`, "string", item));
      });
      rec[field] = list;
      return;
    }
    case "tags": {
      if (typeof v !== "object" || Array.isArray(v)) return `'${key}' expected a map, got '${goKindName(v)}'`;
      const tags: Record<string, string> = {};
      for (const [name, value] of Object.entries(v)) {
        if (value === null || typeof value === "string") tags[name] = value ?? "";
        else errors.push(unconvertible(`${key}[${name}]`, "string", value));
      }
      out.tags = tags;
      return;
    }
  }
}

/**
 * Reads the raw duration strings, and [quirk] the key "-": Go's `time.Duration`
 * fields are tagged `mapstructure:"-"`, so a "-" key is decoded (as
 * nanoseconds) into all five of them.
 */
function decodeDurationFields(
  raw: { [key: string]: JsonValue },
  unused: Set<string>,
  errors: string[],
  out: AgentConfig,
): Partial<Record<DurationField, string>> {
  const texts: Partial<Record<DurationField, string>> = {};
  for (const [field, key] of Object.entries(DURATION_KEYS) as [DurationField, string][]) {
    const k = key in raw ? key : Object.keys(raw).find((x) => foldEq(x, key));
    if (k !== undefined) {
      unused.delete(k);
      const v = raw[k];
      if (typeof v === "string") texts[field] = v;
      else if (v !== null) errors.push(unconvertible(key, "string", v));
    }
    if ("-" in raw) {
      unused.delete("-");
      const v = raw["-"];
      if (typeof v === "number") out[field] = Math.trunc(v) / 1e6;
      else if (v !== null) errors.push(unconvertible("-", "time.Duration", v));
    }
  }
  return texts;
}

// ---------------------------------------------------------------------------
// Files and directories

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EMFILE: "too many open files",
};

/** Go's `*PathError` text (`open x: no such file or directory`). */
function pathErrorText(op: string, path: string, e: unknown): string {
  const code = (e as { code?: string }).code ?? "";
  return `${op} ${path}: ${ERRNO_TEXT[code] ?? (e instanceof Error ? e.message : String(e))}`;
}

/** Go's `filepath.Clean` for `/`-separated paths. */
function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const body = out.join("/");
  return rooted ? "/" + body : body || ".";
}

async function readConfigBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await nodeFsPromises().readFile(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    // Go opens first ("Error reading"), then fails while reading ("Error decoding").
    if (code === "EISDIR") throw new Error(`Error decoding '${path}': ${pathErrorText("read", path, e)}`);
    throw new Error(`Error reading '${path}': ${pathErrorText("open", path, e)}`);
  }
}

function decodeNamed(path: string, bytes: Uint8Array): AgentConfig {
  try {
    return decodeConfig(bytes);
  } catch (e) {
    const msg = e instanceof GoJsonError || e instanceof Error ? e.message : String(e);
    throw new Error(`Error decoding '${path}': ${msg}`);
  }
}

/** Loads one JSON config file; throws `Error reading '<path>': ...` or `Error decoding '<path>': ...`. */
export async function loadConfigFile(path: string): Promise<AgentConfig> {
  return decodeNamed(path, await readConfigBytes(path));
}

/** The `*.json` entries of a config directory (not recursive, symlinks count as files), sorted by name. */
async function configDirFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await nodeFsPromises().readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`Error reading '${dir}': ${pathErrorText("readdirent", dir, e)}`);
  }
  return entries
    .filter((d) => !d.isDirectory() && d.name.endsWith(".json"))
    .map((d) => d.name)
    .sort(compareCodePoints)
    .map((name) => cleanPath(`${dir}/${name}`));
}

/** Loads every `*.json` file of a directory in name order, merged (empty config if none). */
export async function loadConfigDir(dir: string): Promise<AgentConfig> {
  let result = emptyConfig();
  for (const file of await configDirFiles(dir)) result = mergeConfig(result, await loadConfigFile(file));
  return result;
}

/**
 * `ReadConfigPaths`: files and directories in command-line order, merged
 * from an empty config.
 */
export async function readConfigPaths(paths: string[]): Promise<AgentConfig> {
  let result = emptyConfig();
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = (await nodeFsPromises().stat(path)).isDirectory();
    } catch (e) {
      throw new Error(`Error reading '${path}': ${pathErrorText("open", path, e)}`);
    }
    const files = isDir ? await configDirFiles(path) : [path];
    for (const file of files) result = mergeConfig(result, await loadConfigFile(file));
  }
  return result;
}

// ---------------------------------------------------------------------------
// Tags and event handlers

/** `UnmarshalTags`: `k=v` pairs split at the first `=`; throws `Invalid tag: 'x'`. */
export function unmarshalTags(pairs: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`Invalid tag: '${pair}'`);
    tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return tags;
}

/** `MarshalTags`: `k=v` strings. */
export function marshalTags(tags: Record<string, string>): string[] {
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`);
}

/** One event handler entry (`[filter=]script` split per filter item). */
export interface EventScript {
  /** `*`, `user`, `query` or a member event type. */
  event: string;
  /** User event / query name for `user:NAME` / `query:NAME` ("" = any). */
  name: string;
  /** The shell command. */
  script: string;
}

/** `ParseEventScript`: splits `[filter=]script` at the first `=`, one entry per filter item. */
export function parseEventScript(spec: string): EventScript[] {
  const eq = spec.indexOf("=");
  const filter = eq < 0 ? "" : spec.slice(0, eq);
  const script = eq < 0 ? spec : spec.slice(eq + 1);
  return parseEventFilter(filter).map((f) => ({ event: f.event, name: f.name, script }));
}

/** `Config.EventScripts()`: every handler of the config, parsed. */
export function eventScripts(config: AgentConfig): EventScript[] {
  return config.eventHandlers.flatMap(parseEventScript);
}

/** Whether the script's filter names a known event type. */
export function isValidEventScript(s: EventScript): boolean {
  return isValidEventFilter({ event: s.event, name: s.name });
}

/** `EventScript.String()`: `Event 'user:deploy' invoking 'deploy.sh'`. */
export function eventScriptText(s: EventScript): string {
  return s.name !== ""
    ? `Event '${s.event}:${s.name}' invoking '${s.script}'`
    : `Event '${s.event}' invoking '${s.script}'`;
}

// ---------------------------------------------------------------------------
// Checks made by `serf agent`

/** The problem with a log level (`Invalid log level: X. Valid log levels are: [...]`), if any. */
export function checkLogLevel(level: string): string | undefined {
  const up = level.toUpperCase();
  if ((VALID_LOG_LEVELS as readonly string[]).includes(up)) return undefined;
  return `Invalid log level: ${up}. Valid log levels are: [${VALID_LOG_LEVELS.join(" ")}]`;
}

/** The problem with a profile (`Unknown profile: X`), if any. */
export function checkProfile(profile: string): string | undefined {
  return ["lan", "wan", "local"].includes(profile) ? undefined : `Unknown profile: ${profile}`;
}

/**
 * The post-merge steps of `readConfig`: event handler syntax, interface
 * existence, then the notices (role deprecation, clamped retry interval and
 * broadcast timeout, rejoin without snapshot). Returns the adjusted config
 * and the notices, or the error text.
 */
export function finishConfig(config: AgentConfig): { config: AgentConfig; notices: string[] } | { error: string } {
  for (const s of eventScripts(config)) {
    if (!isValidEventScript(s)) return { error: `Invalid event script: ${eventScriptText(s)}` };
  }
  if (config.interface !== "" && interfaceAddrs(config.interface) === undefined) {
    return { error: "Invalid network interface: route ip+net: no such network interface" };
  }
  const out = { ...config, tags: { ...config.tags } };
  const notices: string[] = [];
  if (out.role !== "") {
    notices.push("Deprecation warning: 'Role' has been replaced with 'Tags'");
    out.tags.role = out.role;
  }
  if (out.retryInterval < 1000) {
    out.retryInterval = 1000;
    notices.push("Warning: 'RetryInterval' is too low. Setting to 1s");
  }
  if (out.broadcastTimeout < 1000) {
    out.broadcastTimeout = 1000;
    notices.push("Warning: 'BroadcastTimeout' is too low. Setting to 1s");
  }
  if (out.rejoinAfterLeave && out.snapshotPath === "") {
    notices.push("Warning: 'RejoinAfterLeave' enabled without snapshot file");
  }
  return { config: out, notices };
}

/** A resolved host and port. */
export interface HostPort {
  /** Go's `net.IP.String()` of the address ("<nil>" for an empty host). */
  ip: string;
  port: number;
}

/** The addresses the agent would bind and advertise, as `setupAgent` resolves them. */
export interface AgentAddresses {
  bind: HostPort;
  advertise?: HostPort;
  /** The decoded `encrypt_key` (empty when none). */
  encryptKey: Uint8Array;
}

/**
 * The checks `setupAgent` makes before "Starting Serf agent...": bind
 * address, interface address selection (may rewrite `config.bind` and adds a
 * notice), advertise address, encryption key, profile. Returns the notices
 * and either the resolved addresses or the error text.
 */
export async function checkAgentSetup(
  config: AgentConfig,
): Promise<{ notices: string[]; error?: string; addresses?: AgentAddresses }> {
  const notices: string[] = [];
  let bind: HostPort;
  try {
    bind = await addrParts(config.bind);
  } catch (e) {
    return { notices, error: `Invalid bind address: ${(e as Error).message}` };
  }
  if (config.interface !== "") {
    const addrs = interfaceAddrs(config.interface) ?? [];
    if (addrs.length === 0) return { notices, error: `Interface '${config.interface}' has no addresses` };
    if (bind.ip === "0.0.0.0") {
      const usable = addrs.find((a) => !isLinkLocal(a));
      if (!usable) return { notices, error: `Failed to find usable address for interface '${config.interface}'` };
      notices.push(`Using interface '${config.interface}' address '${usable}'`);
      bind = { ip: usable, port: bind.port };
      config.bind = usable.includes(":") ? `[${usable}]:${bind.port}` : `${usable}:${bind.port}`;
    } else if (!addrs.includes(bind.ip)) {
      return { notices, error: `Interface '${config.interface}' has no '${bind.ip}' address` };
    }
  }
  let advertise: HostPort | undefined;
  if (config.advertise !== "") {
    try {
      advertise = await addrParts(config.advertise);
    } catch (e) {
      return { notices, error: `Invalid advertise address: ${(e as Error).message}` };
    }
  }
  let encryptKey: Uint8Array;
  try {
    encryptKey = decodeBase64Std(config.encryptKey);
  } catch (e) {
    return { notices, error: `Invalid encryption key: ${(e as Error).message}` };
  }
  const profileError = checkProfile(config.profile);
  if (profileError) return { notices, error: profileError };
  return { notices, addresses: { bind, advertise, encryptKey } };
}

/** The IP addresses of a network interface, or undefined when there is no such interface. */
function interfaceAddrs(name: string): string[] | undefined {
  const all = nodeOs().networkInterfaces()[name];
  return all?.map((a) => a.address);
}

function isLinkLocal(ip: string): boolean {
  return ip.startsWith("169.254.") || /^fe[89ab][0-9a-f]:/i.test(ip);
}

// ---------------------------------------------------------------------------
// Address parsing (Go's net.SplitHostPort + net.ResolveTCPAddr)

/** Go's `*net.AddrError` text. */
const addrError = (addr: string, why: string) => new Error(addr === "" ? why : `address ${addr}: ${why}`);

/** Go's `net.SplitHostPort`. */
export function splitHostPort(hostport: string): [string, string] {
  const i = hostport.lastIndexOf(":");
  if (i < 0) throw addrError(hostport, "missing port in address");
  let host: string;
  let j = 0, k = 0;
  if (hostport[0] === "[") {
    const end = hostport.indexOf("]");
    if (end < 0) throw addrError(hostport, "missing ']' in address");
    if (end + 1 === hostport.length) throw addrError(hostport, "missing port in address");
    if (end + 1 !== i) {
      throw addrError(hostport, hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    }
    host = hostport.slice(1, end);
    [j, k] = [1, end + 1];
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) throw addrError(hostport, "too many colons in address");
  }
  if (hostport.slice(j).includes("[")) throw addrError(hostport, "unexpected '[' in address");
  if (hostport.slice(k).includes("]")) throw addrError(hostport, "unexpected ']' in address");
  return [host, hostport.slice(i + 1)];
}

/**
 * `Config.AddrParts`: adds port 7946 when missing, then resolves like
 * `net.ResolveTCPAddr("tcp", ...)` (IPv4 preferred for names). Throws Go's
 * texts. Unlike Go, which loops forever on input such as "[::1]x", a
 * still-missing port after adding one is reported.
 */
export async function addrParts(address: string): Promise<HostPort> {
  let check = address;
  let parts: [string, string];
  try {
    parts = splitHostPort(check);
  } catch (e) {
    if (!(e as Error).message.endsWith("missing port in address")) throw e;
    // Go retries until the error changes, which never happens for e.g. "[::1]x"
    // (the agent then spins forever); we retry once and report the error.
    check = `${check}:${DEFAULT_BIND_PORT}`;
    parts = splitHostPort(check);
  }
  const [host, portText] = parts;
  const port = lookupPort(portText);
  if (host === "") return { ip: "<nil>", port };
  const literal = parseIp(host.replace(/%.*$/, ""));
  if (literal) return { ip: goIpString(literal), port };
  return { ip: await resolveHost(host, check.includes("[")), port };
}

/** Go's `LookupPort("tcp", service)`: numbers (clamped like Go), else /etc/services names. */
function lookupPort(service: string): number {
  let port: number;
  if (/^[+-]?\d*$/.test(service)) {
    const neg = service.startsWith("-");
    const digits = service.replace(/^[+-]/, "");
    const n = digits === "" ? 0 : Math.min(Number(digits), 2 ** 30);
    port = neg ? -n : n;
  } else {
    const known = serviceTable().get(service.toLowerCase());
    if (known === undefined) throw addrError(`tcp/${service}`, "unknown port");
    port = known;
  }
  if (port < 0 || port > 65535) throw addrError(service, "invalid port");
  return port;
}

let services: Map<string, number> | undefined;

/** Go's built-in TCP services plus /etc/services. */
function serviceTable(): Map<string, number> {
  if (services) return services;
  services = new Map(Object.entries({
    ftp: 21,
    ftps: 990,
    gopher: 70,
    http: 80,
    https: 443,
    imap2: 143,
    imap3: 220,
    imaps: 993,
    pop3: 110,
    pop3s: 995,
    smtp: 25,
    ssh: 22,
    telnet: 23,
  }));
  try {
    for (const line of nodeFs().readFileSync("/etc/services", "utf8").split("\n")) {
      const f = line.replace(/#.*/, "").trim().split(/\s+/);
      const m = /^(\d+)\/tcp$/.exec(f[1] ?? "");
      if (!m) continue;
      for (const name of [f[0], ...f.slice(2)]) services.set(name.toLowerCase(), Number(m[1]));
    }
  } catch {
    // no /etc/services: the built-in names only
  }
  return services;
}

/** Parses an IPv4 or IPv6 literal as Go's `net.ParseIP` (IPv4 as 4 bytes). */
export function parseIp(s: string): Uint8Array | undefined {
  const v4 = parseIpv4(s);
  if (v4) return v4;
  if (!s.includes(":")) return undefined;
  let text = s;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const embedded = parseIpv4(text.slice(lastColon + 1));
    if (!embedded) return undefined;
    tail.push(...embedded);
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    const g = parseInt(all[i], 16);
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  if (tail.length) out.set(tail, 12);
  return out;
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0") || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/** Resolves a host name, preferring IPv4 (IPv6 when the address was bracketed); Go-like error text. */
async function resolveHost(host: string, want6: boolean): Promise<string> {
  let found: { address: string; family: number }[];
  try {
    found = await nodeDnsPromises().lookup(host, { all: true });
  } catch {
    found = [];
  }
  if (found.length === 0) throw new Error(`lookup ${host}${dnsServerSuffix()}: no such host`);
  const pick = found.find((a) => (want6 ? a.family === 6 : a.family === 4)) ?? found[0];
  return goIpString(parseIp(pick.address)!);
}

/** " on <first resolv.conf nameserver>:53", as Go's resolver names the server it asked. */
function dnsServerSuffix(): string {
  try {
    const conf = nodeFs().readFileSync("/etc/resolv.conf", "utf8");
    const m = /^\s*nameserver\s+(\S+)/m.exec(conf);
    if (m) return ` on ${m[1].includes(":") ? `[${m[1]}]` : m[1]}:53`;
  } catch {
    // fall through
  }
  return "";
}

// ---------------------------------------------------------------------------
// base64 (Go's StdEncoding.DecodeString, with its error offsets)

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes standard padded base64 like Go; throws `illegal base64 data at input byte N`. */
export function decodeBase64Std(text: string): Uint8Array {
  const src = new TextEncoder().encode(text);
  const out: number[] = [];
  const corrupt = (n: number) => new Error(`illegal base64 data at input byte ${n}`);
  const isNl = (c: number) => c === 0x0a || c === 0x0d;
  let si = 0;
  while (si < src.length) {
    const buf = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    let trailing = -1;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Uint8Array.from(out);
        throw corrupt(si - j);
      }
      const c = src[si++];
      const v = B64.indexOf(String.fromCharCode(c));
      if (v >= 0 && c < 0x80) {
        buf[j] = v;
        continue;
      }
      if (isNl(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d) throw corrupt(si - 1);
      if (j < 2) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNl(src[si])) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== 0x3d) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNl(src[si])) si++;
      if (si < src.length) trailing = si;
      dlen = j;
      break;
    }
    const val = (buf[0] << 18) | (buf[1] << 12) | (buf[2] << 6) | buf[3];
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (trailing >= 0) throw corrupt(trailing);
    if (dlen < 4) break;
  }
  return Uint8Array.from(out);
}
