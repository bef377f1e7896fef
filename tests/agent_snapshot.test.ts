/**
 * The snapshot file (`-snapshot`), as Serf's `snapshot.go` keeps it:
 * - replay rules (last-space split, `leave`, rejoin-after-leave, bad lines);
 * - the recorder on a fake clock: exact lines, 500 ms flushes, clock checks,
 *   leave, shutdown, compaction, Go's open error;
 * - our agent: the file is written while running; after a crash the agent
 *   rejoins its cluster from the snapshot alone; a graceful leave prevents
 *   that (unless `-rejoin`); clocks are restored;
 * - with the real agent (/usr/bin/serf): the same failure text, the same
 *   file contents for the same cluster, and each restarts from the other's file.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replaySnapshot, Snapshotter } from "../lib/agent/snapshot.ts";
import type { LogLevel } from "../lib/core/log.ts";
import type { Query } from "../lib/serf/query.ts";
import type { Member, SerfEvent } from "../lib/serf/types.ts";
import { type OurAgent, oursArgv, runCli, startOurAgent } from "./helpers/agent.ts";
import { killAll } from "./helpers/process.ts";
import { SERF_BIN, type SerfAgent, serfSkip, startSerfAgent } from "./helpers/serf.ts";
import { sleep, waitFor } from "./helpers/wait.ts";
import { fakeClock } from "./helpers/fake_clock.ts";

const skipReal = serfSkip();
const port = (i: number) => 25200 + i;
const addr = (i: number) => `127.0.0.1:${port(i)}`;
const rpc = (i: number) => `127.0.0.1:${25300 + i}`;

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "serf-snap-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function collector(): { lines: string[]; logger: (l: LogLevel, m: string) => void } {
  const lines: string[] = [];
  return { lines, logger: (l, m) => lines.push(`[${l}] ${m}`) };
}

/** Timers on a manual clock, with a fixed random(). */
function fakeRuntime() {
  return { ...fakeClock(), random: () => 0.5 };
}

function member(name: string, ip: number[], p: number): Member {
  return {
    name,
    addr: new Uint8Array(ip),
    port: p,
    tags: {},
    status: "alive",
    protocolMin: 1,
    protocolMax: 5,
    protocolCur: 2,
    delegateMin: 2,
    delegateMax: 5,
    delegateCur: 4,
  };
}
const V6_LOOPBACK = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const user = (ltime: number): SerfEvent => ({ type: "user", ltime, name: "e", payload: null, coalesce: false });
const query = (ltime: number): SerfEvent => ({ type: "query", query: { ltime, name: "q" } as unknown as Query });

describe("snapshot replay", () => {
  it("applies alive/not-alive/clock lines; warns about bad ones; ignores an unterminated last line", () => {
    const log = collector();
    const s = replaySnapshot(
      [
        "# comment",
        "alive: a 127.0.0.1:1",
        "alive: name with space 10.0.0.1:7946",
        "alive: bad",
        "not-alive: a",
        "clock: 5",
        "event-clock: 7",
        "query-clock: x",
        "coordinate: {}",
        "weird",
        "alive: c [::1]:7946",
        "query-clock: 9",
        "clock: 6",
      ].join("\n"),
      false,
      log.logger,
    );
    assert.deepEqual([...s.alive], [["name with space", "10.0.0.1:7946"], ["c", "[::1]:7946"]]);
    assert.deepEqual([s.lastClock, s.lastEventClock, s.lastQueryClock], [5, 7, 9]);
    assert.deepEqual(log.lines, [
      "[WARN] serf: Failed to parse address: alive: bad",
      '[WARN] serf: Failed to convert query clock time: strconv.ParseUint: parsing "x": invalid syntax',
      "[WARN] serf: Unrecognized snapshot line: weird",
    ]);
  });

  it("a leave forgets nodes and clocks, unless rejoining after leave", () => {
    const text = "alive: a 1.2.3.4:5\nclock: 3\nevent-clock: 2\nleave\nclock: 4\n";
    const log = collector();
    const left = replaySnapshot(text, false, log.logger);
    assert.deepEqual([left.alive.size, left.lastClock, left.lastEventClock], [0, 4, 0]);
    assert.deepEqual(log.lines, []);
    const rejoin = replaySnapshot(text, true, log.logger);
    assert.deepEqual([[...rejoin.alive], rejoin.lastClock, rejoin.lastEventClock], [[["a", "1.2.3.4:5"]], 4, 2]);
    assert.deepEqual(log.lines, ["[INFO] serf: Ignoring previous leave in snapshot"]);
  });
});

