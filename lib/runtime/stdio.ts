/**
 * The process's stdout and stderr as plain text sinks. On Bun they are
 * written with `Bun.write(Bun.stdout, ...)`: touching `process.stdout` or
 * `process.stderr` there builds node stream objects that cost ~6.5 MiB of
 * resident memory in a compiled agent (measured: 27.1 MiB idle without,
 * 33.8 MiB after one `process.stdout.write`; `Bun.write`: 27.6 MiB).
 * `Bun.write` to stdout writes in call order and completes before exit
 * even into a slow pipe. Elsewhere `process.stdout`/`process.stderr`.
 *
 * @module
 */
import process from "node:process";

/** Text output of the process. */
export interface ProcessOutput {
  /** Writes `text` to stdout as is. */
  stdout(text: string): void;
  /** Writes `text` to stderr as is. */
  stderr(text: string): void;
  /** Resolves once everything written so far has been handed to the OS. */
  flushed(): Promise<void>;
}

/** The part of the `Bun` global we use. */
interface BunStdio {
  stdout: unknown;
  stderr: unknown;
  write(dest: unknown, text: string): Promise<number>;
}

let output: ProcessOutput | undefined;

/** The process's {@link ProcessOutput} (one per process). */
export function processOutput(): ProcessOutput {
  return output ??= createOutput();
}

function createOutput(): ProcessOutput {
  const bun = (globalThis as { Bun?: BunStdio }).Bun;
  return bun ? bunOutput(bun) : streamOutput();
}

/** `Bun.write` per text; write errors (a closed pipe) are dropped, as `process.stdout` would. */
function bunOutput(bun: BunStdio): ProcessOutput {
  const pending = new Set<Promise<unknown>>();
  const write = (dest: unknown, text: string) => {
    if (text === "") return;
    const p = bun.write(dest, text).catch(() => {}).finally(() => pending.delete(p));
    pending.add(p);
  };
  return {
    stdout: (text) => write(bun.stdout, text),
    stderr: (text) => write(bun.stderr, text),
    flushed: async () => void await Promise.all(pending),
  };
}

/** `process.stdout`/`process.stderr` (Node, Deno). */
function streamOutput(): ProcessOutput {
  const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write("", () => resolve()));
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    flushed: async () => void await Promise.all([flushed(process.stdout), flushed(process.stderr)]),
  };
}
