/**
 * Gives back the executable's clean code pages. A Bun-compiled agent is one
 * ~100 MiB file holding the whole JavaScript runtime; start-up, a join or a
 * burst of work touch tens of MiB of its code and read-only data, and those
 * pages stay in the process's resident set although an idle agent runs a
 * small part of them. They are clean copies of the file, so dropping them
 * from our page tables (`madvise(MADV_DONTNEED)`) loses nothing: they stay
 * in the page cache, shared, and the ones still in use come back on their
 * next touch (a minor fault). Only read-only, file-backed mappings of the
 * executable without private (copy-on-write) pages are touched, and only on
 * Linux under Bun, where `bun:ffi` reaches libc's `madvise`; the running
 * executable cannot be written to (ETXTBSY), so a page read again is the
 * page dropped.
 *
 * @module
 */
import process from "node:process";

/** One mapping of `/proc/self/smaps`, sizes in KiB. */
export interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKiB: number;
  anonymousKiB: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/;

/**
 * Parses `/proc/PID/smaps` text.
 *
 * @example
 * ```ts
 * const maps = parseSmaps(readFileSync("/proc/self/smaps", "utf8"));
 * ```
 */
export function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      cur = { start: parseInt(h[1], 16), end: parseInt(h[2], 16), perms: h[3], path: h[4], rssKiB: 0, anonymousKiB: 0 };
      maps.push(cur);
    } else if (cur && line.startsWith("Rss:")) cur.rssKiB = parseInt(line.slice(4), 10);
    else if (cur && line.startsWith("Anonymous:")) cur.anonymousKiB = parseInt(line.slice(10), 10);
  }
  return maps;
}

/**
 * The mappings that can be dropped safely: the executable's (`exePath`,
 * also after it was replaced on disk: " (deleted)"), not writable, resident,
 * and holding no private copy-on-write page.
 *
 * @example
 * ```ts
 * const targets = trimmable(parseSmaps(text), "/usr/local/bin/serf");
 * ```
 */
export function trimmable(maps: Mapping[], exePath: string): Mapping[] {
  const exe = exePath.replace(/ \(deleted\)$/, "");
  return maps.filter((m) =>
    (m.path === exe || m.path === `${exe} (deleted)`) && !m.perms.includes("w") && m.rssKiB > 0 &&
    m.anonymousKiB === 0
  );
}

/** `madvise(2)`'s MADV_DONTNEED. */
const MADV_DONTNEED = 4;

type Madvise = (addr: number, length: number, advice: number) => number;

/** libc's `madvise` through `bun:ffi`, or undefined where that is not available. */
async function loadMadvise(): Promise<Madvise | undefined> {
  if (!(globalThis as { Bun?: unknown }).Bun || process.platform !== "linux") return undefined;
  try {
    const ffi = await import("bun:ffi");
    const lib = ffi.dlopen("libc.so.6", {
      madvise: { args: [ffi.FFIType.u64, ffi.FFIType.u64, ffi.FFIType.i32], returns: ffi.FFIType.i32 },
    });
    return (addr, length, advice) => lib.symbols.madvise(addr, length, advice) as number;
  } catch {
    return undefined;
  }
}

/** Drops the clean code pages of the executable; see the module notes. */
export interface CodePageTrimmer {
  /** Drops them now; resolves with the KiB that were resident in the dropped mappings (0 where trimming is not possible). */
  trim(): Promise<number>;
}

/**
 * A trimmer for this process. It does nothing where trimming is not possible
 * (not Linux, not Bun, no libc `madvise`). `bun:ffi` is loaded on the first
 * trim. Reads `/proc/self/smaps` with `Bun.file`: `node:fs` would cost more
 * resident memory than it saves here.
 *
 * @example
 * ```ts
 * await codePageTrimmer().trim();
 * ```
 */
export function codePageTrimmer(): CodePageTrimmer {
  let madvise: Promise<Madvise | undefined> | undefined;
  const exePath = process.execPath;
  return {
    async trim() {
      madvise ??= loadMadvise();
      const advise = await madvise;
      if (!advise) return 0;
      const bun = (globalThis as unknown as { Bun: { file(path: string): { text(): Promise<string> } } }).Bun;
      let released = 0;
      for (const m of trimmable(parseSmaps(await bun.file("/proc/self/smaps").text()), exePath)) {
        if (advise(m.start, m.end - m.start, MADV_DONTNEED) === 0) released += m.rssKiB;
      }
      return released;
    },
  };
}

/**
 * A listener for `watchActivity` (lib/runtime/activity.ts) that trims code
 * pages ({@link codePageTrimmer}) whenever the process settles: on the first
 * quiet window after start-up and after every busy one, so the code of
 * start-up, joins and bursts of work does not stay resident in an idle agent.
 *
 * @example
 * ```ts
 * watchActivity(runtime, trimOnSettle(codePageTrimmer()));
 * ```
 */
export function trimOnSettle(trimmer: CodePageTrimmer = codePageTrimmer()): (busy: boolean) => void {
  let settled = false;
  return (busy) => {
    if (!busy && !settled) void trimmer.trim().catch(() => {});
    settled = !busy;
  };
}
