/**
 * Runs the agent process the way `serf agent` does after reading its
 * configuration: the startup banner, the Serf core on a runtime host, the
 * RPC server, start and retry joins, log streaming, and signals (SIGINT
 * leaves gracefully, SIGTERM exits unless `leave_on_terminate`, SIGHUP
 * reloads log level and tags).
 *
 * @module
 */
import { currentRuntime } from "../runtime/detect.ts";
import { watchActivity } from "../runtime/activity.ts";
import { jitRelaxer } from "../runtime/jit.ts";
import { trimOnSettle } from "../runtime/trim.ts";
import type { RpcServer } from "../rpc/server.ts";
import { Agent, AgentSetupError } from "./agent.ts";
import { type AgentAddresses, type AgentConfig, type AgentIo, checkAgentSetup, eventScripts } from "./config.ts";
import { errorMessage } from "./errors.ts";
import { attachEventHandlers, scriptHandlerOf } from "./event_handler.ts";
import { AgentLog, parseLogLevel } from "./logging.ts";
import { serveRpc } from "./rpc_backend.ts";

/** How long a graceful leave may take after SIGINT before we give up (Go's `gracefulTimeout`). */
const GRACEFUL_TIMEOUT_MS = 3000;

/** Serf's `cli.PrefixedUi` for the agent: Output and Error `==> `, Info four spaces; all on stdout. */
export interface AgentUi {
  output(msg: string): void;
  info(msg: string): void;
  error(msg: string): void;
}

/** Builds the agent's UI over the process streams. */
export function agentUi(io: AgentIo): AgentUi {
  const line = (prefix: string) => (msg: string) => io.stdout(`${msg === "" ? "" : prefix + msg}\n`);
  return { output: line("==> "), info: line("    "), error: line("==> ") };
}

/** Which signal ended a wait, in Go's `os.Signal.String()` words. */
type SignalName = "interrupt" | "terminated" | "hangup";

const SIGNALS: [NodeJS.Signals, SignalName][] = [["SIGINT", "interrupt"], ["SIGTERM", "terminated"], [
  "SIGHUP",
  "hangup",
]];

/** A queue of received signals that can be awaited. */
class SignalQueue {
  #pending: SignalName[] = [];
  #waiters: ((s: SignalName) => void)[] = [];
  #handlers: [NodeJS.Signals, () => void][] = [];

  constructor() {
    for (const [sig, name] of SIGNALS) {
      const h = () => this.#push(name);
      this.#handlers.push([sig, h]);
      process.on(sig, h);
    }
  }

  #push(name: SignalName): void {
    const w = this.#waiters.shift();
    if (w) w(name);
    else this.#pending.push(name);
  }

  next(): Promise<SignalName> {
    const p = this.#pending.shift();
    if (p) return Promise.resolve(p);
    return new Promise((r) => this.#waiters.push(r));
  }

  close(): void {
    for (const [sig, h] of this.#handlers) process.off(sig, h);
  }
}

/** Go's `net.TCPAddr.String()` of an address. */
function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Retries `retry_join` until one join works; resolves false when attempts run out. */
async function retryJoin(config: AgentConfig, agent: Agent, log: AgentLog): Promise<boolean> {
  if (config.retryJoin.length === 0) return true;
  for (let attempt = 1; !agent.isShutdown; attempt++) {
    log.logger("INFO", `agent: Joining cluster...(replay: ${config.replayOnJoin})`);
    const { num, error } = await agent.join(config.retryJoin, config.replayOnJoin);
    if (!error) {
      log.logger("INFO", `agent: Join completed. Synced with ${num} initial agents`);
      return true;
    }
    if (config.retryMaxAttempts > 0 && attempt > config.retryMaxAttempts) {
      log.logger("ERR", "agent: maximum retry join attempts made, exiting");
      return false;
    }
    log.logger("WARN", `agent: Join failed: ${error}, retrying in ${goDuration(config.retryInterval)}`);
    await new Promise((r) => setTimeout(r, config.retryInterval));
  }
  return true;
}

/** Go's `time.Duration.String()` for whole milliseconds. */
function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3600000), m = Math.floor(ms % 3600000 / 60000), s = (ms % 60000) / 1000;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/** SIGHUP: re-read the configuration; apply the log level and tags. */
async function reload(config: AgentConfig, agent: Agent, log: AgentLog, ui: AgentUi): Promise<AgentConfig> {
  ui.output("Reloading configuration...");
  const next = config.reload ? await config.reload() : null;
  if (!next) {
    ui.error("Failed to reload configs");
    return config;
  }
  const level = parseLogLevel(next.logLevel);
  if (level) log.minLevel = level;
  else {
    ui.error(
      `Invalid log level: ${next.logLevel.toUpperCase()}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`,
    );
    next.logLevel = config.logLevel;
  }
  scriptHandlerOf(agent)?.updateScripts(eventScripts(next));
  try {
    await agent.setTags(next.tags);
  } catch (e) {
    ui.error(`Failed to update tags: ${errorMessage(e)}`);
  }
  next.reload = config.reload;
  return next;
}

