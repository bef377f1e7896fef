/**
 * `serf agent` (`agent/command.go`): reads the flags and config files into
 * an {@link AgentConfig}, makes the checks Serf makes before starting
 * (tags, durations, config files, event handlers, interface, log level, bind
 * and advertise addresses, encryption key, profile), then hands over to
 * `runAgent`, which prints "==> Starting Serf agent..." and runs until exit.
 *
 * @module
 */
import { nodeOs } from "../../runtime/builtin.ts";
import type { Command } from "../command.ts";
import { FlagSet } from "../flags.ts";
import { prefixedUi, type Ui } from "../ui.ts";
import { parseGoDurationMs } from "../duration.ts";
import { errorText } from "../rpc.ts";
import {
  type AgentConfig,
  type AgentIo,
  checkAgentSetup,
  checkLogLevel,
  defaultConfig,
  emptyConfig,
  finishConfig,
  mergeConfig,
  readConfigPaths,
  unmarshalTags,
} from "../../agent/config.ts";

const HELP = `Usage: serf agent [options]

  Starts the Serf agent and runs until an interrupt is received. The
  agent represents a single node in a cluster.

Options:

  -bind=0.0.0.0:7946       Address to bind network listeners to. To use an IPv6
                           address, specify [::1] or [::1]:7946.
  -iface                   Network interface to bind to. Can be used instead of
                           -bind if the interface is known but not the address.
                           If both are provided, then Serf verifies that the
                           interface has the bind address that is provided. This
                           flag also sets the multicast device used for -discover.
  -advertise=0.0.0.0       Address to advertise to the other cluster members
  -config-file=foo         Path to a JSON file to read configuration from.
                           This can be specified multiple times.
  -config-dir=foo          Path to a directory to read configuration files
                           from. This will read every file ending in ".json"
                           as configuration in this directory in alphabetical
                           order.
  -discover=cluster        A cluster name used to discovery peers. On
                           networks that support multicast, this can be used to have
                           peers join each other without an explicit join.
  -encrypt=foo             Key for encrypting network traffic within Serf.
                           Must be a base64-encoded 32-byte key.
  -keyring-file            The keyring file is used to store encryption keys used
                           by Serf. As encryption keys are changed, the content of
                           this file is updated so that the same keys may be used
                           during later agent starts.
  -event-handler=foo       Script to execute when events occur. This can
                           be specified multiple times. See the event scripts
                           section below for more info.
  -join=addr               An initial agent to join with. This flag can be
                           specified multiple times.
  -log-level=info          Log level of the agent.
  -node=hostname           Name of this node. Must be unique in the cluster
  -profile=[lan|wan|local] Profile is used to control the timing profiles used in Serf.
\t\t\t\t\t\t   The default if not provided is lan.
  -protocol=n              Serf protocol version to use. This defaults to
                           the latest version, but can be set back for upgrades.
  -rejoin                  Ignores a previous leave and attempts to rejoin the cluster.
                           Only works if provided along with a snapshot file.
  -retry-join=addr         An agent to join with. This flag be specified multiple times.
                           Does not exit on failure like -join, used to retry until success.
  -retry-interval=30s      Sets the interval on which a node will attempt to retry joining
                           nodes provided by -retry-join. Defaults to 30s.
  -retry-max=0             Limits the number of retry events. Defaults to 0 for unlimited.
  -disable-compression     Disable message compression for broadcasting events. Enabled by default.
  -role=foo                The role of this node, if any. This can be used
                           by event scripts to differentiate different types
                           of nodes that may be part of the same cluster.
                           '-role' is deprecated in favor of '-tag role=foo'.
  -rpc-addr=127.0.0.1:7373 Address to bind the RPC listener.
  -snapshot=path/to/file   The snapshot file is used to store alive nodes and
                           event information so that Serf can rejoin a cluster
                           and avoid event replay on restart.
  -tag key=value           Tag can be specified multiple times to attach multiple
                           key/value tag pairs to the given node.
  -tags-file=/path/to/file The tags file is used to persist tag data. As an agent's
                           tags are changed, the tags file will be updated. Tags
                           can be reloaded during later agent starts. This option
                           is incompatible with the '-tag' option and requires there
                           be no tags in the agent configuration file, if given.
  -syslog                  When provided, logs will also be sent to syslog.
  -broadcast-timeout=5s    Sets the broadcast timeout, which is the max time allowed for
                           responses to events including leave and force remove messages.
                           Defaults to 5s.

Event handlers:

  For more information on what event handlers are, please read the
  Serf documentation. This section will document how to configure them
  on the command-line. There are three methods of specifying an event
  handler:

  - The value can be a plain script, such as "event.sh". In this case,
    Serf will send all events to this script, and you'll be responsible
    for differentiating between them based on the SERF_EVENT.

  - The value can be in the format of "TYPE=SCRIPT", such as
    "member-join=join.sh". With this format, Serf will only send events
    of that type to that script.

  - The value can be in the format of "user:EVENT=SCRIPT", such as
    "user:deploy=deploy.sh". This means that Serf will only invoke this
    script in the case of user events named "deploy".`;

