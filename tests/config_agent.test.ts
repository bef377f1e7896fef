/**
 * The agent configuration (lib/agent/config.ts) and `serf agent`'s argument
 * handling (lib/cli/commands/agent.ts): defaults, MergeConfig's rules,
 * strict JSON decoding, file/directory loading, and every check made before
 * the agent starts. Error cases are compared byte for byte with
 * `/usr/bin/serf agent` (which fails before binding anything); our agent
 * runner is replaced by a stub so nothing ever starts on our side.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  addrParts,
  type AgentConfig,
  checkLogLevel,
  decodeBase64Std,
  decodeConfig,
  defaultConfig,
  emptyConfig,
  eventScripts,
  loadConfigDir,
  loadConfigFile,
  mergeConfig,
  readConfigPaths,
  splitHostPort,
  unmarshalTags,
} from "../lib/agent/config.ts";
import { main } from "../lib/cli/main.ts";

const SERF = "/usr/bin/serf";
const skipInterop = !existsSync(SERF) && process.env.CI !== "true" ? `${SERF} is not installed` : false;
/** Passed to both agents so that a case that unexpectedly starts binds only our ports. */
const SAFE = ["-bind=127.0.0.1:23701", "-rpc-addr=127.0.0.1:23702"];

const enc = (s: string) => new TextEncoder().encode(s);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `serf agent <args>` (killed after 5 s: every case here must fail at once). */
function realAgent(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(SERF, ["agent", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Our `serf agent <args>` in-process; the agent itself is a stub recording the config. */
async function ourAgent(args: string[], cwd = process.cwd()): Promise<Run & { config?: AgentConfig }> {
  let stdout = "", stderr = "";
  let config: AgentConfig | undefined;
  const here = process.cwd();
  process.chdir(cwd);
  try {
    const code = await main(["agent", ...args], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: {},
      runAgent: (c) => {
        config = c;
        return Promise.resolve(0);
      },
    });
    return { code, stdout, stderr, config };
  } finally {
    process.chdir(here);
  }
}

describe("defaults and merging", () => {
  it("defaultConfig has Serf's defaults for every key", () => {
    assert.deepEqual(defaultConfig(), {
      nodeName: "",
      role: "",
      disableCoordinates: false,
      tags: {},
      tagsFile: "",
      bind: "0.0.0.0",
      interface: "",
      advertise: "",
      discover: "",
      encryptKey: "",
      keyringFile: "",
      logLevel: "INFO",
      rpcAddr: "127.0.0.1:7373",
      rpcAuth: "",
      protocol: 5,
      replayOnJoin: false,
      queryResponseSizeLimit: 1024,
      querySizeLimit: 1024,
      userEventSizeLimit: 512,
      startJoin: [],
      eventHandlers: [],
      profile: "lan",
      snapshotPath: "",
      leaveOnTerminate: false,
      skipLeaveOnInterrupt: false,
      reconnectInterval: 0,
      reconnectTimeout: 0,
      tombstoneTimeout: 0,
      disableNameResolution: false,
      enableSyslog: false,
      syslogFacility: "LOCAL0",
      retryJoin: [],
      retryMaxAttempts: 0,
      retryInterval: 30_000,
      rejoinAfterLeave: false,
      enableCompression: true,
      statsiteAddr: "",
      statsdAddr: "",
      broadcastTimeout: 5_000,
    });
  });

  it("strings and numbers override only when set; protocol only when > 0", () => {
    const a = { ...defaultConfig(), nodeName: "a", profile: "wan", retryMaxAttempts: 3, reconnectTimeout: 1000 };
    const b = { ...emptyConfig(), nodeName: "b", protocol: -1, querySizeLimit: 2048, retryInterval: 500 };
    const m = mergeConfig(a, b);
    assert.equal(m.nodeName, "b");
    assert.equal(m.profile, "wan");
    assert.equal(m.protocol, 5);
    assert.equal(m.querySizeLimit, 2048);
    assert.equal(m.retryMaxAttempts, 3);
    assert.equal(m.retryInterval, 500);
    assert.equal(m.reconnectTimeout, 1000);
    assert.equal(mergeConfig(a, { ...emptyConfig(), protocol: 3 }).protocol, 3);
    assert.equal(mergeConfig(a, { ...emptyConfig(), retryMaxAttempts: -2 }).retryMaxAttempts, -2);
  });

  it("booleans only turn on; enable_compression is always taken from the later config", () => {
    const on = {
      ...emptyConfig(),
      replayOnJoin: true,
      leaveOnTerminate: true,
      enableSyslog: true,
      enableCompression: true,
    };
    const off = emptyConfig();
    const m = mergeConfig(on, off);
    assert.equal(m.replayOnJoin, true);
    assert.equal(m.leaveOnTerminate, true);
    assert.equal(m.enableSyslog, true);
    assert.equal(m.enableCompression, false);
    assert.equal(mergeConfig(off, on).enableCompression, true);
  });

  it("tags merge key-wise; handlers and join lists concatenate; inputs are not modified", () => {
    const a = {
      ...emptyConfig(),
      tags: { role: "web", dc: "1" },
      eventHandlers: ["a.sh"],
      startJoin: ["x"],
      retryJoin: ["r1"],
    };
    const b = {
      ...emptyConfig(),
      tags: { dc: "2", rack: "9" },
      eventHandlers: ["b.sh"],
      startJoin: ["y"],
      retryJoin: ["r2"],
    };
    const m = mergeConfig(a, b);
    assert.deepEqual(m.tags, { role: "web", dc: "2", rack: "9" });
    assert.deepEqual(m.eventHandlers, ["a.sh", "b.sh"]);
    assert.deepEqual(m.startJoin, ["x", "y"]);
    assert.deepEqual(m.retryJoin, ["r1", "r2"]);
    assert.deepEqual(a.tags, { role: "web", dc: "1" });
    assert.deepEqual(a.eventHandlers, ["a.sh"]);
  });
});

describe("decoding config files", () => {
  it("reads every key", () => {
    const c = decodeConfig(enc(JSON.stringify({
      node_name: "n",
      role: "r",
      disable_coordinates: true,
      tags: { a: "1" },
      tags_file: "t.json",
      bind: "127.0.0.1:1",
      interface: "lo",
      advertise: "1.2.3.4",
      discover: "c",
      encrypt_key: "k",
      keyring_file: "kr",
      log_level: "debug",
      rpc_addr: "127.0.0.1:2",
      rpc_auth: "secret",
      protocol: 4,
      replay_on_join: true,
      query_response_size_limit: 1,
      query_size_limit: 2,
      user_event_size_limit: 3,
      start_join: ["j"],
      event_handlers: ["e.sh"],
      profile: "wan",
      snapshot_path: "s",
      leave_on_terminate: true,
      skip_leave_on_interrupt: true,
      reconnect_interval: "1m",
      reconnect_timeout: "2h",
      tombstone_timeout: "1h30m",
      disable_name_resolution: true,
      enable_syslog: true,
      syslog_facility: "LOCAL1",
      retry_join: ["rj"],
      retry_max_attempts: 5,
      retry_interval: "500ms",
      rejoin_after_leave: true,
      enable_compression: true,
      statsite_addr: "ss",
      statsd_addr: "sd",
      broadcast_timeout: "1.5s",
    })));
    assert.deepEqual(c, {
      nodeName: "n",
      role: "r",
      disableCoordinates: true,
      tags: { a: "1" },
      tagsFile: "t.json",
      bind: "127.0.0.1:1",
      interface: "lo",
      advertise: "1.2.3.4",
      discover: "c",
      encryptKey: "k",
      keyringFile: "kr",
      logLevel: "debug",
      rpcAddr: "127.0.0.1:2",
      rpcAuth: "secret",
      protocol: 4,
      replayOnJoin: true,
      queryResponseSizeLimit: 1,
      querySizeLimit: 2,
      userEventSizeLimit: 3,
      startJoin: ["j"],
      eventHandlers: ["e.sh"],
      profile: "wan",
      snapshotPath: "s",
      leaveOnTerminate: true,
      skipLeaveOnInterrupt: true,
      reconnectInterval: 60_000,
      reconnectTimeout: 7_200_000,
      tombstoneTimeout: 5_400_000,
      disableNameResolution: true,
      enableSyslog: true,
      syslogFacility: "LOCAL1",
      retryJoin: ["rj"],
      retryMaxAttempts: 5,
      retryInterval: 500,
      rejoinAfterLeave: true,
      enableCompression: true,
      statsiteAddr: "ss",
      statsdAddr: "sd",
      broadcastTimeout: 1500,
    });
  });

  it("mapstructure leniencies: key case, null values, float to int, only the first JSON value", () => {
    const c = decodeConfig(enc('{"Node_Name":"y","PROTOCOL":3.9,"tags":{"a":null,"b":"2"},"role":null} trailing'));
    assert.equal(c.nodeName, "y");
    assert.equal(c.protocol, 3);
    assert.deepEqual(c.tags, { a: "", b: "2" });
    assert.equal(c.role, "");
    assert.deepEqual(decodeConfig(enc("null")), emptyConfig());
    assert.deepEqual(decodeConfig(enc(" {} ")), emptyConfig());
  });

  it('[quirk] the key "-" sets all five durations (in nanoseconds)', () => {
    const c = decodeConfig(enc('{"-": 5000000, "retry_interval": "2s"}'));
    assert.deepEqual(
      [c.reconnectInterval, c.reconnectTimeout, c.tombstoneTimeout, c.retryInterval, c.broadcastTimeout],
      [5, 5, 5, 2000, 5],
    );
  });

  it("errors in mapstructure's words, sorted and counted", () => {
    assert.throws(
      () =>
        decodeConfig(
          enc(
            '{"bogus_key":1,"node_name":5,"tags":{"a":1},"start_join":"x","protocol":"5","enable_syslog":"yes","another":2}',
          ),
        ),
      {
        message: "6 error(s) decoding:\n\n" +
          "* '' has invalid keys: another, bogus_key\n" +
          "* 'enable_syslog' expected type 'bool', got unconvertible type 'string', value: 'yes'\n" +
          "* 'node_name' expected type 'string', got unconvertible type 'float64', value: '5'\n" +
          "* 'protocol' expected type 'int', got unconvertible type 'string', value: '5'\n" +
          "* 'start_join': source data must be an array or slice, got string\n" +
          "* 'tags[a]' expected type 'string', got unconvertible type 'float64', value: '1'",
      },
    );
    assert.throws(() => decodeConfig(enc("[1]")), { message: "'' expected a map, got 'slice'" });
    assert.throws(() => decodeConfig(enc("")), { message: "EOF" });
    assert.throws(() => decodeConfig(enc('{"a":')), { message: "unexpected EOF" });
    assert.throws(() => decodeConfig(enc('{"retry_interval":"abc"}')), { message: 'time: invalid duration "abc"' });
  });

  describe("files and directories", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "serf-config-"));
      writeFileSync(join(dir, "b.json"), '{"node_name":"from-b","tags":{"x":"b"},"event_handlers":["b.sh"]}');
      writeFileSync(join(dir, "a.json"), '{"node_name":"from-a","tags":{"x":"a","y":"a"},"event_handlers":["a.sh"]}');
      writeFileSync(join(dir, "ignored.txt"), "not json");
      mkdirSync(join(dir, "sub.json"));
      writeFileSync(join(dir, "sub.json", "deep.json"), '{"bogus":1}');
      writeFileSync(join(dir, "single.conf"), '{"profile":"wan","event_handlers":["s.sh"]}');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("a directory: *.json only, sorted by name, not recursive", async () => {
      const c = await loadConfigDir(dir);
      assert.equal(c.nodeName, "from-b");
      assert.deepEqual(c.tags, { x: "b", y: "a" });
      assert.deepEqual(c.eventHandlers, ["a.sh", "b.sh"]);
    });

    it("a file of any name", async () => {
      const c = await loadConfigFile(join(dir, "single.conf"));
      assert.equal(c.profile, "wan");
    });

    it("mixed paths merge in command-line order", async () => {
      const c = await readConfigPaths([join(dir, "single.conf"), dir, join(dir, "a.json")]);
      assert.deepEqual(c.eventHandlers, ["s.sh", "a.sh", "b.sh", "a.sh"]);
      assert.equal(c.nodeName, "from-a");
      assert.equal(c.profile, "wan");
    });

    it("reading and decoding errors name the file", async () => {
      const missing = join(dir, "missing.json");
      await assert.rejects(loadConfigFile(missing), {
        message: `Error reading '${missing}': open ${missing}: no such file or directory`,
      });
      await assert.rejects(readConfigPaths([missing]), {
        message: `Error reading '${missing}': open ${missing}: no such file or directory`,
      });
      await assert.rejects(readConfigPaths([join(dir, "sub.json")]), {
        message: `Error decoding '${dir}/sub.json/deep.json': 1 error(s) decoding:\n\n* '' has invalid keys: bogus`,
      });
      await assert.rejects(loadConfigFile(join(dir, "ignored.txt")), {
        message: `Error decoding '${join(dir, "ignored.txt")}': invalid character 'o' in literal null (expecting 'u')`,
      });
    });
  });
});

