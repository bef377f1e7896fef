/**
 * The `serf` command line (`cmd/serf/main.go` + mitchellh/cli's `CLI.Run`):
 * `-v`/`--version` anywhere means `version`; `-h`/`-help`/`--help` anywhere
 * (before `--`) shows the help; the first non-flag argument picks the
 * command. Usage goes to stderr (exit 127 for no/unknown command, 0 for
 * help); commands print through a stdout UI.
 *
 * @module
 */
import process from "node:process";
import type { AgentRunner, CliIo, Command } from "./command.ts";
import { processOutput } from "../runtime/stdio.ts";
import { basicUi } from "./ui.ts";
import { type Connector, rpcConnect } from "./rpc.ts";
import { agentCommand } from "./commands/agent.ts";
import { eventCommand } from "./commands/event.ts";
import { forceLeaveCommand } from "./commands/force_leave.ts";
import { infoCommand } from "./commands/info.ts";
import { joinCommand } from "./commands/join.ts";
import { keygenCommand } from "./commands/keygen.ts";
import { keysCommand } from "./commands/keys.ts";
import { leaveCommand } from "./commands/leave.ts";
import { membersCommand } from "./commands/members.ts";
import { monitorCommand } from "./commands/monitor.ts";
import { queryCommand } from "./commands/query.ts";
import { reachabilityCommand } from "./commands/reachability.ts";
import { rttCommand } from "./commands/rtt.ts";
import { tagsCommand } from "./commands/tags.ts";
import { versionCommand } from "./commands/version.ts";

export { VERSION } from "./commands/version.ts";
export type { CliIo } from "./command.ts";

/** Every command by name. */
export const COMMANDS: Record<string, Command> = {
  agent: agentCommand,
  event: eventCommand,
  "force-leave": forceLeaveCommand,
  info: infoCommand,
  join: joinCommand,
  keygen: keygenCommand,
  keys: keysCommand,
  leave: leaveCommand,
  members: membersCommand,
  monitor: monitorCommand,
  query: queryCommand,
  reachability: reachabilityCommand,
  rtt: rttCommand,
  tags: tagsCommand,
  version: versionCommand,
};

/** `cli.BasicHelpFunc("serf")`: the command list, names padded to the longest. */
export function usageText(): string {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length));
  let out = "Usage: serf [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n";
  for (const name of names) out += `    ${name.padEnd(width)}    ${COMMANDS[name].synopsis}\n`;
  return out;
}

/** What mitchellh/cli's `processArgs` makes of the arguments. */
interface ParsedArgs {
  isHelp: boolean;
  subcommand: string;
  subcommandArgs: string[];
  topFlags: string[];
}

function processArgs(args: string[]): ParsedArgs {
  const p: ParsedArgs = { isHelp: false, subcommand: "", subcommandArgs: [], topFlags: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") break;
    if (arg === "-h" || arg === "-help" || arg === "--help") {
      p.isHelp = true;
      continue;
    }
    if (p.subcommand === "") {
      // -version etc. only set CLI.isVersion, which does nothing without CLI.Version.
      if (arg === "-v" || arg === "-version" || arg === "--version") continue;
      if (arg !== "" && arg[0] === "-") p.topFlags.push(arg);
      else if (arg !== "") {
        p.subcommand = arg;
        p.subcommandArgs = args.slice(i + 1);
      }
    }
  }
  return p;
}

/** The process's stdout/stderr/env and SIGINT. */
function processIo(): CliIo {
  return {
    stdout: (t) => processOutput().stdout(t),
    stderr: (t) => processOutput().stderr(t),
    env: process.env,
    onInterrupt(cb) {
      const handler = () => cb();
      process.on("SIGINT", handler);
      return () => void process.off("SIGINT", handler);
    },
  };
}

/**
 * Runs the `serf` CLI with `args` (without the program name) and resolves
 * with the exit code. `io` defaults to the process; `connect` and
 * `runAgent` (for tests) replace the RPC client and the agent.
 */
export async function main(
  args: string[],
  io?: CliIo & { connect?: Connector; runAgent?: AgentRunner },
): Promise<number> {
  const pio = io ?? processIo();
  if (args.some((a) => a === "-v" || a === "--version")) args = ["version", ...args];
  const parsed = processArgs(args);
  if (parsed.isHelp && parsed.subcommand === "") {
    pio.stderr(usageText() + "\n");
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, parsed.subcommand) ? COMMANDS[parsed.subcommand] : undefined;
  if (!command) {
    pio.stderr(usageText() + "\n");
    return 127;
  }
  if (parsed.isHelp) {
    pio.stderr(command.help + "\n");
    return 0;
  }
  if (parsed.topFlags.length > 0) {
    pio.stderr(
      "Invalid flags before the subcommand. If these flags are for\n" +
        "the subcommand, please put them after the subcommand.\n\n" + command.help + "\n",
    );
    return 1;
  }
  const ctx = { io: pio, ui: basicUi(pio.stdout), connect: io?.connect ?? rpcConnect, runAgent: io?.runAgent };
  return await command.run(parsed.subcommandArgs, ctx);
}
