/**
 * `serf members` (`command/members.go`): lists members through
 * `members-filtered`, as a columnized table or JSON.
 *
 * @module
 */
import { type Command, commandFlags, withClient } from "../command.ts";
import { errorText, rpcFlags, type RpcMember } from "../rpc.ts";
import { columnize, formatOutput, JsonMap } from "../output.ts";
import { goTcpAddrString } from "../gofmt.ts";
import { marshalTags, unmarshalTags } from "../../agent/config.ts";

const HELP = `Usage: serf members [options]

  Outputs the members of a running Serf agent.

Options:

  -detailed                 Additional information such as protocol versions
                            will be shown (only affects text output format).

  -format                   If provided, output is returned in the specified
                            format. Valid formats are 'json', and 'text' (default)

  -name=<regexp>            If provided, only members matching the regexp are
                            returned. The regexp is anchored at the start and end,
                            and must be a full match.

  -role=<regexp>            If provided, output is filtered to only nodes matching
                            the regular expression for role
                            '-role' is deprecated in favor of '-tag role=foo'.
                            The regexp is anchored at the start and end, and must be
                            a full match.

  -status=<regexp>          If provided, output is filtered to only nodes matching
                            the regular expression for status

  -tag <key>=<regexp>       If provided, output is filtered to only nodes with the
                            tag <key> with value matching the regular expression.
                            tag can be specified multiple times to filter on
                            multiple keys. The regexp is anchored at the start and end,
                            and must be a full match.

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.

  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** The text lines of the member table (before columnize). */
export function memberLines(members: RpcMember[], detailed: boolean): string[] {
  return members.map((m) => {
    let line = `${m.name}|${goTcpAddrString(m.addr, m.port)}|${m.status}|${marshalTags(m.tags).join(",")}`;
    if (detailed) {
      line += `|Protocol Version: ${m.delegateCur}|Available Protocol Range: [${m.delegateMin}, ${m.delegateMax}]`;
    }
    return line;
  });
}

/** The JSON document of `-format=json` (Go's `MemberContainer`). */
export function membersJson(members: RpcMember[]): unknown {
  const list = members.map((m) => ({
    name: m.name,
    addr: goTcpAddrString(m.addr, m.port),
    port: m.port,
    tags: new JsonMap(m.tags),
    status: m.status,
    protocol: new JsonMap({ min: m.delegateMin, max: m.delegateMax, version: m.delegateCur }),
  }));
  return { members: list.length > 0 ? list : null };
}

/** `serf members`. */
export const membersCommand: Command = {
  synopsis: "Lists the members of a Serf cluster",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const detailed = fs.bool("detailed", false);
    const role = fs.string("role", "");
    const status = fs.string("status", "");
    const format = fs.string("format", "text");
    const tagPairs = fs.stringSlice("tag");
    const name = fs.string("name", "");
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    if (role.value !== "") {
      ctx.ui.output("Deprecation warning: 'Role' has been replaced with 'Tags'");
      tagPairs.value.push(`role=${role.value}`);
    }
    let tags: Record<string, string>;
    try {
      tags = unmarshalTags(tagPairs.value);
    } catch (e) {
      ctx.ui.error(`Error: ${errorText(e)}`);
      return 1;
    }
    return await withClient(ctx, rpc, async (client) => {
      let members: RpcMember[];
      try {
        members = await client.membersFiltered(tags, status.value, name.value);
      } catch (e) {
        ctx.ui.error(`Error retrieving members: ${errorText(e)}`);
        return 1;
      }
      let out: string;
      try {
        const text = { text: () => columnize(memberLines(members, detailed.value)) };
        out = formatOutput(text, membersJson(members), format.value);
      } catch (e) {
        ctx.ui.error(`Encoding error: ${errorText(e)}`);
        return 1;
      }
      ctx.ui.output(out);
      return 0;
    });
  },
};
