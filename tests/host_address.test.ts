import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { literalTargets, normalizeIp, parseJoinAddress, resolveJoinAddress } from "../lib/host/address.ts";

describe("parseJoinAddress (memberlist resolveAddr/ensurePort)", () => {
  it("takes host:port, adds the default port when missing", () => {
    assert.deepEqual(parseJoinAddress("10.0.0.1:7000", 7946), { host: "10.0.0.1", port: 7000 });
    assert.deepEqual(parseJoinAddress("10.0.0.1", 7946), { host: "10.0.0.1", port: 7946 });
    assert.deepEqual(parseJoinAddress("example.com", 22001), { host: "example.com", port: 22001 });
  });
  it("handles IPv6 with and without brackets and port", () => {
    assert.deepEqual(parseJoinAddress("[::1]:7000", 7946), { host: "::1", port: 7000 });
    assert.deepEqual(parseJoinAddress("[::1]", 7946), { host: "::1", port: 7946 });
    assert.deepEqual(parseJoinAddress("fd00::2", 7946), { host: "fd00::2", port: 7946 });
    // Go's hasPort: more than one colon without brackets means "no port".
    assert.deepEqual(parseJoinAddress("1:2:3", 5), { host: "1:2:3", port: 5 });
  });
  it("peels off a leading node name", () => {
    assert.deepEqual(parseJoinAddress("b/10.0.0.2:7946", 1), { name: "b", host: "10.0.0.2", port: 7946 });
    assert.deepEqual(parseJoinAddress("node-x/[::1]", 9), { name: "node-x", host: "::1", port: 9 });
    assert.throws(() => parseJoinAddress("/10.0.0.2", 1), /empty node name provided/);
  });
  it("rejects bad ports like strconv.ParseUint(…, 16)", () => {
    assert.throws(() => parseJoinAddress("10.0.0.1:99999", 1), /ParseUint/);
    assert.throws(() => parseJoinAddress("10.0.0.1:x", 1), /ParseUint/);
    assert.throws(() => parseJoinAddress("10.0.0.1:", 1), /ParseUint/);
  });
});

describe("join target resolution", () => {
  it("returns literal targets synchronously, undefined for names", () => {
    assert.deepEqual(literalTargets("a/127.0.0.1", 22001), [{ ip: "127.0.0.1", port: 22001, name: "a" }]);
    assert.deepEqual(literalTargets("[::ffff:127.0.0.1]:5", 1), [{ ip: "127.0.0.1", port: 5 }]);
    assert.equal(literalTargets("localhost:5", 1), undefined);
  });
  it("normalizes IPv4-mapped addresses", () => {
    assert.equal(normalizeIp("::ffff:10.1.2.3"), "10.1.2.3");
    assert.equal(normalizeIp("::1"), "::1");
  });
  it("resolves host names through node:dns", async () => {
    const targets = await resolveJoinAddress("n/localhost:22001", 1);
    assert.ok(targets.length >= 1);
    for (const t of targets) {
      assert.equal(t.port, 22001);
      assert.equal(t.name, "n");
      assert.ok(t.ip === "127.0.0.1" || t.ip === "::1", t.ip);
    }
  });
  it("reports failures with memberlist's wording", async () => {
    await assert.rejects(
      resolveJoinAddress("no-such-host.invalid", 1),
      /^Error: Failed to resolve no-such-host\.invalid: /,
    );
    await assert.rejects(resolveJoinAddress("/x", 1), /Failed to resolve \/x: empty node name provided/);
  });
});
