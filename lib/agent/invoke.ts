/**
 * Running one event handler script for one event, as Serf's agent does
 * (`agent/invoke.go`): `/bin/sh -c <script>` with the agent's environment
 * plus the `SERF_*` variables, the event on stdin, stdout and stderr
 * collected together in an 8 KiB circular buffer, a warning when the script
 * runs longer than a second, and the output sent back as the query response
 * when the event is a query and the script succeeded.
 *
 * @module
 */
import process from "node:process";
import type { Logger } from "../core/log.ts";
import { ipToString } from "../memberlist/util.ts";
import { nodeChildProcess } from "../runtime/builtin.ts";
import type { Query } from "../serf/query.ts";
import type { Member, MemberEvent, SerfEvent } from "../serf/types.ts";
import { errorMessage } from "./errors.ts";

/** Go's `maxBufSize`: how much handler output is kept (the last bytes win). */
export const MAX_OUTPUT_SIZE = 8 * 1024;

/** Go's `warnSlow`: after this long a running script is reported as slow (ms). */
export const WARN_SLOW_MS = 1000;

/**
 * A fixed-size buffer keeping the last `size` bytes written (armon/circbuf).
 *
 * @example
 * ```ts
 * const b = new CircularBuffer(4);
 * b.write(new TextEncoder().encode("abcdef"));
 * new TextDecoder().decode(b.bytes()); // "cdef"; b.totalWritten === 6
 * ```
 */
export class CircularBuffer {
  readonly #data: Uint8Array;
  #cursor = 0;
  #written = 0;

  /** Creates an empty buffer of `size` bytes (> 0). */
  constructor(readonly size: number) {
    this.#data = new Uint8Array(size);
  }

  /** Bytes written since creation, including overwritten ones. */
  get totalWritten(): number {
    return this.#written;
  }

