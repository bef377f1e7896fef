#!/usr/bin/env -S deno run -A
/**
 * The `serf` executable: `deno run -A cli.ts ...`, `bun cli.ts ...`, or the
 * binary built by `bun build --compile cli.ts`.
 *
 * @module
 */
import process from "node:process";
import { main } from "./lib/cli/main.ts";
import { processOutput } from "./lib/runtime/stdio.ts";

const code = await main(process.argv.slice(2));
await processOutput().flushed();
process.exit(code);
