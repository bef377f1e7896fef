/**
 * `serf tags` (`command/tags.go`): sets and deletes tags of the agent.
 *
 * @module
 */
import { type Command, commandFlags, withClient } from "../command.ts";
import { errorText, rpcFlags } from "../rpc.ts";
import { unmarshalTags } from "../../agent/config.ts";

const HELP = `Usage: serf tags [options] ...

  Modifies tags on a running Serf agent.

Options:

  -rpc-addr=127.0.0.1:7373  RPC Address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.
  -set key=value            Creates or modifies the value of a tag
  -delete key               Removes a tag, if present`;

/** `serf tags`. */
export const tagsCommand: Command = {
  synopsis: "Modify tags of a running Serf agent",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const set = fs.stringSlice("set");
    const del = fs.stringSlice("delete");
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    if (set.value.length === 0 && del.value.length === 0) {
      ctx.ui.output(HELP);
      return 1;
    }
    return await withClient(ctx, rpc, async (client) => {
      let tags: Record<string, string>;
      try {
        tags = unmarshalTags(set.value);
      } catch (e) {
        ctx.ui.error(`Error: ${errorText(e)}`);
        return 1;
      }
      try {
        await client.updateTags(tags, del.value);
      } catch (e) {
        ctx.ui.error(`Error setting tags: ${errorText(e)}`);
        return 1;
      }
      ctx.ui.output("Successfully updated agent tags");
      return 0;
    });
  },
};
