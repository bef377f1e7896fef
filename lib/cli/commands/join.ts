/**
 * `serf join` (`command/join.go`): asks the agent to join existing members.
 *
 * @module
 */
import { type Command, commandFlags, usageError, withClient } from "../command.ts";
import { errorText, rpcFlags } from "../rpc.ts";

const HELP = `Usage: serf join [options] address ...

  Tells a running Serf agent (with "serf agent") to join the cluster
  by specifying at least one existing member.

Options:

  -replay                   Replay past user events.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** `serf join`. */
export const joinCommand: Command = {
  synopsis: "Tell Serf agent to join cluster",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const replay = fs.bool("replay", false);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    const addrs = fs.args();
    if (addrs.length === 0) return usageError(ctx, "At least one address to join must be specified.", HELP);
    return await withClient(ctx, rpc, async (client) => {
      let n: number;
      try {
        n = await client.join(addrs, replay.value);
      } catch (e) {
        ctx.ui.error(`Error joining the cluster: ${errorText(e)}`);
        return 1;
      }
      ctx.ui.output(`Successfully joined cluster by contacting ${n} nodes.`);
      return 0;
    });
  },
};
