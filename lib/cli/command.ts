/**
 * The shape of a CLI command (mitchellh/cli's `Command`) and what it gets to
 * run: the process streams, the Serf UI over stdout, and the RPC connector.
 *
 * @module
 */
import type { AgentAddresses, AgentConfig, AgentIo } from "../agent/config.ts";
import { FlagSet } from "./flags.ts";
import type { Ui, Writer } from "./ui.ts";
import { type CliRpcClient, type Connector, errorText, type RpcFlags } from "./rpc.ts";

/** The process as seen by the CLI. */
export interface CliIo {
  /** Writes to standard output. */
  stdout: Writer;
  /** Writes to standard error. */
  stderr: Writer;
  /** The environment (SERF_RPC_ADDR, SERF_RPC_AUTH, ...). */
  env: Record<string, string | undefined>;
  /**
   * Calls `cb` on every interrupt (SIGINT) until the returned function is
   * called. Commands that watch for Ctrl-C (query, monitor, reachability)
   * use it; without it they cannot be interrupted gracefully.
   */
  onInterrupt?(cb: () => void): () => void;
}

/** What a command runs with. */
export interface CommandContext {
  io: CliIo;
  /** `cli.BasicUi{Writer: os.Stdout}`. */
  ui: Ui;
  /** Opens the RPC client. */
  connect: Connector;
  /** Replaces `lib/agent/run.ts`'s `runAgent` (tests). */
  runAgent?: AgentRunner;
}

/** `runAgent`'s signature. */
export type AgentRunner = (config: AgentConfig, io: AgentIo, addresses?: AgentAddresses) => Promise<number>;

/** One `serf <name>` command. */
export interface Command {
  /** One line for the command list. */
  synopsis: string;
  /** The `-h` text (already trimmed, no trailing newline). */
  help: string;
  /** Runs with the arguments after the command name; resolves with the exit code. */
  run(args: string[], ctx: CommandContext): Promise<number>;
}

/** A flag set that prints `help` with `Ui.Output` and errors to stderr, as every Serf command sets it up. */
export function commandFlags(ctx: CommandContext, help: string): FlagSet {
  return new FlagSet({ usage: () => ctx.ui.output(help), output: ctx.io.stderr });
}

/**
 * Connects with the parsed rpc flags (`Error connecting to Serf agent: ...`
 * and exit 1 on failure), runs `fn`, and closes the client.
 */
export async function withClient(
  ctx: CommandContext,
  rpc: RpcFlags,
  fn: (client: CliRpcClient) => Promise<number>,
): Promise<number> {
  let client: CliRpcClient;
  try {
    client = await ctx.connect(rpc.addr.value, rpc.auth.value);
  } catch (e) {
    ctx.ui.error(`Error connecting to Serf agent: ${errorText(e)}`);
    return 1;
  }
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Prints `message`, a blank line and the help as errors (the "missing argument" pattern). */
export function usageError(ctx: CommandContext, message: string, help: string): number {
  ctx.ui.error(message);
  ctx.ui.error("");
  ctx.ui.error(help);
  return 1;
}

/**
 * Runs `fn` with a promise that resolves to true on the first interrupt
 * (never, when the process offers no interrupt hook).
 */
export async function runUntilInterrupted<T>(
  onInterrupt: ((cb: () => void) => () => void) | undefined,
  fn: (interrupted: Promise<boolean>) => Promise<T>,
): Promise<T> {
  let fire: (v: boolean) => void = () => {};
  const interrupted = new Promise<boolean>((resolve) => (fire = resolve));
  const off = onInterrupt?.(() => fire(true));
  try {
    return await fn(interrupted);
  } finally {
    off?.();
  }
}