/** Prints the "Serf agent running!" block. */
function banner(ui: AgentUi, config: AgentConfig, addresses: AgentAddresses, agent: Agent): void {
  ui.output("Serf agent running!");
  ui.info(`                  Node name: '${config.nodeName}'`);
  ui.info(`                  Bind addr: '${hostPort(addresses.bind.ip, agent.host.port)}'`);
  if (addresses.advertise) ui.info(`Advertise addr: '${hostPort(addresses.advertise.ip, addresses.advertise.port)}'`);
  ui.info(`                   RPC addr: '${config.rpcAddr}'`);
  ui.info(`                  Encrypted: ${agent.serf.encryptionEnabled()}`);
  ui.info(`                   Snapshot: ${config.snapshotPath !== ""}`);
  ui.info(`                    Profile: ${config.profile}`);
  ui.info(`Message Compression Enabled: ${config.enableCompression}`);
}

/** Waits for whatever ends the agent and returns the exit code. */
async function waitForExit(
  config: AgentConfig,
  agent: Agent,
  log: AgentLog,
  ui: AgentUi,
  retry: Promise<boolean>,
): Promise<number> {
  const signals = new SignalQueue();
  try {
    for (;;) {
      const ended = await Promise.race([
        signals.next(),
        agent.whenShutdown().then(() => "shutdown" as const),
        retry.then((ok) => ok ? new Promise<never>(() => {}) : "retry-failed" as const),
      ]);
      if (ended === "shutdown") return 0;
      if (ended === "retry-failed") return 1;
      ui.output(`Caught signal: ${ended}`);
      if (ended === "hangup") {
        config = await reload(config, agent, log, ui);
        continue;
      }
      const graceful = (ended === "interrupt" && !config.skipLeaveOnInterrupt) ||
        (ended === "terminated" && config.leaveOnTerminate);
      if (!graceful) return 1;
      ui.output("Gracefully shutting down agent...");
      const leave = agent.leave().then(() => 0, (e) => {
        ui.error(`Error: ${errorMessage(e)}`);
        return new Promise<number>(() => {});
      });
      const timeout = new Promise<number>((r) => setTimeout(() => r(1), GRACEFUL_TIMEOUT_MS));
      return await Promise.race([leave, timeout, signals.next().then(() => 1)]);
    }
  } finally {
    signals.close();
  }
}

/**
 * Starts an agent with `config` and resolves with the process exit code when
 * it stops. `addresses` are the bind/advertise addresses `serf agent`
 * already resolved (computed here when absent).
 */
export async function runAgent(config: AgentConfig, io: AgentIo, addresses?: AgentAddresses): Promise<number> {
  const ui = agentUi(io);
  if (!addresses) {
    const setup = await checkAgentSetup(config);
    if (!setup.addresses) {
      ui.error(setup.error ?? "Invalid bind address");
      return 1;
    }
    addresses = setup.addresses;
  }
  const log = new AgentLog(parseLogLevel(config.logLevel) ?? "INFO", (line) => ui.info(line));
  const runtime = currentRuntime({ logger: log.logger });
  ui.output("Starting Serf agent...");
  let agent: Agent;
  try {
    agent = await Agent.create(config, addresses, { runtime, logger: log.logger });
  } catch (e) {
    const stage = e instanceof AgentSetupError ? "setup" : "start";
    ui.error(`Failed to ${stage} the Serf agent: ${errorMessage(e)}`);
    return 1;
  }
  attachEventHandlers(agent, eventScripts(config));
  // One CPU watch: the JIT policy relaxes once busy, code pages are trimmed whenever the agent settles.
  const relaxJit = jitRelaxer();
  const trim = trimOnSettle();
  const activity = watchActivity(runtime, (busy) => {
    relaxJit?.(busy);
    trim(busy);
  });
  let rpc: RpcServer | undefined;
  try {
    try {
      rpc = await serveRpc(config, agent, log, runtime);
    } catch (e) {
      ui.error(`Error starting RPC listener: ${errorMessage(e)}`);
      return 1;
    }
    ui.output("Starting Serf agent RPC...");
    banner(ui, config, addresses, agent);
    if (config.startJoin.length > 0) {
      ui.output(`Joining cluster...(replay: ${config.replayOnJoin})`);
      const { num, error } = await agent.join(config.startJoin, config.replayOnJoin);
      if (error) {
        ui.error(error);
        return 1;
      }
      ui.info(`Join completed. Synced with ${num} initial agents`);
    }
    ui.info("");
    ui.output("Log data will now stream in as it occurs:\n");
    log.openGate();
    return await waitForExit(config, agent, log, ui, retryJoin(config, agent, log));
  } finally {
    activity.stop();
    rpc?.close();
    await agent.shutdown();
  }
}
