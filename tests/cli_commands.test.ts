/**
 * Our CLI (spawned as `deno run -A cli.ts` / `bun cli.ts`) against REAL Serf
 * agents, compared with `/usr/bin/serf` running the same command: stdout,
 * stderr and exit code. Where Go prints in map order (members, acks, key
 * lists) lines are compared as sorted multisets; volatile values (timings,
 * goroutine counts) are masked.
 *
 * Agents: "real" (tag role=web, answers queries "echo" and "nl"), "two"
 * (tag x=<a&b>, joined at start), "three" (not joined until a test joins it),
 * and "enc", alone and encrypted, for the key commands. Ports 23610-23619.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

const SERF = "/usr/bin/serf";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const skip = !existsSync(SERF) && process.env.CI !== "true" ? `${SERF} is not installed` : false;

const REAL = { bind: "127.0.0.1:23610", rpc: "127.0.0.1:23611" };
const TWO = { bind: "127.0.0.1:23612", rpc: "127.0.0.1:23613" };
const THREE = { bind: "127.0.0.1:23614", rpc: "127.0.0.1:23615" };
const ENC = { bind: "127.0.0.1:23616", rpc: "127.0.0.1:23617" };
const KEY1 = "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=";
const KEY2 = "V2aL88imoayCsT0Wkte7Wa2zniqY8UTNu94ZvkoOqno=";
const DEAD = "127.0.0.1:23619";
const T = { timeout: 20_000 };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  if (!("SERF_RPC_ADDR" in extra)) delete env.SERF_RPC_ADDR;
  delete env.SERF_RPC_AUTH;
  return env as NodeJS.ProcessEnv;
}

/** Our CLI's command line under the runtime running this test. */
function ours(args: string[]): [string, string[]] {
  const exe = process.execPath;
  return [exe, [...(basename(exe).startsWith("deno") ? ["run", "-A", "cli.ts"] : ["cli.ts"]), ...args]];
}

function start(
  cmd: string,
  args: string[],
  env = baseEnv(),
): { child: ChildProcess; done: Promise<Run>; out: () => string } {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout!.on("data", (b) => (stdout += b));
  child.stderr!.on("data", (b) => (stderr += b));
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, out: () => stdout };
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  return start(cmd, args, env).done;
}

/**
 * Runs `serf <args>` and our CLI with the same arguments: concurrently for
 * read-only commands, one after the other for those that change the agent.
 */
async function both(args: string[], env?: NodeJS.ProcessEnv, sequential = false): Promise<{ go: Run; ts: Run }> {
  if (sequential) {
    const go = await run(SERF, args, env);
    return { go, ts: await run(...ours(args), env) };
  }
  const [go, ts] = await Promise.all([run(SERF, args, env), run(...ours(args), env)]);
  return { go, ts };
}

const MUTATING = new Set(["join", "tags", "event", "force-leave", "leave", "keys"]);

async function assertSame(args: string[], normalize: (r: Run) => unknown = (r) => r): Promise<Run> {
  const { go, ts } = await both(args, undefined, MUTATING.has(args[0]));
  assert.deepEqual(normalize(ts), normalize(go), `serf ${args.join(" ")}`);
  return ts;
}

/** Lines as a sorted multiset (trailing blanks dropped: Go trims only the last line). */
const sortedLines = (r: Run) => ({
  code: r.code,
  stdout: r.stdout.split("\n").map((l) => l.trimEnd()).sort(),
  stderr: r.stderr,
});