/** String flags of `serf agent` and the config field each sets. */
const STRING_FLAGS: [string, StringField][] = [
  ["bind", "bind"],
  ["advertise", "advertise"],
  ["encrypt", "encryptKey"],
  ["keyring-file", "keyringFile"],
  ["log-level", "logLevel"],
  ["node", "nodeName"],
  ["role", "role"],
  ["rpc-addr", "rpcAddr"],
  ["profile", "profile"],
  ["snapshot", "snapshotPath"],
  ["discover", "discover"],
  ["iface", "interface"],
  ["tags-file", "tagsFile"],
];

type StringField =
  | "bind"
  | "advertise"
  | "encryptKey"
  | "keyringFile"
  | "logLevel"
  | "nodeName"
  | "role"
  | "rpcAddr"
  | "profile"
  | "snapshotPath"
  | "discover"
  | "interface"
  | "tagsFile";

/** The agent command's UI: `==> ` for output and errors, four spaces for info. */
export function agentUi(ui: Ui): Ui {
  return prefixedUi(ui, { output: "==> ", info: "    ", error: "==> " });
}

/**
 * Go's `Command.readConfig`: parses `args`, loads the config files, merges
 * defaults ← files ← flags, fills in the hostname, validates event handlers
 * and the interface, applies the role/interval fixes (printing their
 * notices). Problems are printed through `ui`; returns null then.
 */
export async function readAgentConfig(args: string[], ui: Ui, io: AgentIo): Promise<AgentConfig | null> {
  const cmd = emptyConfig();
  const fs = new FlagSet({ usage: () => ui.output(HELP), output: io.stderr });
  const strings = STRING_FLAGS.map(([flag, key]) => [key, fs.string(flag, "")] as const);
  const configFiles: string[] = [];
  fs.stringSlice("config-file", configFiles);
  fs.stringSlice("config-dir", configFiles);
  fs.stringSlice("event-handler", cmd.eventHandlers);
  fs.stringSlice("join", cmd.startJoin);
  fs.stringSlice("retry-join", cmd.retryJoin);
  const tags = fs.stringSlice("tag");
  const replay = fs.bool("replay", false);
  const protocol = fs.int("protocol", -1);
  const syslog = fs.bool("syslog", false);
  const retryMax = fs.int("retry-max", 0);
  const retryInterval = fs.string("retry-interval", "");
  const rejoin = fs.bool("rejoin", false);
  const disableCompression = fs.bool("disable-compression", false);
  const broadcastTimeout = fs.string("broadcast-timeout", "");
  if (!fs.parse(args).ok) return null;

  for (const [key, ref] of strings) cmd[key] = ref.value;
  cmd.replayOnJoin = replay.value;
  cmd.protocol = protocol.value;
  cmd.enableSyslog = syslog.value;
  cmd.retryMaxAttempts = retryMax.value;
  cmd.rejoinAfterLeave = rejoin.value;
  cmd.enableCompression = !disableCompression.value;
  try {
    cmd.tags = unmarshalTags(tags.value);
    if (retryInterval.value !== "") cmd.retryInterval = parseGoDurationMs(retryInterval.value);
    if (broadcastTimeout.value !== "") cmd.broadcastTimeout = parseGoDurationMs(broadcastTimeout.value);
  } catch (e) {
    ui.error(`Error: ${errorText(e)}`);
    return null;
  }

  let config = defaultConfig();
  if (configFiles.length > 0) {
    try {
      config = mergeConfig(config, await readConfigPaths(configFiles));
    } catch (e) {
      ui.error(errorText(e));
      return null;
    }
  }
  config = mergeConfig(config, cmd);
  if (config.nodeName === "") {
    try {
      config.nodeName = nodeOs().hostname();
    } catch (e) {
      ui.error(`Error determining hostname: ${errorText(e)}`);
      return null;
    }
  }
  const finished = finishConfig(config);
  if ("error" in finished) {
    ui.error(finished.error);
    return null;
  }
  for (const notice of finished.notices) ui.output(notice);
  return finished.config;
}

/** `serf agent`. */
export const agentCommand: Command = {
  synopsis: "Runs a Serf agent",
  help: HELP,
  async run(args, ctx) {
    const ui = agentUi(ctx.ui);
    const config = await readAgentConfig(args, ui, ctx.io);
    if (!config) return 1;
    const levelError = checkLogLevel(config.logLevel);
    if (levelError) {
      ui.error(levelError);
      return 1;
    }
    const setup = await checkAgentSetup(config);
    for (const notice of setup.notices) ui.output(notice);
    if (setup.error !== undefined) {
      ui.error(setup.error);
      return 1;
    }
    config.reload = () => readAgentConfig(args, ui, ctx.io);
    // Loaded on demand: the other commands need none of the agent's modules.
    const runAgent = ctx.runAgent ?? (await import("../../agent/run.ts")).runAgent;
    return await runAgent(config, { stdout: ctx.io.stdout, stderr: ctx.io.stderr, env: ctx.io.env }, setup.addresses);
  },
};