describe("Snapshotter", () => {
  it("records members, clocks and leave with Go's lines, flushing within 500 ms", () => {
    const path = join(tempDir(), "snap");
    const rt = fakeRuntime();
    let clock = 1;
    const log = collector();
    const snap = Snapshotter.open({
      path,
      rejoinAfterLeave: false,
      logger: log.logger,
      clock: () => clock,
      runtime: rt,
    });
    assert.equal(readFileSync(path, "utf8"), "");
    snap.handleEvent({ type: "member-join", members: [member("a", [127, 0, 0, 1], 7946)] });
    snap.handleEvent({ type: "member-join", members: [member("b", V6_LOOPBACK, 7947)] });
    assert.equal(
      readFileSync(path, "utf8"),
      "alive: a 127.0.0.1:7946\n",
      "the second line waits for the flush interval",
    );
    clock = 5;
    rt.advance(500);
    assert.equal(readFileSync(path, "utf8"), "alive: a 127.0.0.1:7946\nalive: b [::1]:7947\nclock: 4\n");
    snap.handleEvent(user(3));
    snap.handleEvent(user(2));
    snap.handleEvent(query(1));
    snap.handleEvent({ type: "member-failed", members: [member("b", V6_LOOPBACK, 7947)] });
    snap.handleEvent({ type: "member-update", members: [member("a", [127, 0, 0, 1], 7946)] });
    rt.advance(500);
    const body =
      "alive: a 127.0.0.1:7946\nalive: b [::1]:7947\nclock: 4\nevent-clock: 3\nquery-clock: 1\nnot-alive: b\n";
    assert.equal(readFileSync(path, "utf8"), body);
    snap.leave();
    assert.equal(readFileSync(path, "utf8"), body + "leave\n");
    snap.handleEvent(user(10));
    snap.handleEvent({ type: "member-join", members: [member("c", [10, 0, 0, 1], 1)] });
    clock = 7;
    snap.close();
    assert.equal(readFileSync(path, "utf8"), body + "leave\nclock: 6\n");
    assert.deepEqual(log.lines, []);

    const again = Snapshotter.open({ path, rejoinAfterLeave: false, logger: log.logger, clock: () => 1, runtime: rt });
    assert.deepEqual(again.clocks(), { clock: 6, eventClock: 0, queryClock: 0 });
    assert.deepEqual(again.aliveNodes(), []);
    again.close();
    const rejoin = Snapshotter.open({ path, rejoinAfterLeave: true, logger: log.logger, clock: () => 1, runtime: rt });
    assert.deepEqual(rejoin.clocks(), { clock: 6, eventClock: 3, queryClock: 1 });
    assert.deepEqual(rejoin.aliveNodes(), [{ name: "a", addr: "127.0.0.1:7946" }]);
    rejoin.close();
    assert.equal(readFileSync(path, "utf8"), body + "leave\nclock: 6\n", "nothing appended when nothing changed");
  });

  it("compacts once the file outgrows max(min size, 2 x 128 bytes x alive nodes)", () => {
    const dir = tempDir();
    const path = join(dir, "snap");
    const rt = fakeRuntime();
    const snap = Snapshotter.open({
      path,
      rejoinAfterLeave: false,
      logger: collector().logger,
      clock: () => 1,
      runtime: rt,
      minCompactSize: 100,
    });
    snap.handleEvent({
      type: "member-join",
      members: [member("n1", [10, 0, 0, 1], 1), member("n2", [10, 0, 0, 2], 2), member("n3", [10, 0, 0, 3], 3)],
    });
    let written = 0;
    for (let t = 1; t <= 60; t++) {
      snap.handleEvent(user(t));
      written += `event-clock: ${t}\n`.length;
      rt.advance(600);
    }
    snap.close();
    const text = readFileSync(path, "utf8");
    assert.ok(written > 3 * 256, "enough written to pass the threshold of 768 bytes");
    assert.ok(text.length <= 3 * 256, `compacted (${text.length} bytes)`);
    assert.match(
      text,
      /^alive: n1 10\.0\.0\.1:1\nalive: n2 10\.0\.0\.2:2\nalive: n3 10\.0\.0\.3:3\nclock: 0\nevent-clock: \d+\nquery-clock: 0\n(event-clock: \d+\n)*$/,
    );
    const s = replaySnapshot(text, false, collector().logger);
    assert.deepEqual([s.alive.size, s.lastEventClock], [3, 60]);
    assert.deepEqual(readdirSync(dir), ["snap"], "no .compact file left behind");
  });

  it("fails to open like Go", () => {
    assert.throws(
      () =>
        Snapshotter.open({
          path: "/nonexistent-dir/snap",
          rejoinAfterLeave: false,
          logger: collector().logger,
          clock: () => 1,
          runtime: fakeRuntime(),
        }),
      { message: "failed to open snapshot: open /nonexistent-dir/snap: no such file or directory" },
    );
  });
});

