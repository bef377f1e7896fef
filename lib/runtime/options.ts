/**
 * Options shared by the real runtime adapters, and their default logger.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";

/** Options for `createNodeRuntime`, `createBunRuntime`, `createDenoRuntime` and `currentRuntime`. */
export interface RuntimeOptions {
  /**
   * Receives socket errors the adapter swallows (`runtime: ...` lines).
   * Default: {@link stderrLogger}.
   */
  logger?: Logger;
}

/** Writes WARN and ERR lines to stderr as `[LEVEL] message`; drops the rest. */
export const stderrLogger: Logger = (level, message) => {
  if (level === "WARN" || level === "ERR") console.error(`[${level}] ${message}`);
};
