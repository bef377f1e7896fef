/**
 * Child processes for tests: line-buffered stdout/stderr capture, waiting for
 * a line, and reliable cleanup.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

/** Signals tests send to children. */
export type StopSignal = "SIGKILL" | "SIGINT" | "SIGTERM";

/** A spawned child whose output is collected line by line. */
export interface LineProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly stdout: string[];
  /** Every stderr line so far. */
  readonly stderr: string[];
  /** Resolves with the exit code (or the signal name) once the child exits. */
  readonly exited: Promise<number | string>;
  /** Whether the child has exited. */
  readonly done: boolean;
  /**
   * Resolves with the first stdout line (already seen or future) for which
   * `pred` holds; rejects after `timeoutMs` or when the child exits first.
   */
  waitLine(pred: (line: string) => boolean, timeoutMs: number, what?: string): Promise<string>;
  /** Sends `signal` (default SIGKILL) if still running and waits for the exit. */
  kill(signal?: StopSignal): Promise<number | string>;
  /** Writes a line to the child's stdin. */
  send(line: string): void;
}

/** Every child started by {@link spawnLines} that has not exited yet. */
const running = new Set<LineProcess>();

/** Kills (SIGKILL) every child still running; for `after()` hooks. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill("SIGKILL")));
}

/**
 * Spawns `argv[0]` with the rest as arguments and collects its output.
 *
 * @example
 * ```ts
 * const p = spawnLines(["serf", "version"]);
 * await p.exited;
 * ```
 */
export function spawnLines(argv: string[], env: Record<string, string> = {}): LineProcess {
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let done = false;
  const collect = (into: string[], notify: boolean) => {
    let partial = "";
    return (chunk: Uint8Array | string) => {
      partial += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        into.push(line);
        if (!notify) continue;
        for (const w of [...waiters]) {
          if (w.pred(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
  };
  child.stdout?.on("data", collect(stdout, true));
  child.stderr?.on("data", collect(stderr, false));
  child.stdin?.on("error", () => {});
  let resolveExit!: (v: number | string) => void;
  const exited = new Promise<number | string>((r) => (resolveExit = r));
  const self: LineProcess = {
    child,
    stdout,
    stderr,
    exited,
    get done() {
      return done;
    },
    waitLine(pred, timeoutMs, what = "a matching line") {
      const seen = stdout.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const w = { pred, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
        const fail = (why: string) => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          clearTimeout(timer);
          reject(
            new Error(
              `${why} waiting for ${what} from ${argv.join(" ")}\nstdout:\n${stdout.slice(-30).join("\n")}\nstderr:\n${
                stderr.slice(-30).join("\n")
              }`,
            ),
          );
        };
        const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        waiters.push(w);
        void exited.then((code) => {
          if (waiters.includes(w)) fail(`process exited (${code})`);
        });
      });
    },
    async kill(signal: StopSignal = "SIGKILL") {
      if (!done) {
        try {
          // process.kill, not child.kill: Deno's child_process reports a signal sent through
          // child.kill as the exit cause even when the child handled it and exited normally.
          if (child.pid !== undefined) process.kill(child.pid, signal);
        } catch {
          // already gone
        }
      }
      return await exited;
    },
    send(line: string) {
      child.stdin?.write(line + "\n");
    },
  };
  running.add(self);
  child.on("exit", (code, sig) => {
    done = true;
    running.delete(self);
    // Give the stdout pipe a moment to deliver its last lines.
    setTimeout(() => resolveExit(code ?? sig ?? -1), 20);
  });
  child.on("error", (e) => {
    stderr.push(String(e));
    done = true;
    running.delete(self);
    resolveExit(-1);
  });
  return self;
}
