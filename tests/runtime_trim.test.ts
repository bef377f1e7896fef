/**
 * Code-page trimming (`lib/runtime/trim.ts`) and the activity watch it runs
 * on (`lib/runtime/activity.ts`): which mappings may be dropped, when the
 * agent trims, and a real trim of this test process where Bun and Linux
 * allow it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { readFileSync } from "node:fs";
import { watchActivity } from "../lib/runtime/activity.ts";
import { codePageTrimmer, parseSmaps, trimmable, trimOnSettle } from "../lib/runtime/trim.ts";
import { fakeClock } from "./helpers/fake_clock.ts";

const SMAPS = `00200000-01a39000 r--p 00000000 08:01 1234                               /opt/serf
Size:              25060 kB
Rss:                4700 kB
Anonymous:             0 kB
01a39000-01a40000 r--p 01839000 08:01 1234                               /opt/serf
Size:                 28 kB
Rss:                  28 kB
Anonymous:            12 kB
01a40000-0684a000 r-xp 01838000 08:01 1234                               /opt/serf
Size:              80000 kB
Rss:               26000 kB
Anonymous:             0 kB
0684a000-06b41000 rw-p 06641000 08:01 1234                               /opt/serf
Size:               3036 kB
Rss:                1800 kB
Anonymous:           160 kB
06b41000-06b42000 r-xp 00000000 08:01 99                                 /opt/other
Size:                  4 kB
Rss:                   4 kB
Anonymous:             0 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
Size:               1024 kB
Rss:                 900 kB
Anonymous:           900 kB
7f0000200000-7f0000300000 r-xp 00000000 08:01 1234                       /opt/serf (deleted)
Size:               1024 kB
Rss:                   0 kB
Anonymous:             0 kB
7f0000300000-7f0000400000 r-xp 00000000 08:01 1234                       /opt/serf (deleted)
Size:               1024 kB
Rss:                  64 kB
Anonymous:             0 kB
`;

describe("parseSmaps", () => {
  it("reads each mapping's range, permissions, path and sizes", () => {
    const maps = parseSmaps(SMAPS);
    assert.equal(maps.length, 8);
    assert.deepEqual(maps[2], {
      start: 0x01a40000,
      end: 0x0684a000,
      perms: "r-xp",
      path: "/opt/serf",
      rssKiB: 26000,
      anonymousKiB: 0,
    });
    assert.equal(maps[5].path, "");
    assert.equal(maps[5].start, 0x7f0000000000);
  });
});

describe("trimmable", () => {
  it("keeps only the executable's resident, read-only mappings without private pages", () => {
    const picked = trimmable(parseSmaps(SMAPS), "/opt/serf").map((m) => `${m.start.toString(16)} ${m.perms}`);
    // Not: the RELRO page with copy-on-write copies, the writable data, another file,
    // anonymous memory, or a mapping with nothing resident.
    assert.deepEqual(picked, ["200000 r--p", "1a40000 r-xp", "7f0000300000 r-xp"]);
  });
  it("matches nothing for another executable", () => {
    assert.deepEqual(trimmable(parseSmaps(SMAPS), "/opt/serf2"), []);
  });
});

describe("watchActivity", () => {
  it("reports each window as busy or quiet from the CPU used in it", () => {
    const clock = fakeClock();
    let cpu = 0;
    const seen: boolean[] = [];
    watchActivity(clock, (busy) => void seen.push(busy), { windowMs: 1000, busyShare: 0.1, cpuMicros: () => cpu });
    for (const ms of [0, 50, 150, 0]) {
      cpu += ms * 1000;
      clock.advance(1000);
    }
    assert.deepEqual(seen, [false, false, true, false]);
  });
  it("ends when the listener returns false or stop() is called", () => {
    const clock = fakeClock();
    let n = 0;
    watchActivity(clock, () => ++n < 3, { windowMs: 10 });
    clock.advance(1000);
    assert.equal(n, 3);
    assert.equal(clock.pending(), 0);
    const w = watchActivity(clock, () => {
      w.stop();
    }, { windowMs: 10 });
    clock.advance(1000);
    assert.equal(clock.pending(), 0);
  });
});

describe("trimOnSettle (on a CPU watch, as the agent runs it)", () => {
  it("trims on the first quiet window after start-up and after each busy stretch, not while idle", () => {
    const clock = fakeClock();
    let cpu = 0;
    let trims = 0;
    const trimmer = { trim: () => Promise.resolve(++trims) };
    const at: number[] = [];
    watchActivity(clock, trimOnSettle({ trim: () => (at.push(clock.now()), trimmer.trim()) }), {
      windowMs: 1000,
      busyShare: 0.1,
      cpuMicros: () => cpu,
    });
    // Windows: busy (start-up), quiet, quiet, busy, busy, quiet, quiet.
    for (const ms of [500, 0, 0, 400, 300, 0, 0]) {
      cpu += ms * 1000;
      clock.advance(1000);
    }
    assert.deepEqual(at, [2000, 6000]);
  });
  it("an idle start trims once", () => {
    const clock = fakeClock();
    const at: number[] = [];
    watchActivity(clock, trimOnSettle({ trim: () => (at.push(clock.now()), Promise.resolve(0)) }), {
      windowMs: 1000,
      cpuMicros: () => 0,
    });
    clock.advance(10_000);
    assert.deepEqual(at, [1000]);
  });
});

describe("codePageTrimmer on this process", () => {
  const bunLinux = Boolean((globalThis as { Bun?: unknown }).Bun) && process.platform === "linux";
  it(
    bunLinux ? "drops the runtime's resident code pages and the process keeps running" : "does nothing here",
    async () => {
      const released = await codePageTrimmer().trim();
      if (!bunLinux) return assert.equal(released, 0);
      assert.ok(released > 1024, `released ${released} KiB`);
      const exe = process.execPath;
      const rssNow = trimmable(parseSmaps(readFileSync("/proc/self/smaps", "utf8")), exe)
        .reduce((s, m) => s + m.rssKiB, 0);
      assert.ok(rssNow < released, `resident again right after: ${rssNow} KiB of ${released} KiB`);
      // Code runs on as before (pages come back from the page cache).
      assert.equal(JSON.stringify({ a: [1, 2] }), '{"a":[1,2]}');
    },
  );
});
