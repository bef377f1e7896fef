/**
 * `serf keys` (`command/keys.go`): installs, uses, removes or lists
 * encryption keys across the cluster.
 *
 * @module
 */
import { type Command, commandFlags, withClient } from "../command.ts";
import { errorText, type KeyResponse, rpcFlags } from "../rpc.ts";
import { columnize } from "../output.ts";
import { prefixedUi, type Ui } from "../ui.ts";

const HELP = `Usage: serf keys [options]...

  Manage the internal encryption keyring used by Serf. Modifications made by
  this command will be broadcasted to all members in the cluster and applied
  locally on each member. Operations of this command are idempotent.

  To facilitate key rotation, Serf allows for multiple encryption keys to be in
  use simultaneously. Only one key, the "primary" key, will be used for
  encrypting messages. All other keys are used for decryption only.

  All variations of this command will return 0 if all nodes reply and report
  no errors. If any node fails to respond or reports failure, we return 1.

  WARNING: Running with multiple encryption keys enabled is recommended as a
  transition state only. Performance may be impacted by using multiple keys.

Options:

  -install=<key>            Install a new key onto Serf's internal keyring. This
                            will enable the key for decryption. The key will not
                            be used to encrypt messages until the primary key is
                            changed.
  -use=<key>                Change the primary key used for encrypting messages.
                            All nodes in the cluster must already have this key
                            installed if they are to continue communicating with
                            eachother.
  -remove=<key>             Remove a key from Serf's internal keyring. The key
                            being removed may not be the current primary key.
  -list                     List all currently known keys in the cluster. This
                            will ask all nodes in the cluster for a list of keys
                            and dump a summary containing each key and the
                            number of members it is installed on to the console.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** The per-node messages of a failed key operation (the RPC client attaches the response body as `keyResponse`). */
function failureMessages(e: unknown): Record<string, string> {
  return (e as { keyResponse?: Partial<KeyResponse> })?.keyResponse?.messages ?? {};
}

function reportFailure(ui: Ui, e: unknown, what: string): number {
  const failures = Object.entries(failureMessages(e));
  if (failures.length > 0) ui.error(columnize(failures.map(([node, msg]) => `failed: | ${node} | ${msg}`)));
  ui.error("");
  ui.error(`${what}: ${errorText(e)}`);
  return 1;
}

/** `serf keys`. */
export const keysCommand: Command = {
  synopsis: "Manipulate the internal encryption keyring used by Serf",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const install = fs.string("install", "");
    const use = fs.string("use", "");
    const remove = fs.string("remove", "");
    const list = fs.bool("list", false);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    const ui = prefixedUi(ctx.ui, { output: "", info: "==> ", error: "" });
    let found = list.value;
    for (const arg of [install.value, use.value, remove.value]) {
      if (found && arg.length > 0) {
        ui.error("Only one of -install, -use, -remove, or -list allowed");
        return 1;
      }
      found ||= arg.length > 0;
    }
    if (!found) {
      ui.error(HELP);
      return 1;
    }
    return await withClient({ ...ctx, ui }, rpc, async (client) => {
      if (list.value) {
        ui.info("Asking all members for installed keys...");
        let resp: KeyResponse;
        try {
          resp = await client.listKeys();
        } catch (e) {
          return reportFailure(ui, e, "Failed to gather member keys");
        }
        ui.info("Keys gathered, listing cluster keys...");
        ui.output("");
        ui.output(columnize(Object.entries(resp.keys ?? {}).map(([k, n]) => `${k} | [${n}/${resp.numNodes}]`)));
        return 0;
      }
      const ops: [string, string, () => Promise<KeyResponse>, string, string][] = [
        [
          install.value,
          "Installing key on all members...",
          () => client.installKey(install.value),
          "Error installing key",
          "Successfully installed key!",
        ],
        [
          use.value,
          "Changing primary key on all members...",
          () => client.useKey(use.value),
          "Error changing primary key",
          "Successfully changed primary key!",
        ],
        [
          remove.value,
          "Removing key on all members...",
          () => client.removeKey(remove.value),
          "Error removing key",
          "Successfully removed key!",
        ],
      ];
      for (const [key, doing, op, failed, done] of ops) {
        if (key === "") continue;
        ui.info(doing);
        try {
          await op();
        } catch (e) {
          return reportFailure(ui, e, failed);
        }
        ui.info(done);
        return 0;
      }
      return 0;
    });
  },
};
