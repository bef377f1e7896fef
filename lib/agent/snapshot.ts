/**
 * The snapshot file (`-snapshot=path`, Serf's `serf/snapshot.go`): an
 * append-only text log of alive/not-alive members and of the three Lamport
 * clocks, replayed at start to restore the clocks and to rejoin previously
 * known nodes. File I/O lives here; the Serf core only lends its raw event
 * stream (`tap`), its clocks and `rejoin`.
 *
 * Lines: `alive: <name> <ip:port>`, `not-alive: <name>`, `clock: <n>`,
 * `event-clock: <n>`, `query-clock: <n>`, `leave`; `#` comments and legacy
 * `coordinate:` lines are skipped on replay.
 *
 * One deliberate difference from Go: Go flushes its write buffer only when
 * a line is appended more than 500 ms after the previous flush, so lines
 * can sit in memory until the next append; we also arm a timer so buffered
 * lines reach the file within 500 ms.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { JoinTarget } from "../memberlist/types.ts";
import { ipToString } from "../memberlist/util.ts";
import { literalTargets } from "../host/address.ts";
import { nodeFs } from "../runtime/builtin.ts";
import type { Runtime, Timer } from "../runtime/types.ts";
import type { RestoredClocks } from "../serf/core.ts";
import type { Member, SerfEvent, SerfState } from "../serf/types.ts";
import { errorMessage } from "./errors.ts";

/** Go's `flushInterval` and `clockUpdateInterval` (ms). */
export const FLUSH_INTERVAL_MS = 500;
/** Go's `snapshotErrorRecoveryInterval` (ms). */
export const ERROR_RECOVERY_INTERVAL_MS = 30_000;
/** Go's `snapshotSizeLimit`: the minimum size before compaction (128 KiB). */
export const SNAPSHOT_SIZE_LIMIT = 128 * 1024;
/** Go's `snapshotBytesPerNode`. */
const BYTES_PER_NODE = 128;
/** Go's `snapshotCompactionThreshold`. */
const COMPACTION_THRESHOLD = 2;
/** bufio.Writer's default size: a fuller buffer is written out at once. */
const WRITE_BUFFER_SIZE = 4096;
/** Go's `tmpExt`. */
const COMPACT_EXT = ".compact";

/** What replaying a snapshot yields. */
export interface SnapshotState {
  /** Previously alive nodes: name → `ip:port`. */
  alive: Map<string, string>;
  lastClock: number;
  lastEventClock: number;
  lastQueryClock: number;
}

/** A previously alive node (Go's `PreviousNode`). */
export interface PreviousNode {
  name: string;
  addr: string;
}

/** Go's `syscall.Errno` texts for the errors file operations commonly meet. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EEXIST: "file exists",
  EIO: "input/output error",
  EBADF: "bad file descriptor",
};

/** Go's `*os.PathError` text (`open /x: permission denied`) for a node:fs error. */
export function goPathError(op: string, path: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  return `${op} ${path}: ${(code && ERRNO_TEXT[code]) ?? errorMessage(e)}`;
}