  /** Appends `chunk`, overwriting the oldest bytes once full. */
  write(chunk: Uint8Array): void {
    this.#written += chunk.length;
    const c = chunk.length > this.size ? chunk.subarray(chunk.length - this.size) : chunk;
    const first = Math.min(c.length, this.size - this.#cursor);
    this.#data.set(c.subarray(0, first), this.#cursor);
    this.#data.set(c.subarray(first), 0);
    this.#cursor = (this.#cursor + c.length) % this.size;
  }

  /** The kept bytes, oldest first (a copy). */
  bytes(): Uint8Array {
    if (this.#written < this.size) return this.#data.slice(0, this.#written);
    const out = new Uint8Array(this.size);
    out.set(this.#data.subarray(this.#cursor));
    out.set(this.#data.subarray(0, this.#cursor), this.size - this.#cursor);
    return out;
  }
}

/** The event type as handlers see it (`SERF_EVENT`, Go's `EventType.String()`). */
export function eventTypeName(e: SerfEvent): string {
  return e.type;
}

/** Go's sanitising of tag names for `SERF_TAG_*`: upper-case, anything outside `[A-Z0-9_]` becomes `_`. */
export function tagEnvName(tag: string): string {
  return `SERF_TAG_${tag.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
}

/**
 * The `SERF_*` variables for a script run: event type, our name, role and
 * tags, and the user event / query name and Lamport time.
 */
export function eventEnv(self: Member, e: SerfEvent): Record<string, string> {
  const env: Record<string, string> = {
    SERF_EVENT: eventTypeName(e),
    SERF_SELF_NAME: self.name,
    SERF_SELF_ROLE: self.tags.role ?? "",
  };
  for (const [name, value] of Object.entries(self.tags)) env[tagEnvName(name)] = value;
  if (e.type === "user") {
    env.SERF_USER_EVENT = e.name;
    env.SERF_USER_LTIME = String(e.ltime);
  } else if (e.type === "query") {
    env.SERF_QUERY_NAME = e.query.name;
    env.SERF_QUERY_LTIME = String(e.query.ltime);
  }
  return env;
}

/** Go's `eventClean`: TAB and LF become the two-character sequences `\t` and `\n`. */
export function eventClean(v: string): string {
  return v.replaceAll("\t", "\\t").replaceAll("\n", "\\n");
}

/** stdin of a member event: `name\taddr\trole\ttags\n` per member, tags as `k=v` joined by `,`. */
export function memberEventStdin(e: MemberEvent): string {
  return e.members.map((m) => {
    const tags = Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(",");
    return `${eventClean(m.name)}\t${ipToString(m.addr)}\t${eventClean(m.tags.role ?? "")}\t${eventClean(tags)}\n`;
  }).join("");
}

/** stdin of a user event or query: the payload, with a `\n` added when non-empty and missing. */
export function payloadStdin(payload: Uint8Array | null): Uint8Array {
  const p = payload ?? new Uint8Array(0);
  if (p.length === 0 || p[p.length - 1] === 0x0a) return p;
  const out = new Uint8Array(p.length + 1);
  out.set(p);
  out[p.length] = 0x0a;
  return out;
}

/** Go's `syscall.Signal.String()` for the signals a script is likely to die of. */
const SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
};

/** Go's `exec.ExitError` text: `exit status N` or `signal: killed`. */
export function exitErrorText(code: number | null, signal: string | null): string {
  if (signal) return `signal: ${SIGNAL_TEXT[signal] ?? signal}`;
  return `exit status ${code ?? -1}`;
}

/** Go's wording for a failed pipe write / spawn (`write |1: broken pipe`, `fork/exec /bin/sh: ...`). */
function ioErrorText(e: unknown, op: string): string {
  const code = (e as { code?: string }).code;
  if (code === "EPIPE") return `${op}: broken pipe`;
  if (code === "ENOENT") return `${op}: no such file or directory`;
  if (code === "EACCES") return `${op}: permission denied`;
  return `${op}: ${errorMessage(e)}`;
}

/** What {@link invokeEventScript} needs from the agent. */
export interface InvokeDeps {
  /** The agent's logger. */
  logger: Logger;
  /** Sends `payload` as our response to `query` (under the host); throws Serf's errors. */
  respond(query: Query, payload: Uint8Array): void;
  /** The environment scripts inherit (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Delay before the slow-script warning, ms (default {@link WARN_SLOW_MS}). */
  slowMs?: number;
}

/** The result of running a script: how it ended and what it printed. */
interface ScriptRun {
  output: CircularBuffer;
  error?: string;
}

/** Spawns `/bin/sh -c script`, feeds stdin, collects output; resolves when it exited and its pipes closed. */
function runScript(
  script: string,
  env: Record<string, string | undefined>,
  stdin: Uint8Array | string,
  onStdinError: (e: unknown) => void,
): Promise<ScriptRun> {
  const output = new CircularBuffer(MAX_OUTPUT_SIZE);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ output, error });
    };
    let child;
    try {
      child = nodeChildProcess().spawn("/bin/sh", ["-c", script], { env, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      return settle(ioErrorText(e, "fork/exec /bin/sh"));
    }
    const collect = (chunk: Uint8Array | string) =>
      output.write(typeof chunk === "string" ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.on("error", (e) => settle(ioErrorText(e, "fork/exec /bin/sh")));
    child.on("close", (code, signal) => settle(code === 0 ? undefined : exitErrorText(code, signal)));
    child.stdin?.on("error", onStdinError);
    child.stdin?.end(stdin);
  });
}

/**
 * Runs `script` for `event` (Go's `invokeEventScript`). Resolves when the
 * script has finished; rejects with Go's error text (`exit status 1`) when it
 * failed. Logs the script output at DEBUG and answers queries.
 */
export async function invokeEventScript(
  script: string,
  self: Member,
  event: SerfEvent,
  deps: InvokeDeps,
): Promise<void> {
  const { logger } = deps;
  const env = { ...(deps.env ?? process.env), ...eventEnv(self, event) };
  let stdin: Uint8Array | string;
  let onStdinError: (e: unknown) => void = () => {};
  if (event.type === "user" || event.type === "query") {
    stdin = payloadStdin(event.type === "user" ? event.payload : event.query.payload);
    onStdinError = (e) => logger("ERR", `Error writing payload: ${ioErrorText(e, "write |1")}`);
  } else {
    stdin = memberEventStdin(event);
  }
  const slow = setTimeout(
    () => logger("WARN", `agent: Script '${script}' slow, execution exceeding 1s`),
    deps.slowMs ?? WARN_SLOW_MS,
  );
  // Go also checks for truncated output right after start, when nothing can have been written yet.
  let run: ScriptRun;
  try {
    run = await runScript(script, env, stdin, onStdinError);
  } finally {
    clearTimeout(slow);
  }
  const bytes = run.output.bytes();
  // Go's log.Printf adds the line's newline only when the text does not already end with one.
  const shown = new TextDecoder().decode(bytes).replace(/\n$/, "");
  logger("DEBUG", `agent: Event '${eventTypeName(event)}' script output: ${shown}`);
  if (run.error !== undefined) throw new Error(run.error);
  if (event.type === "query" && run.output.totalWritten > 0) {
    try {
      deps.respond(event.query, bytes);
    } catch (e) {
      logger("WARN", `agent: Failed to respond to query 'query: ${event.query.name}': ${errorMessage(e)}`);
    }
  }
}