/** `serf info -format=json` of our CLI: the `serf` section. */
async function serfStats(rpcAddr: string): Promise<Record<string, string>> {
  const r = await runCli(oursArgv("source", ["info", "-format=json", `-rpc-addr=${rpcAddr}`]));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return (JSON.parse(r.stdout) as { serf: Record<string, string> }).serf;
}

/** Member name → status seen by the agent at `rpcAddr`. */
async function memberStatus(rpcAddr: string): Promise<Record<string, string>> {
  const r = await runCli(oursArgv("source", ["members", "-format=json", `-rpc-addr=${rpcAddr}`]));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const ms = (JSON.parse(r.stdout) as { members: { name: string; status: string }[] }).members;
  return Object.fromEntries(ms.map((m) => [m.name, m.status]));
}

describe("our agent with a snapshot", { timeout: 90_000 }, () => {
  let dir: string, path: string;
  let a: OurAgent | undefined, b: OurAgent;
  const ours = (...args: string[]) => runCli(oursArgv("source", args));
  const startA = (...extra: string[]) =>
    startOurAgent({
      name: "sa",
      bind: addr(1),
      rpc: rpc(1),
      extra: ["-profile=local", "-log-level=debug", `-snapshot=${path}`, ...extra],
    });
  const fileText = () => (existsSync(path) ? readFileSync(path, "utf8") : "");

  before(async () => {
    dir = tempDir();
    path = join(dir, "sa.snap");
    b = await startOurAgent({ name: "sb", bind: addr(2), rpc: rpc(2), extra: ["-profile=local"] });
    a = await startA(`-join=${addr(2)}`);
  });
  after(killAll);

  it("writes alive members and the event/query clocks while running", async () => {
    for (const name of ["e1", "e2", "e3"]) {
      assert.equal((await ours("event", `-rpc-addr=${rpc(2)}`, "-coalesce=false", name)).code, 0);
    }
    assert.equal((await ours("query", `-rpc-addr=${rpc(2)}`, "-timeout=300ms", "q1")).code, 0);
    const text = await waitFor(
      () => {
        const t = fileText();
        return t.includes(`alive: sb ${addr(2)}\n`) && t.includes("event-clock: 3\n") && t.includes("query-clock: 1\n")
          ? t
          : undefined;
      },
      10_000,
      "snapshot lines",
    );
    assert.ok(text.startsWith(`alive: sa ${addr(1)}\n`), text);
    for (const line of text.split("\n").slice(0, -1)) {
      assert.match(line, /^(alive: \S+ 127\.0\.0\.1:\d+|not-alive: \S+|(event-|query-)?clock: \d+|leave)$/);
    }
  });

  it("after a crash, restarts from the snapshot alone: rejoins and restores clocks", async () => {
    await a!.stop("SIGKILL");
    const before = replaySnapshot(fileText(), false, () => {});
    a = await startA();
    await a.proc.waitLine(
      (l) => l.includes(`serf: Attempting re-join to previously known node: sb: ${addr(2)}`),
      5_000,
    );
    await a.proc.waitLine((l) => l.includes(`serf: Re-joined to previously known node: sb: ${addr(2)}`), 10_000);
    await waitFor(async () => (await memberStatus(rpc(1))).sb === "alive", 10_000, "sb alive on sa");
    const stats = await serfStats(rpc(1));
    assert.ok(Number(stats.event_time) >= before.lastEventClock + 1, JSON.stringify(stats));
    assert.ok(Number(stats.query_time) >= before.lastQueryClock + 1, JSON.stringify(stats));
    assert.ok(!a.proc.stdout.some((l) => l.includes("Received event: user-event")), "old events are not replayed");
  });

  it("a graceful leave is recorded and prevents the rejoin", async () => {
    assert.equal(await a!.stop("SIGINT"), 0);
    const text = fileText();
    assert.match(text, /\nleave\n(clock: \d+\n)?$/);
    a = await startA();
    await sleep(1000);
    assert.ok(!a.proc.stdout.some((l) => l.includes("re-join")), a.proc.stdout.join("\n"));
    assert.deepEqual(await memberStatus(rpc(1)), { sa: "alive" });
    assert.equal(Number((await serfStats(rpc(1))).event_time), 1, "a leave resets the event clock");
    await a.stop("SIGKILL");
    a = undefined;
  });

  it("-rejoin ignores the recorded leave", async () => {
    // The file still lists sb before the `leave`; the run after the leave only added sa.
    a = await startA("-rejoin");
    await a.proc.waitLine((l) => l.includes("serf: Ignoring previous leave in snapshot"), 5_000);
    await a.proc.waitLine((l) => l.includes(`serf: Re-joined to previously known node: sb: ${addr(2)}`), 10_000);
    await waitFor(async () => (await memberStatus(rpc(1))).sb === "alive", 10_000, "sb alive on sa");
  });

  it("restores the clocks when no previous node answers", async () => {
    await a!.stop("SIGKILL");
    await b.stop("SIGKILL");
    const last = replaySnapshot(fileText(), true, () => {});
    assert.ok(last.lastEventClock >= 3 && last.lastQueryClock >= 1, fileText());
    a = await startA("-rejoin");
    await a.proc.waitLine((l) => l.includes("serf: Failed to re-join any previously known node"), 10_000);
    const stats = await serfStats(rpc(1));
    assert.equal(Number(stats.event_time), last.lastEventClock + 1);
    assert.equal(Number(stats.query_time), last.lastQueryClock + 1);
    assert.ok(Number(stats.member_time) >= last.lastClock + 1, JSON.stringify(stats));
  });
});

