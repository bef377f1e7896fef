/**
 * `serf leave` (`command/leave.go`): graceful leave and shutdown of the agent.
 *
 * @module
 */
import { type Command, commandFlags, withClient } from "../command.ts";
import { errorText, rpcFlags } from "../rpc.ts";

const HELP = `Usage: serf leave

  Causes the agent to gracefully leave the Serf cluster and shutdown.

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** `serf leave`. */
export const leaveCommand: Command = {
  synopsis: "Gracefully leaves the Serf cluster and shuts down",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    return await withClient(ctx, rpc, async (client) => {
      try {
        await client.leave();
      } catch (e) {
        ctx.ui.error(`Error leaving: ${errorText(e)}`);
        return 1;
      }
      ctx.ui.output("Graceful leave complete");
      return 0;
    });
  },
};
