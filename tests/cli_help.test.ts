/**
 * Help, usage and argument errors of our CLI against the real `/usr/bin/serf`:
 * stdout, stderr and exit code must be byte-for-byte equal. Every case here
 * fails before any RPC connection is attempted. Most cases call `main()`
 * in-process; a few spawn `cli.ts` with the current runtime to cover the
 * executable entry point.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMANDS, main } from "../lib/cli/main.ts";

const SERF = "/usr/bin/serf";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** A port of ours that is closed (checked in before()); commands pointed at it fail to connect. */
const DEAD_RPC = "127.0.0.1:23998";

// Without the real binary these tests are skipped, except on CI where they must fail.
const skip = !existsSync(SERF) && process.env.CI !== "true" ? `${SERF} is not installed` : false;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment both CLIs run with (no SERF_RPC_* from the caller). */
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, SERF_RPC_ADDR: DEAD_RPC };
  delete env.SERF_RPC_AUTH;
  return env;
}

function spawnRun(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: cleanEnv() as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Our CLI as a process: `deno run -A cli.ts` or `bun cli.ts`, whichever runs this test. */
function spawnOurs(args: string[]): Promise<Run> {
  const exe = process.execPath;
  const prefix = basename(exe).startsWith("deno") ? ["run", "-A", "cli.ts"] : ["cli.ts"];
  return spawnRun(exe, [...prefix, ...args]);
}

/** Our CLI in-process. */
async function runOurs(args: string[]): Promise<Run> {
  let stdout = "", stderr = "";
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: cleanEnv() });
  return { code, stdout, stderr };
}

async function assertSameAsSerf(args: string[], ours: (a: string[]) => Promise<Run> = runOurs): Promise<void> {
  const [want, got] = await Promise.all([spawnRun(SERF, args), ours(args)]);
  assert.deepEqual(got, want, `serf ${args.join(" ")}`);
}

const NAMES = Object.keys(COMMANDS);

describe("CLI help and usage match /usr/bin/serf", { skip }, () => {
  let blocker: Server | undefined;
  before(async () => {
    // Make sure nothing answers on DEAD_RPC: bind it ourselves, then close it again.
    blocker = createServer();
    await new Promise<void>((resolve, reject) => {
      blocker!.once("error", reject);
      blocker!.listen(23998, "127.0.0.1", () => resolve());
    });
    await new Promise<void>((resolve) => blocker!.close(() => resolve()));
  });
  after(() => blocker?.close());

  it("lists the same commands as serf", async () => {
    const usage = (await spawnRun(SERF, [])).stderr;
    const listed = [...usage.matchAll(/^ {4}(\S+) {2,}/gm)].map((m) => m[1]);
    assert.deepEqual(listed, NAMES);
  });

  const topLevel: string[][] = [
    [],
    ["-h"],
    ["--help"],
    ["-help"],
    ["bogus"],
    ["bogus", "-h"],
    ["version"],
    ["version", "-x", "extra"],
    ["-v"],
    ["--version"],
    ["members", "-v"],
    ["event", "--", "--version"],
    ["-version"],
    ["-version", "-h"],
    ["-x", "members"],
    ["--", "members"],
    ["", "members", "-h"],
    ["version", "-h"],
    ["-h", "members"],
    ["--help", "bogus"],
    ["members", "--", "-h"],
  ];
  for (const args of topLevel) {
    it(`serf ${JSON.stringify(args)}`, () => assertSameAsSerf(args));
  }

  for (const name of NAMES) {
    it(`serf ${name} -h / -help / --help / late -h`, async () => {
      await assertSameAsSerf([name, "-h"]);
      await assertSameAsSerf([name, "-help"]);
      await assertSameAsSerf([name, "--help"]);
      await assertSameAsSerf([name, "-bogus", "x", "-h"]);
    });
  }

  for (const name of NAMES.filter((n) => n !== "version" && n !== "keygen")) {
    it(`serf ${name}: flag errors print the error to stderr and the help to stdout`, async () => {
      await assertSameAsSerf([name, "-nosuchflag"]);
      await assertSameAsSerf([name, "--help=1"]);
      await assertSameAsSerf([name, "---x"]);
      await assertSameAsSerf([name, "-rpc-addr"]);
    });
  }

  const argErrors: string[][] = [
    ["join"],
    ["join", "-replay"],
    ["event"],
    ["event", "a", "b", "c"],
    ["event", "-coalesce=maybe", "a"],
    ["force-leave"],
    ["force-leave", "a", "b"],
    ["query"],
    ["query", "a", "b", "c"],
    ["query", "-relay-factor=256", "q"],
    ["query", "-relay-factor=-1", "q"],
    ["query", "-relay-factor=0x1g", "q"],
    ["query", "-timeout=5", "q"],
    ["query", "-tag", "novalue", "q"],
    ["query", "-tag", "=v", "q"],
    ["query", "-no-ack=yes", "q"],
    ["tags"],
    ["keys"],
    ["keys", "-list", "-use=k"],
    ["keys", "-install=a", "-remove=b"],
    ["members", "-tag", "x"],
    ["members", "-role=r", "-tag", "x"],
    ["members", "-detailed=abc"],
    ["monitor", "-log-level"],
  ];
  for (const args of argErrors) {
    it(`serf ${args.join(" ")}`, () => assertSameAsSerf(args));
  }

  it("commands pointed at a closed RPC port fail the same way", async () => {
    for (const name of ["members", "info", "leave", "monitor", "reachability"]) await assertSameAsSerf([name]);
    await assertSameAsSerf(["join", "1.2.3.4"]);
    await assertSameAsSerf(["event", "e"]);
    await assertSameAsSerf(["query", "-format=xml", "q"]);
    await assertSameAsSerf(["force-leave", "n"]);
    await assertSameAsSerf(["rtt", "a", "b", "c"]);
    await assertSameAsSerf(["tags", "-set", "a"]);
    await assertSameAsSerf(["keys", "-list"]);
    await assertSameAsSerf(["members", `-rpc-addr=${DEAD_RPC}`, "-rpc-auth=x"]);
  });

  it("the cli.ts entry point behaves the same as a process", async () => {
    for (const args of [[], ["--version"], ["members", "-h"], ["members", "-x"], ["join"], ["members"]]) {
      await assertSameAsSerf(args, spawnOurs);
    }
  });

  it("keygen prints a fresh 32-byte base64 key", async () => {
    const a = await spawnOurs(["keygen"]);
    const b = await runOurs(["keygen", "ignored"]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
      assert.equal(Buffer.from(r.stdout.trim(), "base64").length, 32);
    }
    assert.notEqual(a.stdout, b.stdout);
    const real = await spawnRun(SERF, ["keygen"]);
    assert.equal(real.stdout.length, a.stdout.length);
  });
});
