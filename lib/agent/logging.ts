/**
 * The agent's log pipeline, as Serf's agent builds it: every line is
 * formatted like Go's `log.LstdFlags` (`2026/11/26 23:26:37 [INFO] serf: ...`),
 * kept in a 512-line ring for `serf monitor`, and written to the console
 * through a level filter behind a gate that holds lines until the startup
 * banner has been printed.
 *
 * @module
 */
import { LOG_LEVELS, type Logger, type LogLevel } from "../core/log.ts";

/** Formats a date as Go's `log.LstdFlags` does (local time). */
export function formatLogTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${
    p(d.getSeconds())
  }`;
}

/**
 * Formats Unix seconds as log timestamps, each second once: local time
 * conversions cost a time zone lookup (a file read on some runtimes, and
 * ~3 MiB of resident memory for ICU's time zone code in a Bun binary), and an
 * agent logs many lines per second at debug level.
 */
export function cachedLogTime(): (unixSeconds: number) => string {
  let second = -1;
  let text = "";
  return (s) => {
    if (s !== second) {
      second = s;
      text = formatLogTime(new Date(s * 1000));
    }
    return text;
  };
}

/** Parses a level name case-insensitively; undefined when it is not one of Serf's. */
export function parseLogLevel(name: string): LogLevel | undefined {
  const up = name.toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(up) ? up as LogLevel : undefined;
}

/**
 * logutils' check: a line passes unless it carries a `[LEVEL]` below `min`.
 * Lines without a recognised level always pass.
 */
export function levelAllows(line: string, min: LogLevel): boolean {
  const open = line.indexOf("[");
  const close = open >= 0 ? line.indexOf("]", open) : -1;
  if (close < 0) return true;
  const level = line.slice(open + 1, close);
  const rank = (LOG_LEVELS as readonly string[]).indexOf(level);
  return rank < 0 || rank >= LOG_LEVELS.indexOf(min);
}

/** Receives formatted log lines (without trailing newline). */
export type LogSink = (line: string) => void;

/**
 * One log line: formatted (`line`) or, until someone needs its text, the
 * second it was logged at and the text after the timestamp.
 */
interface Entry {
  second: number;
  rest: string;
  line?: string;
}

/**
 * The agent's logger: level filter + gate for the console, ring buffer and
 * live subscribers for monitors. A line's timestamp is formatted only when
 * the line is shown (console, monitor), so an agent logging below its level
 * with no monitor attached never converts times to local time.
 *
 * @example
 * ```ts
 * const log = new AgentLog("INFO", (line) => console.log("    " + line));
 * log.logger("INFO", "serf: EventMemberJoin: a 127.0.0.1");
 * log.openGate(); // now the buffered line is printed
 * ```
 */
export class AgentLog {
  #ring: Entry[] = [];
  #ringSize: number;
  #gated: string[] | undefined = [];
  #subscribers = new Set<LogSink>();
  #formatTime = cachedLogTime();

  /** Creates the pipeline writing console lines to `console`; `now` gives Unix milliseconds. */
  constructor(
    public minLevel: LogLevel,
    private console: LogSink,
    ringSize = 512,
    private now: () => number = Date.now,
  ) {
    this.#ringSize = ringSize;
  }

  /** The `Logger` handed to every layer. */
  readonly logger: Logger = (level, message) => {
    const entry: Entry = { second: Math.floor(this.now() / 1000), rest: ` [${level}] ${message}` };
    this.#add(entry, LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(this.minLevel));
  };

  /** Writes one already formatted line. */
  write(line: string): void {
    this.#add({ second: 0, rest: "", line }, levelAllows(line, this.minLevel));
  }

  #add(entry: Entry, shown: boolean): void {
    this.#ring.push(entry);
    if (this.#ring.length > this.#ringSize) this.#ring.shift();
    if (this.#subscribers.size > 0) {
      const line = this.#text(entry);
      for (const s of this.#subscribers) s(line);
    }
    if (!shown) return;
    const line = this.#text(entry);
    if (this.#gated) this.#gated.push(line);
    else this.console(line);
  }

  #text(entry: Entry): string {
    return entry.line ??= this.#formatTime(entry.second) + entry.rest;
  }

  /** Flushes held lines and lets later ones straight through. */
  openGate(): void {
    const held = this.#gated ?? [];
    this.#gated = undefined;
    for (const line of held) this.console(line);
  }

  /** Replays the ring to `sink`, then streams live lines until the returned function is called. */
  subscribe(sink: LogSink): () => void {
    for (const entry of this.#ring) sink(this.#text(entry));
    this.#subscribers.add(sink);
    return () => this.#subscribers.delete(sink);
  }
}
