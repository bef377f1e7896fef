/**
 * `serf force-leave` (`command/force_leave.go`): forces a member into the
 * "left" state (`-prune` also removes it from the member list).
 *
 * @module
 */
import { type Command, commandFlags, usageError, withClient } from "../command.ts";
import { errorText, rpcFlags } from "../rpc.ts";

const HELP = `Usage: serf force-leave [options] name

  Forces a member of a Serf cluster to enter the "left" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. This command is most useful for cleaning out "failed" nodes
  that are never coming back. If you do not force leave a failed node,
  Serf will attempt to reconnect to those failed nodes for some period of
  time before eventually reaping them.

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.
  -prune                    Remove agent forcibly from list of members`;

/** `serf force-leave`. */
export const forceLeaveCommand: Command = {
  synopsis: 'Forces a member of the cluster to enter the "left" state',
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const prune = fs.bool("prune", false);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    const nodes = fs.args();
    if (nodes.length !== 1) return usageError(ctx, "A node name must be specified to force leave.", HELP);
    return await withClient(ctx, rpc, async (client) => {
      try {
        await client.forceLeave(nodes[0], prune.value);
      } catch (e) {
        ctx.ui.error(`Error force leaving: ${errorText(e)}`);
        return 1;
      }
      return 0;
    });
  },
};
