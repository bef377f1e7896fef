/**
 * The process's stdout/stderr sinks (`lib/runtime/stdio.ts`; on Bun they
 * avoid `process.stdout`, which costs megabytes in a compiled agent): a child
 * writing ~1.3 MB into a pipe its parent reads late loses nothing, keeps the
 * order, and has written everything when it exits right after `flushed()`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { repoPath, scriptArgv } from "./helpers/runtime.ts";

/** Runs the writer fixture; starts reading stdout only after `delayMs`. */
function runWriter(lines: number, delayMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const [cmd, ...args] = scriptArgv(repoPath("tests/helpers/stdio_writer.ts"), [String(lines)]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  child.stdout!.pause();
  setTimeout(() => child.stdout!.resume(), delayMs);
  child.stdout!.on("data", (c: Uint8Array) => out.push(c));
  child.stderr!.on("data", (c: Uint8Array) => err.push(c));
  const text = (parts: Uint8Array[]) => new TextDecoder().decode(Buffer.concat(parts));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out: text(out), err: text(err) })));
}

describe("processOutput", () => {
  it("writes everything, in order, into a pipe read late, before the process exits", { timeout: 60_000 }, async () => {
    const n = 12_000;
    const { code, out, err } = await runWriter(n, 500);
    assert.equal(code, 0, err);
    let want = "";
    for (let i = 0; i < n; i++) want += `line ${i} ${"é".repeat(i % 7)}${"x".repeat(100)}\n`;
    want += "no newline at the end";
    assert.equal(out.length, want.length);
    assert.ok(out === want, "stdout is byte-for-byte what was written");
    assert.deepEqual(err.split("\n").filter(Boolean), Array.from({ length: n / 100 }, (_, i) => `err ${i * 100}`));
  });
});
