/**
 * Picks the adapter for the runtime we are running on. The only place
 * (with the adapters themselves) that may look at which runtime this is.
 *
 * @module
 */
import { createBunRuntime } from "./bun.ts";
import { createDenoRuntime } from "./deno.ts";
import { createNodeRuntime } from "./node.ts";
import type { RuntimeOptions } from "./options.ts";
import type { Runtime } from "./types.ts";

/** The JavaScript runtimes we have adapters for. */
export type RuntimeName = "bun" | "deno" | "node";

/** Which runtime this process runs on. */
export function runtimeName(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** A new adapter for the current runtime (Bun: `Bun.udpSocket` UDP; Deno and Node: `node:dgram`). */
export function currentRuntime(opts: RuntimeOptions = {}): Runtime {
  switch (runtimeName()) {
    case "bun":
      return createBunRuntime(opts);
    case "deno":
      return createDenoRuntime(opts);
    default:
      return createNodeRuntime(opts);
  }
}