describe("snapshots and the real agent", { skip: skipReal, timeout: 90_000 }, () => {
  let dir: string;
  let ours: OurAgent, real: SerfAgent;
  const realCli = (...args: string[]) => runCli([SERF_BIN, ...args]);
  const oursPath = () => join(dir, "ours.snap");
  const realPath = () => join(dir, "real.snap");

  before(() => {
    dir = tempDir();
  });
  after(killAll);

  it("fails on an unusable snapshot path with the real agent's text", async () => {
    const args = ["agent", "-node=bad", `-bind=${addr(9)}`, `-rpc-addr=${rpc(9)}`, "-snapshot=/nonexistent-dir/x"];
    const [o, r] = await Promise.all([runCli(oursArgv("source", args)), runCli([SERF_BIN, ...args])]);
    assert.equal(r.code, 1);
    assert.deepEqual(o, r);
    assert.ok(
      o.stdout.includes(
        "Failed to setup snapshot: failed to open snapshot: open /nonexistent-dir/x: no such file or directory",
      ),
    );
  });

  it("both agents record the same members and clocks", async () => {
    [ours, real] = await Promise.all([
      startOurAgent({ name: "so", bind: addr(3), rpc: rpc(3), extra: ["-profile=local", `-snapshot=${oursPath()}`] }),
      startSerfAgent({ name: "sr", bind: addr(4), rpc: rpc(4), extra: [`-snapshot=${realPath()}`] }),
    ]);
    assert.equal((await realCli("join", `-rpc-addr=${rpc(4)}`, addr(3))).code, 0);
    for (const name of ["e1", "e2"]) {
      assert.equal((await realCli("event", `-rpc-addr=${rpc(4)}`, "-coalesce=false", name)).code, 0);
    }
    assert.equal((await realCli("query", `-rpc-addr=${rpc(4)}`, "-timeout=300ms", "q")).code, 0);
    // Go flushes only when a later line is appended (or at shutdown): stop the real agent to read its file.
    await waitFor(() => readFileSync(oursPath(), "utf8").includes("query-clock: 1\n"), 10_000, "our query-clock line");
    await sleep(600);
    assert.equal(await real.stop("SIGTERM"), 1);
    const o = replaySnapshot(readFileSync(oursPath(), "utf8"), false, () => {});
    const r = replaySnapshot(readFileSync(realPath(), "utf8"), false, () => {});
    const nodes = (s: typeof o) => [...s.alive].sort();
    assert.deepEqual(nodes(o), [["so", addr(3)], ["sr", addr(4)]]);
    assert.deepEqual(nodes(r), nodes(o));
    assert.deepEqual([o.lastEventClock, o.lastQueryClock], [2, 1]);
    assert.deepEqual([r.lastEventClock, r.lastQueryClock], [2, 1]);
    assert.equal(o.lastClock, r.lastClock);
  });

  it("the real agent restarts from our snapshot and rejoins us", async () => {
    copyFileSync(oursPath(), join(dir, "from-ours.snap"));
    real = await startSerfAgent({
      name: "sr",
      bind: addr(4),
      rpc: rpc(4),
      extra: [`-snapshot=${join(dir, "from-ours.snap")}`],
    });
    await real.proc.waitLine((l) => l.includes(`serf: Re-joined to previously known node: so: ${addr(3)}`), 10_000);
    await waitFor(async () => (await memberStatus(rpc(4))).so === "alive", 10_000, "so alive on sr");
  });

  it("our agent restarts from the real agent's snapshot and rejoins it", async () => {
    await ours.stop("SIGKILL");
    ours = await startOurAgent({
      name: "so",
      bind: addr(3),
      rpc: rpc(3),
      extra: ["-profile=local", "-log-level=debug", `-snapshot=${realPath()}`],
    });
    await ours.proc.waitLine((l) => l.includes(`serf: Re-joined to previously known node: sr: ${addr(4)}`), 10_000);
    await waitFor(async () => (await memberStatus(rpc(3))).sr === "alive", 10_000, "sr alive on so");
  });
});