/** Go's `strconv.ParseUint(s, 10, 64)`; throws its error text. */
function parseUint(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  if (BigInt(s) > 0xffffffffffffffffn) {
    throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return Number(s);
}

/** Go's `net.TCPAddr.String()` for a member. */
export function memberAddr(m: Pick<Member, "addr" | "port">): string {
  const ip = m.addr.length === 0 ? "" : ipToString(m.addr);
  return ip.includes(":") ? `[${ip}]:${m.port}` : `${ip}:${m.port}`;
}

/**
 * Go's `replay`: applies the complete (`\n`-terminated) lines of a snapshot
 * in order. A `leave` clears everything unless `rejoinAfterLeave`.
 *
 * @example
 * ```ts
 * replaySnapshot("alive: a 127.0.0.1:7946\nclock: 3\n", false, log).lastClock; // 3
 * ```
 */
export function replaySnapshot(text: string, rejoinAfterLeave: boolean, logger: Logger): SnapshotState {
  const s: SnapshotState = { alive: new Map(), lastClock: 0, lastEventClock: 0, lastQueryClock: 0 };
  const lines = text.split("\n");
  lines.pop(); // an unterminated last line is ignored, as Go's ReadString does
  const clock = (line: string, prefix: string, what: string, set: (v: number) => void) => {
    try {
      set(parseUint(line.slice(prefix.length)));
    } catch (e) {
      logger("WARN", `serf: Failed to convert ${what}: ${errorMessage(e)}`);
    }
  };
  for (const line of lines) {
    if (line.startsWith("alive: ")) {
      const info = line.slice("alive: ".length);
      const i = info.lastIndexOf(" ");
      if (i < 0) logger("WARN", `serf: Failed to parse address: ${line}`);
      else s.alive.set(info.slice(0, i), info.slice(i + 1));
    } else if (line.startsWith("not-alive: ")) {
      s.alive.delete(line.slice("not-alive: ".length));
    } else if (line.startsWith("clock: ")) {
      clock(line, "clock: ", "clock time", (v) => (s.lastClock = v));
    } else if (line.startsWith("event-clock: ")) {
      clock(line, "event-clock: ", "event clock time", (v) => (s.lastEventClock = v));
    } else if (line.startsWith("query-clock: ")) {
      clock(line, "query-clock: ", "query clock time", (v) => (s.lastQueryClock = v));
    } else if (line.startsWith("coordinate: ") || line.startsWith("#")) {
      continue;
    } else if (line === "leave") {
      if (rejoinAfterLeave) {
        logger("INFO", "serf: Ignoring previous leave in snapshot");
        continue;
      }
      s.alive.clear();
      s.lastClock = s.lastEventClock = s.lastQueryClock = 0;
    } else {
      logger("WARN", `serf: Unrecognized snapshot line: ${line}`);
    }
  }
  return s;
}

/** Options of {@link Snapshotter.open}. */
export interface SnapshotterOptions {
  path: string;
  rejoinAfterLeave: boolean;
  logger: Logger;
  /** The member Lamport clock's current time. */
  clock: () => number;
  /** Timers, monotonic time and randomness. */
  runtime: Pick<Runtime, "now" | "setTimer" | "random">;
  /** Minimum size before compaction (default {@link SNAPSHOT_SIZE_LIMIT}). */
  minCompactSize?: number;
}

/**
 * Records events to the snapshot file and recovers the last state from it
 * (Go's `Snapshotter`). Feed it the raw event stream with
 * {@link handleEvent}; call {@link leave} on a graceful leave and
 * {@link close} at shutdown.
 *
 * @example
 * ```ts
 * const snap = Snapshotter.open({ path, rejoinAfterLeave: false, logger, clock: () => serf.clocks().clock, runtime });
 * serf.restoreClocks({ clock: snap.lastClock, eventClock: snap.lastEventClock, queryClock: snap.lastQueryClock });
 * serf.tap((e) => snap.handleEvent(e));
 * ```
 */
export class Snapshotter {
  readonly #o: SnapshotterOptions;
  readonly #minCompactSize: number;
  #fd: number | undefined;
  #buffer = "";
  #offset: number;
  #state: SnapshotState;
  #leaving = false;
  #closed = false;
  #lastFlush = -Infinity;
  #lastAttemptedCompaction = -Infinity;
  #flushTimer: Timer | undefined;
  #clockTimer: Timer | undefined;

  private constructor(o: SnapshotterOptions, fd: number, text: string, offset: number) {
    this.#o = o;
    this.#minCompactSize = o.minCompactSize ?? SNAPSHOT_SIZE_LIMIT;
    this.#fd = fd;
    this.#offset = offset;
    this.#state = replaySnapshot(text, o.rejoinAfterLeave, o.logger);
  }

  /**
   * Opens (creating, mode 0644) and replays the snapshot, then starts the
   * 500 ms clock check. Throws Go's texts (`failed to open snapshot: open ...`).
   */
  static open(o: SnapshotterOptions): Snapshotter {
    let fd: number;
    try {
      fd = nodeFs().openSync(o.path, "a+", 0o644);
    } catch (e) {
      throw new Error(`failed to open snapshot: ${goPathError("open", o.path, e)}`);
    }
    let text: string;
    let size: number;
    try {
      size = nodeFs().fstatSync(fd).size;
      const buf = new Uint8Array(size);
      let read = 0;
      while (read < size) {
        const n = nodeFs().readSync(fd, buf, read, size - read, read);
        if (n === 0) break;
        read += n;
      }
      text = new TextDecoder().decode(buf.subarray(0, read));
    } catch (e) {
      nodeFs().closeSync(fd);
      throw new Error(`failed to stat snapshot: ${goPathError("stat", o.path, e)}`);
    }
    const snap = new Snapshotter(o, fd, text, size);
    snap.#armClockTimer();
    return snap;
  }

  /** The last member clock recorded (Go's `LastClock`). */
  get lastClock(): number {
    return this.#state.lastClock;
  }

  /** The last user event clock recorded. */
  get lastEventClock(): number {
    return this.#state.lastEventClock;
  }

  /** The last query clock recorded. */
  get lastQueryClock(): number {
    return this.#state.lastQueryClock;
  }

  /** The clocks to hand to `serf.restoreClocks`. */
  clocks(): RestoredClocks {
    return { clock: this.lastClock, eventClock: this.lastEventClock, queryClock: this.lastQueryClock };
  }

  /** Previously alive nodes in random order (Go's `AliveNodes`). */
  aliveNodes(): PreviousNode[] {
    const out = [...this.#state.alive].map(([name, addr]) => ({ name, addr }));
    for (let i = 0; i < out.length; i++) {
      const j = Math.floor(this.#o.runtime.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** Records one event of Serf's raw stream (ignored once leaving). */
  handleEvent(e: SerfEvent): void {
    if (this.#leaving || this.#closed) return;
    if (e.type === "user") {
      if (e.ltime <= this.#state.lastEventClock) return;
      this.#state.lastEventClock = e.ltime;
      this.#tryAppend(`event-clock: ${e.ltime}\n`);
    } else if (e.type === "query") {
      if (e.query.ltime <= this.#state.lastQueryClock) return;
      this.#state.lastQueryClock = e.query.ltime;
      this.#tryAppend(`query-clock: ${e.query.ltime}\n`);
    } else {
      this.#memberEvent(e.type, e.members);
    }
  }

  #memberEvent(type: string, members: Member[]): void {
    if (type === "member-join") {
      for (const m of members) {
        const addr = memberAddr(m);
        this.#state.alive.set(m.name, addr);
        this.#tryAppend(`alive: ${m.name} ${addr}\n`);
      }
    } else if (type === "member-leave" || type === "member-failed") {
      for (const m of members) {
        this.#state.alive.delete(m.name);
        this.#tryAppend(`not-alive: ${m.name}\n`);
      }
    }
    this.updateClock();
  }

  /** Appends `clock: <time-1>` when the member clock advanced (Go's `updateClock`). */
  updateClock(): void {
    if (this.#closed) return;
    const lastSeen = this.#o.clock() - 1;
    if (lastSeen > this.#state.lastClock) {
      this.#state.lastClock = lastSeen;
      this.#tryAppend(`clock: ${lastSeen}\n`);
    }
  }

  /**
   * A graceful leave started: stop recording events, forget the alive nodes
   * (unless rejoin-after-leave), append `leave` and sync.
   */
  leave(): void {
    if (this.#closed) return;
    this.#leaving = true;
    if (!this.#o.rejoinAfterLeave) this.#state.alive.clear();
    this.#tryAppend("leave\n");
    this.#flushAndSync("leave to snapshot");
  }

  /** Shutdown: record the clock, flush, sync and close the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.updateClock();
    this.#closed = true;
    this.#clockTimer?.cancel();
    this.#flushTimer?.cancel();
    this.#flushAndSync("snapshot");
    if (this.#fd !== undefined) nodeFs().closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Whether {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  #armClockTimer(): void {
    this.#clockTimer = this.#o.runtime.setTimer(FLUSH_INTERVAL_MS, () => {
      if (this.#closed) return;
      this.updateClock();
      this.#armClockTimer();
    });
  }

  #flushAndSync(what: string): void {
    try {
      this.#flush();
    } catch (e) {
      this.#o.logger("ERR", `serf: failed to flush ${what}: ${errorMessage(e)}`);
    }
    try {
      if (this.#fd !== undefined) nodeFs().fsyncSync(this.#fd);
    } catch (e) {
      this.#o.logger("ERR", `serf: failed to sync ${what}: ${goPathError("sync", this.#o.path, e)}`);
    }
  }

  /** Writes the buffered lines to the file. */
  #flush(): void {
    this.#flushTimer?.cancel();
    this.#flushTimer = undefined;
    if (this.#buffer === "") return;
    if (this.#fd === undefined) throw new Error("snapshot file is not open");
    const data = new TextEncoder().encode(this.#buffer);
    this.#buffer = "";
    try {
      let done = 0;
      while (done < data.length) done += nodeFs().writeSync(this.#fd, data, done, data.length - done);
    } catch (e) {
      throw new Error(goPathError("write", this.#o.path, e));
    }
  }

  /** Go's `tryAppend`: append, and on failure log and attempt a compaction (at most every 30 s). */
  #tryAppend(line: string): void {
    try {
      this.#appendLine(line);
    } catch (e) {
      const log = this.#o.logger;
      log("ERR", `serf: Failed to update snapshot: ${errorMessage(e)}`);
      const now = this.#o.runtime.now();
      if (now - this.#lastAttemptedCompaction <= ERROR_RECOVERY_INTERVAL_MS) return;
      this.#lastAttemptedCompaction = now;
      log("INFO", "serf: Attempting compaction to recover from error...");
      try {
        this.#compact();
        log("INFO", "serf: Finished compaction, successfully recovered from error state");
      } catch (err) {
        log("ERR", `serf: Compaction failed, will reattempt after 30s: ${errorMessage(err)}`);
      }
    }
  }

  /** Go's `appendLine`: buffer, flush at most every 500 ms, compact when too big. */
  #appendLine(line: string): void {
    this.#buffer += line;
    const now = this.#o.runtime.now();
    if (now - this.#lastFlush > FLUSH_INTERVAL_MS || this.#buffer.length >= WRITE_BUFFER_SIZE) {
      this.#lastFlush = now;
      this.#flush();
    } else if (!this.#flushTimer) {
      const delay = Math.max(0, this.#lastFlush + FLUSH_INTERVAL_MS - now);
      this.#flushTimer = this.#o.runtime.setTimer(delay, () => {
        this.#flushTimer = undefined;
        if (this.#closed) return;
        this.#lastFlush = this.#o.runtime.now();
        try {
          this.#flush();
        } catch (e) {
          this.#o.logger("ERR", `serf: Failed to update snapshot: ${errorMessage(e)}`);
        }
      });
    }
    this.#offset += new TextEncoder().encode(line).length;
    if (this.#offset > this.#maxSize()) this.#compact();
  }

  /** Go's `snapshotMaxSize`: max(minCompactSize, 2 × 128 × alive nodes). */
  #maxSize(): number {
    return Math.max(this.#minCompactSize, this.#state.alive.size * BYTES_PER_NODE * COMPACTION_THRESHOLD);
  }

  /** Go's `compact`: write `<path>.compact` with the alive nodes and clocks, then replace the file. */
  #compact(): void {
    const path = this.#o.path;
    const tmp = path + COMPACT_EXT;
    const s = this.#state;
    const body = [...s.alive].map(([name, addr]) => `alive: ${name} ${addr}\n`).join("") +
      `clock: ${s.lastClock}\nevent-clock: ${s.lastEventClock}\nquery-clock: ${s.lastQueryClock}\n`;
    const data = new TextEncoder().encode(body);
    let fd: number;
    try {
      fd = nodeFs().openSync(tmp, "w+", 0o755);
    } catch (e) {
      throw new Error(`failed to open new snapshot: ${goPathError("open", tmp, e)}`);
    }
    try {
      let done = 0;
      while (done < data.length) done += nodeFs().writeSync(fd, data, done, data.length - done);
      nodeFs().fsyncSync(fd);
    } catch (e) {
      throw new Error(`failed to fsync new snapshot: ${goPathError("sync", tmp, e)}`);
    } finally {
      nodeFs().closeSync(fd);
    }
    try {
      this.#flush();
    } catch {
      // Go ignores this error: the old file is deleted next.
    }
    this.#buffer = "";
    if (this.#fd !== undefined) nodeFs().closeSync(this.#fd);
    this.#fd = undefined;
    try {
      nodeFs().unlinkSync(path);
    } catch (e) {
      throw new Error(`failed to remove old snapshot: ${goPathError("remove", path, e)}`);
    }
    try {
      nodeFs().renameSync(tmp, path);
    } catch (e) {
      throw new Error(`failed to install new snapshot: ${goPathError("rename", tmp, e)}`);
    }
    try {
      this.#fd = nodeFs().openSync(path, "a+", 0o755);
    } catch (e) {
      throw new Error(`failed to open snapshot: ${goPathError("open", path, e)}`);
    }
    this.#offset = data.length;
    this.#lastFlush = this.#o.runtime.now();
  }
}

/** What the agent's snapshot needs from Serf. */
export interface SnapshotSerf {
  readonly nodeName: string;
  state(): SerfState;
  clocks(): RestoredClocks;
  restoreClocks(c: RestoredClocks): void;
  tap(cb: (e: SerfEvent) => void): () => void;
  rejoin(
    previous: { name: string; addr: string; target: JoinTarget }[],
    now: number,
    done?: (ok: boolean) => void,
  ): void;
}

/** Something that runs a function against the core under the host (`MemberlistHost.act`). */
export interface SnapshotHost {
  act<T>(fn: (now: number) => T): T;
}

/**
 * The agent's side of the snapshot: opened before Serf starts (restores the
 * clocks, taps the raw events), then {@link start} rejoins previously alive
 * nodes; {@link leave} and {@link close} follow Serf's leave and shutdown.
 */
export class AgentSnapshot {
  /** The nodes alive when the snapshot was replayed, in random order (Go's `prev`). */
  readonly previous: PreviousNode[];

  /** Wraps an open snapshotter for `serf`. */
  constructor(readonly snapshotter: Snapshotter, readonly serf: SnapshotSerf, private logger: Logger) {
    this.previous = snapshotter.aliveNodes();
  }

  /**
   * Opens the snapshot at `path` for `serf` (not started yet), restores
   * Serf's clocks and records its raw events from now on. Throws
   * `Failed to setup snapshot: ...` as Serf's `Create` does.
   */
  static open(
    path: string,
    rejoinAfterLeave: boolean,
    serf: SnapshotSerf,
    runtime: Pick<Runtime, "now" | "setTimer" | "random">,
    logger: Logger,
  ): AgentSnapshot {
    let snap: Snapshotter;
    try {
      snap = Snapshotter.open({ path, rejoinAfterLeave, logger, clock: () => serf.clocks().clock, runtime });
    } catch (e) {
      throw new Error(`Failed to setup snapshot: ${errorMessage(e)}`);
    }
    serf.restoreClocks(snap.clocks());
    const agentSnapshot = new AgentSnapshot(snap, serf, logger);
    serf.tap((e) => snap.handleEvent(e));
    return agentSnapshot;
  }

  /** After Serf started: tries previously alive nodes (not us) one by one until one join works. */
  start(host: SnapshotHost): void {
    const alive = this.previous;
    if (alive.length === 0) return;
    const previous: { name: string; addr: string; target: JoinTarget }[] = [];
    for (const p of alive) {
      if (p.name === this.serf.nodeName) continue;
      const joinAddr = p.name ? `${p.name}/${p.addr}` : p.addr;
      try {
        const target = literalTargets(joinAddr, 0)?.[0];
        if (target) previous.push({ ...p, target });
        else this.logger("WARN", `memberlist: Failed to resolve ${joinAddr}: not an IP address`);
      } catch (e) {
        this.logger("WARN", `memberlist: Failed to resolve ${joinAddr}: ${errorMessage(e)}`);
      }
    }
    host.act((now) => this.serf.rejoin(previous, now));
  }

  /** A graceful leave is starting (Go: only while Serf is alive): record `leave`. */
  leave(): void {
    if (this.serf.state() === "alive") this.snapshotter.leave();
  }

  /** Serf shut down: final clock, flush, close. */
  close(): void {
    this.snapshotter.close();
  }
}
