/**
 * Test fixture for tests/runtime_stdio.test.ts: writes `N` numbered lines to
 * stdout (in pieces that split lines) and every 100th to stderr through
 * `processOutput()`, then exits the way cli.ts does: flush, `process.exit`.
 *
 *   <runtime> tests/helpers/stdio_writer.ts N
 *
 * @module
 */
import process from "node:process";
import { processOutput } from "../../lib/runtime/stdio.ts";

const n = Number(process.argv[2] ?? "1000");
const out = processOutput();
for (let i = 0; i < n; i++) {
  const line = `line ${i} ${"é".repeat(i % 7)}${"x".repeat(100)}\n`;
  const cut = i % 3 === 0 ? 5 : line.length;
  out.stdout(line.slice(0, cut));
  if (cut < line.length) out.stdout(line.slice(cut));
  if (i % 100 === 0) out.stderr(`err ${i}\n`);
}
out.stdout("");
out.stdout("no newline at the end");
await out.flushed();
process.exit(0);
