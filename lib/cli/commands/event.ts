/**
 * `serf event` (`command/event.go`): dispatches a user event.
 *
 * @module
 */
import { type Command, commandFlags, usageError, withClient } from "../command.ts";
import { errorText, rpcFlags } from "../rpc.ts";

const HELP = `Usage: serf event [options] name payload

  Dispatches a custom event across the Serf cluster.

Options:

  -coalesce=true/false      Whether this event can be coalesced. This means
                            that repeated events of the same name within a
                            short period of time are ignored, except the last
                            one received. Default is true.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** `serf event`. */
export const eventCommand: Command = {
  synopsis: "Send a custom event through the Serf cluster",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const coalesce = fs.bool("coalesce", true);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    const rest = fs.args();
    if (rest.length < 1) return usageError(ctx, "An event name must be specified.", HELP);
    if (rest.length > 2) {
      return usageError(ctx, "Too many command line arguments. Only a name and payload must be specified.", HELP);
    }
    const name = rest[0];
    const payload = rest.length === 2 ? new TextEncoder().encode(rest[1]) : null;
    return await withClient(ctx, rpc, async (client) => {
      try {
        await client.userEvent(name, payload, coalesce.value);
      } catch (e) {
        ctx.ui.error(`Error sending event: ${errorText(e)}`);
        return 1;
      }
      ctx.ui.output(`Event '${name}' dispatched! Coalescing enabled: ${coalesce.value}`);
      return 0;
    });
  },
};
