/**
 * What keeps `node:` built-ins out of a process that does not need them
 * (each costs megabytes of resident memory in a Bun-compiled agent): the
 * lazy loader, the IP literal check that replaces `node:net`'s `isIP`, and a
 * guard that runtime code has no static value imports of heavy modules.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { builtin, nodeNet } from "../lib/runtime/builtin.ts";
import { ipVersion } from "../lib/runtime/ip.ts";
import { repoPath } from "./helpers/runtime.ts";

describe("lazy node: built-ins", () => {
  it("loads a built-in module on demand, the same object each time", () => {
    const net = nodeNet();
    assert.equal(typeof net.createServer, "function");
    assert.equal(builtin("node:net"), net);
  });

  it("throws for a module that does not exist", () => {
    assert.throws(() => builtin("node:no-such-module"), /no-such-module/);
  });
});

describe("IP literals without node:net", () => {
  it("agrees with node:net's isIP", () => {
    const cases = [
      "127.0.0.1",
      "0.0.0.0",
      "10.0.0.255",
      "255.255.255.255",
      "256.1.1.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.4.",
      "::",
      "::1",
      "1::",
      ":1",
      "1:",
      "1:::2",
      "a::b::c",
      "fe80::1%lo",
      "fe80::1%",
      "2001:db8::1",
      "::ffff:10.0.0.1",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::",
      "::1:2:3:4:5:6:7",
      "1:2:3:4:5:6:1.2.3.4",
      "1:2:3:4:5:6:7:1.2.3.4",
      "1.2.3.4::",
      "12345::",
      "localhost",
      "example.com",
      "",
    ];
    for (const c of cases) assert.equal(ipVersion(c), isIP(c), JSON.stringify(c));
  });
});

/** cli.ts, mod.ts and every .ts file under lib/, as repo-relative paths. */
function runtimeSources(): string[] {
  const files = ["cli.ts", "mod.ts"];
  const walk = (dir: string) => {
    for (const e of readdirSync(repoPath(dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".ts")) files.push(`${dir}/${e.name}`);
    }
  };
  walk("lib");
  return files;
}

describe("runtime code", () => {
  it("imports no node: module statically except node:process and node:buffer (the rest load on use)", () => {
    const files = runtimeSources();
    const offenders: string[] = [];
    for (const f of files) {
      const src = readFileSync(repoPath(f), "utf8");
      for (const m of src.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"(node:[\w/]+)"/gm)) {
        if (m[1] !== "node:process" && m[1] !== "node:buffer") offenders.push(`${f}: ${m[1]}`);
      }
    }
    assert.ok(files.length > 50, `found ${files.length} files`);
    assert.deepEqual(offenders, []);
  });

  it("imports only relative paths and node: built-ins (so mod.ts loads from a URL); bun:ffi only dynamically, in trim.ts", () => {
    const files = runtimeSources();
    const offenders: string[] = [];
    let checked = 0;
    for (const f of files) {
      const src = readFileSync(repoPath(f), "utf8");
      for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)) {
        checked++;
        if (!m[1].startsWith(".") && !m[1].startsWith("node:")) offenders.push(`${f}: ${m[1]}`);
      }
      for (const m of src.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) {
        const ok = m[1].startsWith(".") || m[1].startsWith("node:") ||
          (m[1] === "bun:ffi" && f === "lib/runtime/trim.ts");
        if (!ok) offenders.push(`${f}: import("${m[1]}")`);
      }
    }
    assert.ok(checked > 300, `checked ${checked} import specifiers`);
    assert.deepEqual(offenders, []);
  });
});
