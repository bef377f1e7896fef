#!/usr/bin/env -S deno run -A
/**
 * The `serf` executable: `deno run -A cli.ts ...`, `bun cli.ts ...`, or the
 * binary built by `bun build --compile cli.ts`.
 *
 * @module
 */
import process from "node:process";
import { tuneEngineForAgent } from "./lib/runtime/engine.ts";

// Before anything else is loaded: this may replace the process (see lib/runtime/engine.ts).
if (process.argv[2] === "agent") tuneEngineForAgent();
const { main } = await import("./lib/cli/main.ts");
const { processOutput } = await import("./lib/runtime/stdio.ts");

const code = await main(process.argv.slice(2));
await processOutput().flushed();
process.exit(code);