describe("helpers", () => {
  it("tags: split at the first =, key required", () => {
    assert.deepEqual(unmarshalTags(["a=b", "c=", "d=e=f"]), { a: "b", c: "", d: "e=f" });
    assert.throws(() => unmarshalTags(["x"]), { message: "Invalid tag: 'x'" });
    assert.throws(() => unmarshalTags(["=v"]), { message: "Invalid tag: '=v'" });
  });

  it("event handlers: [filter=]script, one entry per filter", () => {
    const c = { ...emptyConfig(), eventHandlers: ["all.sh", "member-join,user:deploy=d.sh arg=1", "=x.sh"] };
    assert.deepEqual(eventScripts(c), [
      { event: "*", name: "", script: "all.sh" },
      { event: "member-join", name: "", script: "d.sh arg=1" },
      { event: "user", name: "deploy", script: "d.sh arg=1" },
      { event: "*", name: "", script: "x.sh" },
    ]);
  });

  it("log levels are case-insensitive", () => {
    assert.equal(checkLogLevel("debug"), undefined);
    assert.equal(checkLogLevel("Err"), undefined);
    assert.equal(
      checkLogLevel("verbose"),
      "Invalid log level: VERBOSE. Valid log levels are: [TRACE DEBUG INFO WARN ERR]",
    );
  });

  it("addresses: default port 7946, IPv6, service names, Go's errors", async () => {
    assert.deepEqual(await addrParts("0.0.0.0"), { ip: "0.0.0.0", port: 7946 });
    assert.deepEqual(await addrParts("[::1]"), { ip: "::1", port: 7946 });
    assert.deepEqual(await addrParts("[0:0::1]:99"), { ip: "::1", port: 99 });
    assert.deepEqual(await addrParts("127.0.0.1:http"), { ip: "127.0.0.1", port: 80 });
    assert.deepEqual(await addrParts("localhost:5"), { ip: "127.0.0.1", port: 5 });
    assert.deepEqual(splitHostPort("[::1]:5"), ["::1", "5"]);
    await assert.rejects(addrParts("1.2.3.4:abc"), { message: "address tcp/abc: unknown port" });
    await assert.rejects(addrParts("1.2.3.4:70000"), { message: "address 70000: invalid port" });
    await assert.rejects(addrParts("::1"), { message: "address ::1: too many colons in address" });
    await assert.rejects(addrParts("[::1"), { message: "address [::1: missing ']' in address" });
    // Go's AddrParts loops forever here; we report the error instead.
    await assert.rejects(addrParts("[::1]x"), { message: "address [::1]x:7946: missing port in address" });
    await assert.rejects(addrParts("a]:1"), { message: "address a]:1: unexpected ']' in address" });
    await assert.rejects(
      addrParts("nosuchhost.invalid"),
      /^Error: lookup nosuchhost\.invalid( on \S+)?: no such host$/,
    );
  });

  it("base64 keys: Go's StdEncoding errors", () => {
    assert.deepEqual(decodeBase64Std("YWJj"), enc("abc"));
    assert.deepEqual(decodeBase64Std("YWI=\n"), enc("ab"));
    assert.deepEqual(decodeBase64Std("Y\r\nQ=="), enc("a"));
    assert.deepEqual(decodeBase64Std(""), new Uint8Array());
    const cases: [string, number][] = [["!!", 0], ["YQ", 0], ["YWJjZA=", 7], ["Y===", 1], ["YW==x", 4], [
      "YWJj ZGVm",
      4,
    ], ["YWJjZ", 4]];
    for (const [text, at] of cases) {
      assert.throws(() => decodeBase64Std(text), { message: `illegal base64 data at input byte ${at}` }, text);
    }
  });
});