/** Polls `check`; fails early when the process `proc` it depends on has exited. */
async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  proc?: { child: ChildProcess; out: () => string },
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (proc && proc.child.exitCode !== null) throw new Error(`${what} exited: ${proc.out()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function memberCount(rpc: string): Promise<number> {
  const r = await run(SERF, ["members", `-rpc-addr=${rpc}`, "-status=alive"]);
  return r.code === 0 ? r.stdout.trim().split("\n").filter((l) => l !== "").length : -1;
}

describe("CLI commands against a real agent match /usr/bin/serf", { skip }, () => {
  const agents: { child: ChildProcess; done: Promise<Run>; out: () => string }[] = [];
  const rpcOf = (a: { rpc: string }) => `-rpc-addr=${a.rpc}`;
  const r = rpcOf(REAL);

  function startAgent(name: string, addr: { bind: string; rpc: string }, extra: string[]) {
    const a = start(SERF, [
      "agent",
      `-node=${name}`,
      `-bind=${addr.bind}`,
      `-rpc-addr=${addr.rpc}`,
      "-profile=local",
      ...extra,
    ]);
    agents.push(a);
    return a;
  }

  /** Starts the agents; every test awaits it (Bun ignores a timeout option on hooks). */
  async function startAgents(): Promise<void> {
    const real = startAgent("real", REAL, [
      "-tag",
      "role=web",
      "-event-handler",
      "query:echo=cat",
      "-event-handler",
      "query:nl=cat; echo",
    ]);
    await waitFor("agent real", () => real.out().includes("Serf agent running!"), real);
    const two = startAgent("two", TWO, ["-tag", "x=<a&b>", `-join=${REAL.bind}`]);
    const three = startAgent("three", THREE, []);
    const enc = startAgent("enc", ENC, [`-encrypt=${KEY1}`]);
    await waitFor("agent enc", () => enc.out().includes("running!"), enc);
    await waitFor("agent two", () => two.out().includes("Join completed"), two);
    await waitFor("agent three", () => three.out().includes("running!"), three);
    await waitFor("real to see two", async () => (await memberCount(REAL.rpc)) === 2);
  }
  let ready: Promise<void>;
  before(() => {
    ready = startAgents();
    ready.catch(() => {}); // reported by the tests that await it
  });

  after(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill("SIGKILL");
    await Promise.all(agents.map((a) => a.done));
  });

  it("members: text, -detailed and filters", T, async () => {
    await ready;
    const cases = [
      [],
      ["-detailed"],
      ["-status", "alive"],
      ["-tag", "role=web"],
      ["-tag", "x=<a.b>", "-detailed"],
      ["-name", "tw.*"],
      ["-name", "real|two"],
      ["-role=web"],
    ];
    await Promise.all(cases.map((extra) => assertSame(["members", r, ...extra], sortedLines)));
  });

  it("members: exact output when the result is deterministic", T, async () => {
    await ready;
    const cases = [
      ["-name", "two"],
      ["-name", "real", "-detailed"],
      ["-format=json", "-name", "two"],
      ["-format", "json", "-name", "real", "-detailed"],
      ["-status=nope"],
      ["-status=nope", "-format=json"],
      ["-format=xml"],
      ["-name=("],
    ];
    await Promise.all(cases.map((extra) => assertSame(["members", r, ...extra])));
  });

  it("members -format=json: same document for the whole cluster", T, async () => {
    await ready;
    const parse = (x: Run) => {
      const doc = JSON.parse(x.stdout) as { members: { name: string }[] };
      doc.members.sort((a, b) => a.name.localeCompare(b.name));
      return { code: x.code, doc, escaped: x.stdout.includes('"\\u003ca\\u0026b\\u003e"') };
    };
    const ts = await assertSame(["members", r, "-format=json"], parse);
    assert.equal(parse(ts).escaped, true);
  });

  it("info: same sections and keys (volatile values masked)", T, async () => {
    await ready;
    const VOLATILE = /^(\t(goroutines|health_score|\w+_queue|\w+_time) = ).*$/gm;
    await assertSame(["info", r], (x) => ({ ...x, stdout: x.stdout.replace(VOLATILE, "$1*") }));
    const shape = (x: Run) => {
      const doc = JSON.parse(x.stdout) as Record<string, Record<string, string>>;
      return { code: x.code, keys: Object.entries(doc).map(([k, v]) => [k, Object.keys(v)]), agent: doc.agent };
    };
    await assertSame(["info", r, "-format=json"], shape);
    await assertSame(["info", r, "-format", "yaml"]);
  });

  it("join: success, -replay and failure", T, async () => {
    await ready;
    await assertSame(["join", r, THREE.bind]);
    await assertSame(["join", r, "-replay", THREE.bind]);
    await assertSame(["join", r, DEAD]);
    await waitFor("real to see three", async () => (await memberCount(REAL.rpc)) === 3);
  });

  it("tags: set, delete, invalid pair", T, async () => {
    await ready;
    await assertSame(["tags", r, "-set", "a=b", "-delete", "zz"]);
    const json = await run(SERF, ["members", r, "-name=real", "-format=json"]);
    assert.match(json.stdout, /"a": "b"/);
    await assertSame(["tags", r, "-delete", "a"]);
    await assertSame(["tags", r, "-set", "novalue"]);
  });

  it("event: dispatch, -coalesce=false, oversized payload", T, async () => {
    await ready;
    await assertSame(["event", r, "deploy", "payload"]);
    await assertSame(["event", r, "-coalesce=false", "deploy2"]);
    await assertSame(["event", r, "big", "x".repeat(600)]);
  });

  it("query: text and json, acks and responses, errors", T, async () => {
    await ready;
    const q = ["query", r, "-timeout=400ms"];
    // Queries are independent of each other: run them all at once. The agent sends a node's ack
    // and response as two messages and either CLI prints them as they arrive, so a query with
    // both compares its lines in sorted order.
    await Promise.all([
      assertSame([...q, "-node", "real", "ping"], sortedLines),
      assertSame([...q, "-node", "real", "echo", "hello <&>"], sortedLines),
      assertSame([...q, "-node=real", "nl", "with newline"], sortedLines),
      assertSame([...q, "-node=real", "-format=json", "nl", "<b>&"]),
      assertSame([...q, "-node=real", "-format", "json", "-no-ack", "silent"]),
      assertSame([...q, "-tag", "role=w.b", "-no-ack", "echo", "x"]),
      assertSame([...q, "echo", "all"], sortedLines),
      assertSame([...q, "-relay-factor=2", "ping"], sortedLines),
      assertSame(["query", r, "-format=xml", "q"]),
      assertSame(["query", r, "_serf_x"]),
      assertSame(["query", r, "big", "x".repeat(1100)]),
    ]);
  });

  it("force-leave: silent success for any name, with and without -prune", T, async () => {
    await ready;
    await assertSame(["force-leave", r, "ghost"]);
    await assertSame(["force-leave", r, "-prune", "ghost"]);
  });

  it("rtt: estimate format, default second node, unknown node", T, async () => {
    await ready;
    const fmt = (x: Run) => ({ ...x, stdout: x.stdout.replace(/rtt: \d+\.\d{3} ms/, "rtt: N ms") });
    await Promise.all([
      assertSame(["rtt", r, "real", "two"], fmt),
      assertSame(["rtt", r, "two"], fmt),
      assertSame(["rtt", r, "zz"]),
      assertSame(["rtt", r, "real", "zz"]),
    ]);
  });

  it("keys: failures without encryption", T, async () => {
    await ready;
    const key = KEY1;
    // One at a time: the agent serialises key operations, and concurrent ones race for its query timeout.
    await assertSame(["keys", r, "-list"], sortedLines);
    await assertSame(["keys", r, "-install=abc"]);
    await assertSame(["keys", r, "-use", key], sortedLines);
    await assertSame(["keys", r, "-remove", key], sortedLines);
  });

  it("keys: install, use, remove and list on an encrypted agent", T, async () => {
    await ready;
    const e = rpcOf(ENC);
    await assertSame(["keys", e, "-list"]);
    await assertSame(["keys", e, "-install", KEY2]);
    await assertSame(["keys", e, "-list"], sortedLines);
    await assertSame(["keys", e, "-use", KEY2]);
    await assertSame(["keys", e, "-remove", KEY2]);
    await assertSame(["keys", e, "-remove", KEY1]);
    const last = await assertSame(["keys", e, "-list"]);
    assert.equal(
      last.stdout,
      `==> Asking all members for installed keys...\n==> Keys gathered, listing cluster keys...\n\n${KEY2}  [1/1]\n`,
    );
  });

  it("reachability", T, async () => {
    await ready;
    const mask = (x: Run) => ({
      ...sortedLines(x),
      stdout: sortedLines(x).stdout.map((l) => l.replace(/\d+\.\d\d sec/g, "N sec")),
    });
    // The ack query has a timeout of a few hundred ms: on a loaded machine either
    // CLI can miss an ack, so one pair of runs that agrees is required out of three.
    for (const args of [["reachability", r], ["reachability", r, "-verbose"]]) {
      let last: { go: Run; ts: Run } | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        last = await both(args, undefined, true);
        if (last.go.code === 0 && isDeepStrictEqual(mask(last.ts), mask(last.go))) break;
      }
      assert.deepEqual(mask(last!.ts), mask(last!.go), `serf ${args.join(" ")}`);
      assert.equal(last!.ts.code, 0, last!.ts.stdout);
    }
  });

  it("connection errors and the SERF_RPC_ADDR default", T, async () => {
    await ready;
    await assertSame(["members", `-rpc-addr=${DEAD}`]);
    await assertSame(["members", r, "-rpc-auth=secret"]);
    const env = baseEnv({ SERF_RPC_ADDR: REAL.rpc });
    const { go, ts } = await both(["members", "-name=real"], env);
    assert.deepEqual(ts, go);
    assert.match(ts.stdout, /^real /);
  });

  it("query and monitor on Ctrl-C exit like serf (1 and 0)", T, async () => {
    await ready;
    for (const [args, code] of [[["query", r, "-timeout=10s", "slow"], 1], [["monitor", r], 0]] as const) {
      const go = start(SERF, [...args]);
      const ts = start(...ours([...args]));
      await waitFor("output", () => go.out().length > 0 && ts.out().length > 0);
      // process.kill, not child.kill: Deno's child_process then reports the signal instead of the exit code.
      process.kill(go.child.pid!, "SIGINT");
      process.kill(ts.child.pid!, "SIGINT");
      const [g, t] = await Promise.all([go.done, ts.done]);
      assert.equal(g.code, code);
      assert.equal(t.code, code, `${args.join(" ")}: ${t.stderr}`);
    }
  });

  it("monitor shows events and ends with the agent; leave", T, async () => {
    await ready;
    const t3 = rpcOf(THREE);
    const go = start(SERF, ["monitor", t3, "-log-level=debug"]);
    const ts = start(...ours(["monitor", t3, "-log-level=debug"]));
    await waitFor(
      "monitors attached",
      () => go.out().includes("Accepted client") && ts.out().includes("Accepted client"),
    );
    await run(SERF, ["event", t3, "monev", "mpay"]);
    await waitFor("event info", () => go.out().includes('\tName: "monev"') && ts.out().includes('\tName: "monev"'));
    const left = await run(...ours(["leave", t3]));
    assert.deepEqual(left, { code: 0, stdout: "Graceful leave complete\n", stderr: "" });
    const [g, t] = await Promise.all([go.done, ts.done]);
    /** The sorted lines of the "Event Info:" block of our user event. */
    const event = (x: Run) =>
      x.stdout.split("Event Info:\n").map((b) => b.split("\n").filter((l) => l.startsWith("\t")).sort())
        .find((lines) => lines.includes('\tName: "monev"'));
    assert.deepEqual(event(t), event(g));
    const END = "\nRemote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n";
    assert.equal(g.code, 1);
    assert.equal(t.code, 1);
    assert.ok(g.stdout.endsWith(END) && t.stdout.endsWith(END), t.stdout.slice(-300));
    // The real leave, for comparison, on agent "two".
    assert.deepEqual(await run(SERF, ["leave", rpcOf(TWO)]), left);
  });
});
