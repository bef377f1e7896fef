/**
 * `serf keygen` (`command/keygen.go`): prints a new random 32-byte key in
 * standard base64.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Command } from "../command.ts";

const HELP = `Usage: serf keygen

  Generates a new encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.`;

/** `serf keygen`. */
export const keygenCommand: Command = {
  synopsis: "Generates a new encryption key",
  help: HELP,
  run(_args, ctx) {
    ctx.ui.output(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"));
    return Promise.resolve(0);
  },
};