describe("serf agent flags", () => {
  it("map to the config handed to the agent", async () => {
    const r = await ourAgent([
      "-node=n1",
      "-bind=127.0.0.1:23701",
      "-advertise=127.0.0.2",
      "-rpc-addr=127.0.0.1:23702",
      "-encrypt=T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=",
      "-event-handler=a.sh",
      "--event-handler",
      "user:x=b.sh",
      "-join=j1",
      "-join",
      "j2",
      "-replay",
      "-log-level=debug",
      "-protocol=4",
      "-profile=local",
      "-snapshot=/tmp/snap",
      "-tag",
      "a=1",
      "-tag=b=2=3",
      "-retry-join=r1",
      "-retry-max=7",
      "-retry-interval=2s",
      "-rejoin",
      "-disable-compression",
      "-broadcast-timeout=3s",
      "-syslog",
      "-keyring-file=/tmp/kr",
      "-tags-file=/tmp/tf",
      "-discover=clu",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, "");
    const c = r.config!;
    assert.equal(typeof c.reload, "function");
    delete c.reload;
    assert.deepEqual(c, {
      ...defaultConfig(),
      nodeName: "n1",
      bind: "127.0.0.1:23701",
      advertise: "127.0.0.2",
      rpcAddr: "127.0.0.1:23702",
      encryptKey: "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=",
      eventHandlers: ["a.sh", "user:x=b.sh"],
      startJoin: ["j1", "j2"],
      replayOnJoin: true,
      logLevel: "debug",
      protocol: 4,
      profile: "local",
      snapshotPath: "/tmp/snap",
      tags: { a: "1", b: "2=3" },
      retryJoin: ["r1"],
      retryMaxAttempts: 7,
      retryInterval: 2000,
      rejoinAfterLeave: true,
      enableCompression: false,
      broadcastTimeout: 3000,
      enableSyslog: true,
      keyringFile: "/tmp/kr",
      tagsFile: "/tmp/tf",
      discover: "clu",
    });
  });

  it("defaults: hostname as node name, compression on; flags override files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "serf-flags-"));
    try {
      writeFileSync(
        join(dir, "c.json"),
        '{"profile":"wan","tags":{"f":"1"},"enable_compression":false,"rpc_auth":"tok"}',
      );
      const r = await ourAgent([...SAFE, `-config-file=${join(dir, "c.json")}`, "-tag=g=2", "-profile=local"]);
      assert.equal(r.code, 0);
      const c = r.config!;
      assert.equal(c.nodeName, hostname());
      assert.equal(c.profile, "local");
      assert.equal(c.rpcAuth, "tok");
      assert.equal(c.enableCompression, true);
      assert.deepEqual(c.tags, { f: "1", g: "2" });
      const reloaded = await c.reload!();
      assert.equal(reloaded?.rpcAuth, "tok");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("role becomes the role tag; low intervals are raised to 1s, with notices", async () => {
    const r = await ourAgent([...SAFE, "-role=db", "-retry-interval=10ms", "-broadcast-timeout=-1s", "-rejoin"]);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      "==> Deprecation warning: 'Role' has been replaced with 'Tags'\n" +
        "==> Warning: 'RetryInterval' is too low. Setting to 1s\n" +
        "==> Warning: 'BroadcastTimeout' is too low. Setting to 1s\n" +
        "==> Warning: 'RejoinAfterLeave' enabled without snapshot file\n",
    );
    assert.deepEqual(r.config!.tags, { role: "db" });
    assert.equal(r.config!.retryInterval, 1000);
    assert.equal(r.config!.broadcastTimeout, 1000);
  });
});

describe("serf agent refuses to start exactly like /usr/bin/serf", { skip: skipInterop }, () => {
  let dir: string;
  const files: Record<string, string> = {
    "bad.json":
      '{"bogus_key":1,"node_name":5,"tags":{"a":1},"start_join":"x","protocol":"5","retry_interval":"abc","enable_syslog":"yes", "another":2}',
    "dur.json": '{"retry_interval":"abc"}',
    "dur2.json": '{"reconnect_timeout":"1x", "broadcast_timeout":"5"}',
    "trunc.json": '{"node_name": "x",',
    "empty.json": "\n",
    "arr.json": "[1]",
    "num.json": "5",
    "str.json": '"x"',
    "trail.json": '{"node_name":"a"} garbage',
    "dash.json": '{"-": 5}',
    "dashbad.json": '{"-": "x"}',
    "case.json": '{"Node_Name":"y", "protocol": 1.7, "tags": null, "x": {"a":[1,2.5,"s",true,null]}}',
    "values.json":
      '{"node_name":1234567,"role":[1,"a",null,{"b":true}],"bind":{"z":1,"a":[2]},"tags_file":1e-7,"discover":false}',
    "lists.json": '{"start_join":[1,"a",null],"event_handlers":{"a":1},"retry_join":true,"tags":"x","tags_file":"ok"}',
    "ints.json": '{"protocol":true,"retry_max_attempts":"3","query_size_limit":[1],"retry_interval":5}',
    "syn1.json": '{"a" 1}',
    "syn2.json": '{"a":tru}',
    "syn3.json": '{"a":"\u0001"}',
    "syn4.json": '{"a":"\\q"}',
    "syn5.json": '{"a":"\\u12g4"}',
    "syn6.json": '{"a":-}',
    "syn7.json": '{"a":1.}',
    "syn8.json": '{"a":1e+}',
    "syn9.json": "{,}",
    "syn10.json": '{"a":1,}',
    "syn11.json": '{"a":[1 2]}',
    "syn12.json": '{"a":01}',
    "syn13.json": "{'a':1}",
    "syn14.json": '{"a":1e999}',
    "syn15.json": '{"a":nul}',
    "syn16.json": '{"é":x}',
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "serf-agent-cfg-"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    mkdirSync(join(dir, "d"));
    writeFileSync(join(dir, "d", "a.json"), '{"node_name":"x"}');
    writeFileSync(join(dir, "d", "b.json"), '{"nope":1}');
    writeFileSync(join(dir, "d", "c.txt"), "{");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: string[][] = [
    ...Object.keys(files).map((f) => [`-config-file=${f}`, "-log-level=bogus"]),
    ["-config-file=missing.json"],
    ["-config-dir=d"],
    ["-config-dir=nodir"],
    ["-config-file=dur.json", "-config-dir=d"],
    ["-tag=x"],
    ["-tag==v"],
    ["-tag", "a=b", "-tag", "c"],
    ["-retry-interval=1x"],
    ["-broadcast-timeout=abc"],
    ["-retry-interval=-1s", "-broadcast-timeout=1ms", "-log-level=x"],
    ["-event-handler=foo=bar.sh"],
    ["-event-handler=user:x,member-join,foo:y=a.sh"],
    ["-event-handler=a.sh", "-event-handler=query:q,member-reap,user=b.sh", "-event-handler=,=c.sh"],
    ["-iface=nope0"],
    ["-profile=xx"],
    ["-profile=LAN"],
    ["-log-level=bogus", "-role=r", "-retry-interval=1ms", "-rejoin"],
    ["-log-level=", "-profile=bad"],
    ["-log-level=trace", "-profile=bad"],
    ["-encrypt=!!"],
    ["-encrypt=abc"],
    ["-encrypt=YQ"],
    ["-encrypt=YWJjZA="],
    ["-encrypt=YW==x"],
    ["-bind=1.2.3.4:abc"],
    ["-bind=::1"],
    ["-bind=[::1"],
    ["-bind=a:b:c"],
    ["-bind=1.2.3.4:99999"],
    ["-bind=1.2.3.4:-5"],
    ["-advertise=1.2.3.4:99999"],
    ["-advertise=[::1]:-1"],
    ["-advertise=1.2.3.4:http", "-profile=zz"],
    ["-advertise=[::ffff:1.2.3.4]", "-bind=[::1]", "-encrypt=x"],
    ["-protocol=x"],
    ["-retry-max=1.5"],
    ["-replay=nope"],
    ["-iface=lo", "-profile=bad"],
    ["-iface=lo", "-bind=10.1.1.1"],
    ["-join"],
    ["-bogus"],
  ];
  for (const args of cases) {
    it(`serf agent ${args.join(" ")}`, async () => {
      const full = [...SAFE, ...args];
      const [want, got] = await Promise.all([realAgent(full, dir), ourAgent(full, dir)]);
      assert.equal(got.config, undefined, "our agent must not have been started");
      assert.deepEqual({ code: got.code, stdout: got.stdout, stderr: got.stderr }, want);
    });
  }
});
