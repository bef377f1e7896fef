/**
 * Lazy access to `node:` built-ins. A static `import ... from "node:net"` is
 * evaluated when the program starts, and in a Bun-compiled agent each such
 * module costs megabytes of resident memory even when it is never used
 * (`node:crypto` ~6 MiB, `node:net` ~5 MiB, `node:fs` ~3 MiB). Code that
 * needs a module only for an optional feature (encryption, event handlers,
 * snapshots, config files, DNS names) fetches it here when it first runs.
 *
 * Uses `process.getBuiltinModule` (Bun, Deno 2, Node >= 20.16), which loads
 * synchronously, so callers stay synchronous. Modules are only loaded, never
 * imported: the static imports of `lib/` stay relative and type-only.
 *
 * @module
 */

import type * as ChildProcess from "node:child_process";
import type * as Crypto from "node:crypto";
import type * as Dgram from "node:dgram";
import type * as Dns from "node:dns";
import type * as DnsPromises from "node:dns/promises";
import type * as Fs from "node:fs";
import type * as FsPromises from "node:fs/promises";
import type * as Net from "node:net";
import type * as Os from "node:os";

type GetBuiltinModule = (id: string) => unknown;

/**
 * The built-in module `id` (e.g. `"node:crypto"`), loaded now if needed.
 * The typed accessors below (`nodeFs()`, ...) are the usual way in.
 *
 * @throws {Error} when the runtime lacks `process.getBuiltinModule` or the module.
 */
export function builtin<T>(id: string): T {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } }).process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new Error(`cannot load ${id}: this runtime lacks process.getBuiltinModule (Node >= 20.16, Deno 2, Bun)`);
  }
  const mod = proc.getBuiltinModule(id);
  if (mod === undefined) throw new Error(`cannot load ${id}: no such built-in module`);
  return mod as T;
}

/** `node:child_process`, loaded on first use. */
export const nodeChildProcess = (): typeof ChildProcess => builtin("node:child_process");
/** `node:crypto`, loaded on first use. */
export const nodeCrypto = (): typeof Crypto => builtin("node:crypto");
/** `node:dgram`, loaded on first use. */
export const nodeDgram = (): typeof Dgram => builtin("node:dgram");
/** `node:dns`, loaded on first use. */
export const nodeDns = (): typeof Dns => builtin("node:dns");
/** `node:dns/promises`, loaded on first use. */
export const nodeDnsPromises = (): typeof DnsPromises => builtin("node:dns/promises");
/** `node:fs`, loaded on first use. */
export const nodeFs = (): typeof Fs => builtin("node:fs");
/** `node:fs/promises`, loaded on first use. */
export const nodeFsPromises = (): typeof FsPromises => builtin("node:fs/promises");
/** `node:net`, loaded on first use. */
export const nodeNet = (): typeof Net => builtin("node:net");
/** `node:os`, loaded on first use. */
export const nodeOs = (): typeof Os => builtin("node:os");
