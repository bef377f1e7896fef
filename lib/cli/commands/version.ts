/**
 * `serf version` (`command/version.go`), also reached through `-v`/`--version`.
 *
 * @module
 */
import type { Command } from "../command.ts";

/** The version this CLI reports (Serf's `version.GetHumanVersion()` of the binary we match). */
export const VERSION = "0.8.2-dev";
/** Serf protocol range understood by the agent. */
export const PROTOCOL_VERSION_MIN = 2;
/** Serf protocol range understood by the agent. */
export const PROTOCOL_VERSION_MAX = 5;

/** `serf version`. */
export const versionCommand: Command = {
  synopsis: "Prints the Serf version",
  help: "",
  run(_args, ctx) {
    ctx.ui.output(VERSION);
    ctx.ui.output(`Agent Protocol: ${PROTOCOL_VERSION_MAX} (Understands back to: ${PROTOCOL_VERSION_MIN})`);
    return Promise.resolve(0);
  },
};
