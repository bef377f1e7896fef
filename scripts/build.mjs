#!/usr/bin/env node
// Builds the single `serf` executable.
//   node scripts/build.mjs            -> dist/serf for this machine
//   node scripts/build.mjs --release  -> dist/serf-<os>-<arch>[.exe] for every release target
// Uses `bun build --compile` (works offline); falls back to `deno compile` when Bun is absent
// (that needs Deno's runtime download, i.e. internet access).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

/** Release targets: [output suffix, bun --target, deno --target]. */
const TARGETS = [
  ["linux-x64", "bun-linux-x64", "x86_64-unknown-linux-gnu"],
  ["linux-arm64", "bun-linux-arm64", "aarch64-unknown-linux-gnu"],
  ["darwin-x64", "bun-darwin-x64", "x86_64-apple-darwin"],
  ["darwin-arm64", "bun-darwin-arm64", "aarch64-apple-darwin"],
  ["windows-x64", "bun-windows-x64", "x86_64-pc-windows-msvc"],
];

function run(cmd, args) {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function build(out, bunTarget, denoTarget) {
  if (existsSync(bin("bun"))) {
    // --bytecode: functions ship precompiled, so the first join, push/pull and RPC calls of a
    // fresh agent do not pay for parsing and bytecode generation (it halves a cold join).
    // ESM output keeps cli.ts's top-level await.
    const args = ["build", "--compile", "--minify", "--bytecode", "--format=esm", "cli.ts", "--outfile", out];
    if (bunTarget) args.push(`--target=${bunTarget}`);
    run(bin("bun"), args);
  } else if (existsSync(bin("deno"))) {
    const args = ["compile", "-A", "--output", out];
    if (denoTarget) args.push("--target", denoTarget);
    run(bin("deno"), [...args, "cli.ts"]);
  } else {
    console.error("neither bun nor deno found in node_modules/.bin: run `npm install` first");
    process.exit(1);
  }
}

mkdirSync(join(root, "dist"), { recursive: true });
if (process.argv.includes("--release")) {
  for (const [suffix, bunTarget, denoTarget] of TARGETS) {
    const exe = suffix.startsWith("windows") ? ".exe" : "";
    build(join("dist", `serf-${suffix}${exe}`), bunTarget, denoTarget);
  }
} else {
  build(join("dist", "serf"));
}
