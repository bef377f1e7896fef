/**
 * The agent's log pipeline: Go's line format, the level filter and the gate
 * for the console, the ring replayed to monitors with the time each line was
 * logged, and no local-time conversion for lines nobody sees (it costs a
 * time zone lookup and, in a Bun binary, ~3 MiB of resident memory).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AgentLog, formatLogTime, levelAllows } from "../lib/agent/logging.ts";

/** Counts local-time conversions (formatLogTime reads getHours) while `fn` runs. */
function countLocalTime(fn: () => void): number {
  const proto = Date.prototype as { getHours: () => number };
  const original = proto.getHours;
  let calls = 0;
  proto.getHours = function (this: Date) {
    calls++;
    return original.call(this);
  };
  try {
    fn();
  } finally {
    proto.getHours = original;
  }
  return calls;
}

describe("AgentLog", () => {
  it("formats lines as Go's log.LstdFlags and shows levels at or above the minimum after the gate", () => {
    let ms = Date.UTC(2026, 0, 2, 3, 4, 5);
    const shown: string[] = [];
    const log = new AgentLog("INFO", (line) => shown.push(line), 512, () => ms);
    log.logger("DEBUG", "hidden");
    log.logger("INFO", "first");
    assert.deepEqual(shown, [], "held until the gate opens");
    log.openGate();
    ms += 1500;
    log.logger("ERR", "second");
    const t0 = formatLogTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    const t1 = formatLogTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 6)));
    assert.match(t0, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(shown, [`${t0} [INFO] first`, `${t1} [ERR] second`]);
    log.minLevel = "DEBUG";
    log.logger("DEBUG", "now shown");
    assert.equal(shown.at(-1), `${t1} [DEBUG] now shown`);
  });

  it("replays the ring with each line's own time, then streams live lines", () => {
    let ms = Date.UTC(2026, 5, 1, 12, 0, 0);
    const log = new AgentLog("ERR", () => {}, 3, () => ms);
    for (const m of ["a", "b", "c", "d"]) {
      log.logger("INFO", m);
      ms += 60_000;
    }
    const got: string[] = [];
    const stop = log.subscribe((line) => got.push(line));
    const at = (minutes: number) => formatLogTime(new Date(Date.UTC(2026, 5, 1, 12, minutes, 0)));
    assert.deepEqual(got, [`${at(1)} [INFO] b`, `${at(2)} [INFO] c`, `${at(3)} [INFO] d`]);
    log.logger("DEBUG", "e");
    assert.equal(got.at(-1), `${at(4)} [DEBUG] e`);
    stop();
    log.logger("INFO", "f");
    assert.equal(got.length, 4);
  });

  it("does not convert times to local time for lines nobody sees", () => {
    const shown: string[] = [];
    const log = new AgentLog("ERR", (line) => shown.push(line));
    log.openGate();
    const hidden = countLocalTime(() => {
      for (let i = 0; i < 50; i++) log.logger("INFO", `memberlist: line ${i}`);
    });
    assert.equal(hidden, 0);
    assert.deepEqual(shown, []);
    const replayed: string[] = [];
    const onSubscribe = countLocalTime(() => log.subscribe((line) => replayed.push(line)));
    assert.ok(onSubscribe > 0, "a monitor gets formatted lines");
    assert.equal(replayed.length, 50);
    assert.match(replayed[49], /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[INFO\] memberlist: line 49$/);
  });

  it("filters preformatted lines by the level they carry", () => {
    const shown: string[] = [];
    const log = new AgentLog("WARN", (line) => shown.push(line));
    log.openGate();
    log.write("2026/01/01 00:00:00 [INFO] no");
    log.write("2026/01/01 00:00:00 [WARN] yes");
    log.write("no level at all");
    assert.deepEqual(shown, ["2026/01/01 00:00:00 [WARN] yes", "no level at all"]);
    assert.equal(levelAllows("x [DEBUG] y", "INFO"), false);
  });
});
