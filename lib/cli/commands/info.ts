/**
 * `serf info` (`command/info.go`): the agent's `stats`, as sorted
 * `key:` / `\tsubkey = value` text or JSON.
 *
 * @module
 */
import { type Command, commandFlags, withClient } from "../command.ts";
import { errorText, rpcFlags } from "../rpc.ts";
import { formatOutput, JsonMap } from "../output.ts";
import { compareCodePoints } from "../gofmt.ts";

const HELP = `Usage: serf info [options]

\tProvides debugging information for operators

Options:

  -format                  If provided, output is returned in the specified
                           format. Valid formats are 'json', and 'text' (default)

  -rpc-addr=127.0.0.1:7373 RPC address of the Serf agent.

  -rpc-auth=""             RPC auth token of the Serf agent.`;

/** Go's `StatsContainer.String()`. */
export function statsText(stats: Record<string, Record<string, string>>): string {
  let out = "";
  for (const key of Object.keys(stats).sort(compareCodePoints)) {
    out += `${key}:\n`;
    const sub = stats[key] ?? {};
    for (const k of Object.keys(sub).sort(compareCodePoints)) out += `\t${k} = ${sub[k]}\n`;
  }
  return out;
}

/** `serf info`. */
export const infoCommand: Command = {
  synopsis: "Provides debugging information for operators",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const format = fs.string("format", "text");
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    return await withClient(ctx, rpc, async (client) => {
      let stats: Record<string, Record<string, string>>;
      try {
        stats = await client.stats();
      } catch (e) {
        ctx.ui.error(`Error querying agent: ${errorText(e)}`);
        return 1;
      }
      const json = new JsonMap(
        Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v ? new JsonMap(v) : null])),
      );
      let out: string;
      try {
        out = formatOutput({ text: () => statsText(stats) }, json, format.value);
      } catch (e) {
        ctx.ui.error(`Encoding error: ${errorText(e)}`);
        return 1;
      }
      ctx.ui.output(out);
      return 0;
    });
  },
};
