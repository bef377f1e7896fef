/**
 * Event handler scripts (`-event-handler`), as Serf's agent runs them:
 * - units: filters, circular output buffer, stdin formats, `SERF_*` env, one
 *   script run (exit status, 8 KiB output, slow warning, query response);
 * - the sequential queue and script updates;
 * - our agent (two of ours, driven by our CLI): member-join with member
 *   lines, user events and `user:NAME` / `member-join,member-leave` filters,
 *   a query answered by a handler, Go's error/slow/deadline/size-limit logs,
 *   and a SIGHUP reload of the handlers from a config file;
 * - the same handler in our agent and in the real agent (/usr/bin/serf) of
 *   one cluster gets the same environment and stdin for the same events.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { filterMatches, ScriptEventHandler } from "../lib/agent/event_handler.ts";
import {
  CircularBuffer,
  eventClean,
  eventEnv,
  exitErrorText,
  invokeEventScript,
  memberEventStdin,
  payloadStdin,
  tagEnvName,
} from "../lib/agent/invoke.ts";
import { parseEventScript } from "../lib/agent/config.ts";
import type { LogLevel } from "../lib/core/log.ts";
import type { Query } from "../lib/serf/query.ts";
import type { Member, SerfEvent } from "../lib/serf/types.ts";
import { type OurAgent, oursArgv, runCli, startOurAgent } from "./helpers/agent.ts";
import { killAll } from "./helpers/process.ts";
import { SERF_BIN, serfSkip, startSerfAgent } from "./helpers/serf.ts";
import { waitFor } from "./helpers/wait.ts";

const skipReal = serfSkip();
const addr = (i: number) => `127.0.0.1:${25000 + i}`;
const rpc = (i: number) => `127.0.0.1:${25100 + i}`;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "serf-eh-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function member(name: string, tags: Record<string, string>, ip = [127, 0, 0, 1]): Member {
  return {
    name,
    addr: new Uint8Array(ip),
    port: 7946,
    tags,
    status: "alive",
    protocolMin: 1,
    protocolMax: 5,
    protocolCur: 2,
    delegateMin: 2,
    delegateMax: 5,
    delegateCur: 4,
  };
}

/** A query event whose responses go to `sent`. */
function queryEvent(name: string, payload: string | null, ltime = 7): SerfEvent {
  const q = { name, ltime, payload: payload === null ? null : enc(payload) } as unknown as Query;
  return { type: "query", query: q };
}

function userEvent(name: string, payload: string | null, ltime = 3): SerfEvent {
  return { type: "user", name, ltime, payload: payload === null ? null : enc(payload), coalesce: true };
}

/** A logger collecting `[LEVEL] message` lines. */
function collector(): { lines: string[]; logger: (l: LogLevel, m: string) => void } {
  const lines: string[] = [];
  return { lines, logger: (l, m) => lines.push(`[${l}] ${m}`) };
}

/**
 * A handler script recording each run as `<n>.env` (SERF_* and EH_TEST_MARK,
 * sorted) and `<n>.in` (stdin) in `dir`; runs are sequential so `n` is safe.
 */
function recorder(dir: string): string {
  const path = join(dir, "rec.sh");
  writeFileSync(
    path,
    [
      "#!/bin/sh",
      `d='${dir}'`,
      'i=$(cat "$d/n" 2>/dev/null || echo 0); i=$((i+1)); echo $i > "$d/n"',
      "env | grep -E '^(SERF_|EH_TEST_MARK=)' | sort > \"$d/$i.env\"",
      'cat > "$d/$i.in"',
      "",
    ].join("\n"),
  );
  chmodSync(path, 0o755);
  return path;
}

interface Rec {
  env: Record<string, string>;
  stdin: string;
}

/** The runs recorded by {@link recorder}, in order. */
function records(dir: string): Rec[] {
  const n = readdirSync(dir).filter((f) => /^\d+\.env$/.test(f)).length;
  const out: Rec[] = [];
  for (let i = 1; i <= n; i++) {
    if (!existsSync(join(dir, `${i}.in`))) break;
    const env: Record<string, string> = {};
    for (const line of readFileSync(join(dir, `${i}.env`), "utf8").split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
    }
    out.push({ env, stdin: readFileSync(join(dir, `${i}.in`), "utf8") });
  }
  return out;
}

/** Member lines of every recorded member-join, tags sorted (Go prints map order). */
function joinLines(recs: Rec[]): string[] {
  return recs.filter((r) => r.env.SERF_EVENT === "member-join").flatMap((r) =>
    r.stdin.split("\n").filter((l) => l !== "").map((l) => {
      const cols = l.split("\t");
      cols[3] = cols[3].split(",").sort().join(",");
      return cols.join("\t");
    })
  ).sort();
}

describe("event handler units", () => {
  it("filters match like Go's EventFilter.Invoke", () => {
    const join: SerfEvent = { type: "member-join", members: [] };
    const f = (spec: string) => parseEventScript(`${spec}=x`);
    assert.equal(filterMatches(f("*")[0], join), true);
    assert.equal(filterMatches(parseEventScript("x")[0], userEvent("a", null)), true);
    assert.deepEqual(f("member-join,member-leave").map((s) => filterMatches(s, join)), [true, false]);
    assert.equal(filterMatches(f("member-leave")[0], { type: "member-leave", members: [] }), true);
    assert.equal(filterMatches(f("user")[0], userEvent("deploy", null)), true);
    assert.equal(filterMatches(f("user:deploy")[0], userEvent("deploy", null)), true);
    assert.equal(filterMatches(f("user:deploy")[0], userEvent("deploy2", null)), false);
    assert.equal(filterMatches(f("user:deploy")[0], queryEvent("deploy", null)), false);
    assert.equal(filterMatches(f("query:q")[0], queryEvent("q", null)), true);
    assert.equal(filterMatches(f("query:q")[0], queryEvent("r", null)), false);
    assert.equal(filterMatches(f("query")[0], join), false);
    assert.equal(filterMatches(f("user:")[0], userEvent("any", null)), true);
  });

  it("the circular buffer keeps the last bytes and counts everything", () => {
    const b = new CircularBuffer(8);
    assert.equal(dec(b.bytes()), "");
    b.write(enc("abc"));
    assert.equal(dec(b.bytes()), "abc");
    b.write(enc("defgh"));
    assert.equal(dec(b.bytes()), "abcdefgh");
    b.write(enc("ij"));
    assert.equal(dec(b.bytes()), "cdefghij");
    b.write(enc("0123456789xyz"));
    assert.equal(dec(b.bytes()), "6789xyz".padStart(8, "5"));
    assert.equal(b.totalWritten, 3 + 5 + 2 + 13);
  });

  it("member stdin: name, bare IP, role, tags; TAB and LF escaped", () => {
    const e: SerfEvent = {
      type: "member-join",
      members: [
        member("a\tb", { role: "web\nx", dc: "x1" }),
        member("c", {}, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
      ],
    };
    assert.equal(memberEventStdin(e), "a\\tb\t127.0.0.1\tweb\\nx\trole=web\\nx,dc=x1\nc\t::1\t\t\n");
    assert.equal(eventClean("a\tb\nc"), "a\\tb\\nc");
  });

  it("payload stdin gets a trailing newline unless empty or already there", () => {
    assert.equal(dec(payloadStdin(enc("x"))), "x\n");
    assert.equal(dec(payloadStdin(enc("x\n"))), "x\n");
    assert.equal(dec(payloadStdin(null)), "");
    assert.equal(dec(payloadStdin(new Uint8Array(0))), "");
  });

  it("SERF_* variables, with sanitised tag names", () => {
    const self = member("me", { role: "db", "foo-bar.baz": "1", dc: "x" });
    assert.equal(tagEnvName("foo-bar.baz"), "SERF_TAG_FOO_BAR_BAZ");
    assert.deepEqual(eventEnv(self, userEvent("deploy", "p", 9)), {
      SERF_EVENT: "user",
      SERF_SELF_NAME: "me",
      SERF_SELF_ROLE: "db",
      SERF_TAG_ROLE: "db",
      SERF_TAG_FOO_BAR_BAZ: "1",
      SERF_TAG_DC: "x",
      SERF_USER_EVENT: "deploy",
      SERF_USER_LTIME: "9",
    });
    const q = eventEnv(member("me", {}), queryEvent("uptime", null, 4));
    assert.deepEqual(q, {
      SERF_EVENT: "query",
      SERF_SELF_NAME: "me",
      SERF_SELF_ROLE: "",
      SERF_QUERY_NAME: "uptime",
      SERF_QUERY_LTIME: "4",
    });
    assert.equal(eventEnv(self, { type: "member-reap", members: [] }).SERF_EVENT, "member-reap");
  });

  it("exit errors read like Go's exec.ExitError", () => {
    assert.equal(exitErrorText(3, null), "exit status 3");
    assert.equal(exitErrorText(null, "SIGKILL"), "signal: killed");
    assert.equal(exitErrorText(null, "SIGTERM"), "signal: terminated");
  });
});

describe("invokeEventScript", { timeout: 20_000 }, () => {
  const self = member("me", { role: "web", dc: "x1" });

  it("passes the environment and stdin; logs the output; full environment kept", async () => {
    const dir = tempDir();
    const log = collector();
    await invokeEventScript(
      `env | grep -E '^(SERF_|KEEP_ME=)' | sort > ${dir}/env; cat > ${dir}/in; echo out; echo err >&2`,
      self,
      userEvent("deploy", "v1", 5),
      {
        logger: log.logger,
        respond: () => assert.fail("no response for user events"),
        env: { ...process.env, KEEP_ME: "yes" },
      },
    );
    assert.equal(
      readFileSync(join(dir, "env"), "utf8"),
      [
        "KEEP_ME=yes",
        "SERF_EVENT=user",
        "SERF_SELF_NAME=me",
        "SERF_SELF_ROLE=web",
        "SERF_TAG_DC=x1",
        "SERF_TAG_ROLE=web",
        "SERF_USER_EVENT=deploy",
        "SERF_USER_LTIME=5",
        "",
      ].join("\n"),
    );
    assert.equal(readFileSync(join(dir, "in"), "utf8"), "v1\n");
    assert.deepEqual(log.lines, ["[DEBUG] agent: Event 'user' script output: out\nerr"]);
  });

  it("a failing script rejects with the exit status, output still logged", async () => {
    const log = collector();
    await assert.rejects(
      invokeEventScript("echo bad; exit 3", self, { type: "member-join", members: [self] }, {
        logger: log.logger,
        respond: () => {},
      }),
      { message: "exit status 3" },
    );
    assert.deepEqual(log.lines, ["[DEBUG] agent: Event 'member-join' script output: bad"]);
  });

  it("a query is answered with the last 8 KiB of output when the script succeeds", async () => {
    const sent: string[] = [];
    const respond = (_q: Query, p: Uint8Array) => void sent.push(dec(p));
    const log = collector();
    await invokeEventScript("cat; printf 'x%.0s' $(seq 1 10000); echo END", self, queryEvent("q", "ask"), {
      logger: log.logger,
      respond,
    });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].length, 8192);
    assert.ok(sent[0].endsWith("xxEND\n"));
    assert.ok(!sent[0].includes("ask"), "the oldest bytes were dropped");
    await invokeEventScript("true", self, queryEvent("q", null), { logger: log.logger, respond });
    await assert.rejects(
      invokeEventScript("echo no; exit 1", self, queryEvent("q", null), { logger: log.logger, respond }),
    );
    assert.equal(sent.length, 1, "no response without output or on failure");
  });

  it("a failed response is logged as Go does; slow scripts are reported after the delay", async () => {
    const log = collector();
    await invokeEventScript("sleep 0.3; echo hi", self, queryEvent("q", null), {
      logger: log.logger,
      respond: () => {
        throw new Error("failed to respond to key query: response is past the deadline");
      },
      slowMs: 100,
    });
    assert.deepEqual(log.lines, [
      "[WARN] agent: Script 'sleep 0.3; echo hi' slow, execution exceeding 1s",
      "[DEBUG] agent: Event 'query' script output: hi",
      "[WARN] agent: Failed to respond to query 'query: q': failed to respond to key query: response is past the deadline",
    ]);
  });
});

describe("ScriptEventHandler", { timeout: 20_000 }, () => {
  it("runs matching scripts in order, one event at a time; updates apply from the next event", async () => {
    const dir = tempDir();
    const out = join(dir, "order");
    const log = collector();
    const h2 = new ScriptEventHandler(
      [
        ...parseEventScript(`user=sleep 0.2; echo "slow $SERF_USER_EVENT" >> ${out}2`),
        ...parseEventScript(`user:b=echo "only-b" >> ${out}2`),
        ...parseEventScript(`echo "all $SERF_EVENT" >> ${out}2`),
        ...parseEventScript("member-join=exit 2"),
      ],
      { self: () => member("me", {}), logger: log.logger, respond: () => {} },
    );
    h2.handleEvent(userEvent("a", null));
    h2.handleEvent(userEvent("b", null));
    h2.handleEvent({ type: "member-join", members: [] });
    await h2.idle();
    assert.equal(
      readFileSync(`${out}2`, "utf8"),
      "slow a\nall user\nslow b\nonly-b\nall user\nall member-join\n",
    );
    assert.ok(log.lines.includes("[ERR] agent: Error invoking script 'exit 2': exit status 2"), log.lines.join("\n"));
    h2.updateScripts(parseEventScript(`echo "after $SERF_EVENT" >> ${out}2`));
    h2.handleEvent(userEvent("c", null));
    await h2.idle();
    assert.ok(readFileSync(`${out}2`, "utf8").endsWith("all member-join\nafter user\n"));
  });
});

describe("our agent runs event handlers", { timeout: 60_000 }, () => {
  let a: OurAgent;
  let dir: string, recDir: string, configPath: string;
  const ours = (...args: string[]) => runCli(oursArgv("source", args));
  const stdout = () => a.proc.stdout.join("\n");

  before(async () => {
    dir = tempDir();
    recDir = join(dir, "rec");
    mkdirSync(recDir);
    configPath = join(dir, "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        event_handlers: [`user:hup=echo old >> ${dir}/hup`],
        query_response_size_limit: 1024,
      }),
    );
    process.env.EH_TEST_MARK = "inherited";
    [a] = await Promise.all([
      startOurAgent({
        name: "ha",
        bind: addr(1),
        rpc: rpc(1),
        extra: [
          "-profile=local",
          "-log-level=debug",
          "-tag",
          "role=web",
          "-tag",
          "foo-bar=x",
          `-config-file=${configPath}`,
          "-event-handler",
          recorder(recDir),
          "-event-handler",
          `user:deploy=echo "$SERF_USER_EVENT $SERF_USER_LTIME" >> ${dir}/deploy`,
          "-event-handler",
          `member-join,member-leave=cat >> ${dir}/membership; echo "$SERF_EVENT" >> ${dir}/membership`,
          "-event-handler",
          `query:answer=echo "answer from $SERF_SELF_NAME"; cat`,
          "-event-handler",
          "user:fail=exit 3",
          "-event-handler",
          "query:slow=sleep 1.3; echo late",
          "-event-handler",
          "query:big=head -c 3000 /dev/zero | tr '\\0' x",
        ],
      }),
      startOurAgent({ name: "hb", bind: addr(2), rpc: rpc(2), extra: ["-profile=local", "-tag", "role=db"] }),
    ]);
    const j = await ours("join", `-rpc-addr=${rpc(2)}`, addr(1));
    assert.equal(j.code, 0, j.stdout + j.stderr);
  });
  after(killAll);

  it("member-join runs with one stdin line per member and the SERF_* environment", async () => {
    const lines = await waitFor(
      () => {
        const l = joinLines(records(recDir));
        return l.length >= 2 ? l : undefined;
      },
      15_000,
      "member-join records for ha and hb",
    );
    assert.deepEqual(lines, ["ha\t127.0.0.1\tweb\tfoo-bar=x,role=web", "hb\t127.0.0.1\tdb\trole=db"]);
    const first = records(recDir).find((r) => r.env.SERF_EVENT === "member-join")!;
    assert.deepEqual(first.env, {
      EH_TEST_MARK: "inherited",
      SERF_EVENT: "member-join",
      SERF_SELF_NAME: "ha",
      SERF_SELF_ROLE: "web",
      SERF_TAG_FOO_BAR: "x",
      SERF_TAG_ROLE: "web",
    });
    await a.proc.waitLine((l) => l.includes("[DEBUG] agent: Event 'member-join' script output: "), 5_000);
  });

  it("user events: name, Lamport time, payload on stdin; user:NAME only for that name", async () => {
    for (const [name, payload] of [["deploy", "v1"], ["other", ""], ["deploy", "v2\n"]]) {
      const r = await ours("event", `-rpc-addr=${rpc(2)}`, "-coalesce=false", name, payload);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const users = await waitFor(
      () => {
        const u = records(recDir).filter((r) => r.env.SERF_EVENT === "user");
        return u.length >= 3 ? u : undefined;
      },
      10_000,
      "three user event records",
    );
    // Gossip may deliver them in any order: compare by Lamport time.
    const seen = users.map((u) => [u.env.SERF_USER_EVENT, u.env.SERF_USER_LTIME, u.stdin]);
    assert.deepEqual(seen.sort((x, y) => Number(x[1]) - Number(y[1])), [
      ["deploy", "1", "v1\n"],
      ["other", "2", ""],
      ["deploy", "3", "v2\n"],
    ]);
    assert.equal(users[0].env.SERF_SELF_NAME, "ha");
    await waitFor(
      () => existsSync(join(dir, "deploy")) && readFileSync(join(dir, "deploy"), "utf8").split("\n").length > 2,
      5_000,
    );
    assert.deepEqual(readFileSync(join(dir, "deploy"), "utf8").split("\n").sort(), ["", "deploy 1", "deploy 3"]);
  });

  it("a query is answered with the handler's output", async () => {
    const r = await ours("query", `-rpc-addr=${rpc(2)}`, "-timeout=1500ms", "answer", "hello");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes("Response from 'ha': answer from ha\nhello\n"), r.stdout);
    assert.ok(r.stdout.includes("Total Responses: 1"), r.stdout);
    const q = records(recDir).find((x) => x.env.SERF_EVENT === "query" && x.env.SERF_QUERY_NAME === "answer");
    assert.equal(q?.stdin, "hello\n");
    assert.match(q?.env.SERF_QUERY_LTIME ?? "", /^\d+$/);
  });

  it("logs failures, slow scripts, late and oversized responses as Go does", async () => {
    assert.equal((await ours("event", `-rpc-addr=${rpc(1)}`, "-coalesce=false", "fail")).code, 0);
    await a.proc.waitLine((l) => l.includes("[ERR] agent: Error invoking script 'exit 3': exit status 3"), 10_000);
    const slow = await ours("query", `-rpc-addr=${rpc(1)}`, "-timeout=1s", "slow");
    assert.ok(slow.stdout.includes("Total Responses: 0"), slow.stdout);
    await a.proc.waitLine(
      (l) => l.includes("[WARN] agent: Script 'sleep 1.3; echo late' slow, execution exceeding 1s"),
      10_000,
    );
    await a.proc.waitLine(
      (l) =>
        l.includes(
          "[WARN] agent: Failed to respond to query 'query: slow': failed to respond to key query: response is past the deadline",
        ),
      10_000,
    );
    const big = await ours("query", `-rpc-addr=${rpc(1)}`, "-timeout=1s", "big");
    assert.ok(big.stdout.includes("Total Responses: 0"), big.stdout);
    await a.proc.waitLine(
      (l) =>
        l.includes(
          "[WARN] agent: Failed to respond to query 'query: big': failed to respond to key query: response exceeds limit of 1024 bytes",
        ),
      10_000,
    );
  });

  it("SIGHUP reloads the handlers from the configuration", async () => {
    const hup = join(dir, "hup");
    assert.equal((await ours("event", `-rpc-addr=${rpc(1)}`, "-coalesce=false", "hup")).code, 0);
    await waitFor(() => existsSync(hup), 10_000, "old hup handler");
    writeFileSync(configPath, JSON.stringify({ event_handlers: [`user:hup=echo new >> ${hup}`] }));
    process.kill(a.proc.child.pid!, "SIGHUP");
    await a.proc.waitLine((l) => l.includes("Reloading configuration..."), 5_000);
    await waitFor(
      async () => {
        // The reload is asynchronous; fire until the new handler answers.
        assert.equal((await ours("event", `-rpc-addr=${rpc(1)}`, "-coalesce=false", "hup")).code, 0);
        return readFileSync(hup, "utf8").includes("new");
      },
      15_000,
      "new hup handler",
      300,
    );
    const lines = readFileSync(hup, "utf8").split("\n").filter((l) => l);
    assert.equal(lines[0], "old");
    assert.equal(lines.at(-1), "new");
    assert.ok(lines.indexOf("new") > 0 && lines.slice(lines.indexOf("new")).every((l) => l === "new"), lines.join());
  });

  it("member-join,member-leave runs for both and nothing else", async () => {
    assert.equal((await ours("leave", `-rpc-addr=${rpc(2)}`)).code, 0);
    const text = await waitFor(
      () => {
        const t = existsSync(join(dir, "membership")) ? readFileSync(join(dir, "membership"), "utf8") : "";
        return t.includes("member-leave") ? t : undefined;
      },
      15_000,
      "member-leave handler",
    );
    const kinds = text.split("\n").filter((l) => l.startsWith("member-"));
    assert.ok(kinds.every((k) => k === "member-join" || k === "member-leave"), text);
    assert.equal(kinds.at(-1), "member-leave");
    assert.ok(text.includes("hb\t127.0.0.1\tdb\trole=db\nmember-leave\n"), text);
    assert.ok(stdout().includes("Received event: member-leave"));
  });
});

describe("same handler input as the real agent", { skip: skipReal, timeout: 60_000 }, () => {
  let oursDir: string, realDir: string;
  const tags = ["-tag", "role=api", "-tag", "note=a\tb", "-tag", "dc.name=eu-1"];
  const realCli = (...args: string[]) => runCli([SERF_BIN, ...args]);

  before(async () => {
    const dir = tempDir();
    oursDir = join(dir, "ours");
    realDir = join(dir, "real");
    mkdirSync(oursDir);
    mkdirSync(realDir);
    process.env.EH_TEST_MARK = "inherited";
    const handlers = (d: string) => [
      "-event-handler",
      recorder(d),
      "-event-handler",
      `query:answer=echo "answer from $SERF_SELF_NAME"; cat`,
    ];
    await Promise.all([
      startOurAgent({
        name: "cmp-ours",
        bind: addr(3),
        rpc: rpc(3),
        extra: ["-profile=local", ...tags, ...handlers(oursDir)],
      }),
      startSerfAgent({ name: "cmp-real", bind: addr(4), rpc: rpc(4), extra: [...tags, ...handlers(realDir)] }),
    ]);
    const j = await realCli("join", `-rpc-addr=${rpc(4)}`, addr(3));
    assert.equal(j.code, 0, j.stdout + j.stderr);
  });
  after(killAll);

  it("member-join stdin and environment match", async () => {
    const [o, r] = await waitFor(
      () => {
        const o = joinLines(records(oursDir)), r = joinLines(records(realDir));
        return o.length >= 2 && r.length >= 2 ? [o, r] : undefined;
      },
      15_000,
      "member-join records on both agents",
    );
    assert.deepEqual(o, r);
    assert.deepEqual(o, [
      "cmp-ours\t127.0.0.1\tapi\tdc.name=eu-1,note=a\\tb,role=api",
      "cmp-real\t127.0.0.1\tapi\tdc.name=eu-1,note=a\\tb,role=api",
    ]);
    const env = (d: string) => records(d).find((x) => x.env.SERF_EVENT === "member-join")!.env;
    assert.deepEqual({ ...env(oursDir), SERF_SELF_NAME: "x" }, { ...env(realDir), SERF_SELF_NAME: "x" });
    assert.equal(env(oursDir).SERF_TAG_DC_NAME, "eu-1");
  });

  it("user event and query: same environment and stdin; both answer the query", async () => {
    assert.equal((await realCli("event", `-rpc-addr=${rpc(4)}`, "-coalesce=false", "deploy", "pay load")).code, 0);
    const q = await realCli("query", `-rpc-addr=${rpc(4)}`, "-timeout=1500ms", "answer", "question");
    assert.equal(q.code, 0, q.stdout + q.stderr);
    assert.ok(q.stdout.includes("Response from 'cmp-ours': answer from cmp-ours\nquestion\n"), q.stdout);
    assert.ok(q.stdout.includes("Response from 'cmp-real': answer from cmp-real\nquestion\n"), q.stdout);
    const pick = (d: string) => {
      const recs = records(d);
      return ["user", "query"].map((t) => {
        const r = recs.find((x) => x.env.SERF_EVENT === t);
        return r && { ...r, env: { ...r.env, SERF_SELF_NAME: "x" } };
      });
    };
    const [o, r] = await waitFor(
      () => {
        const o = pick(oursDir), r = pick(realDir);
        return o.every(Boolean) && r.every(Boolean) ? [o, r] : undefined;
      },
      10_000,
      "user and query records on both agents",
    );
    assert.deepEqual(o, r);
    assert.equal(o[0]!.stdin, "pay load\n");
    assert.equal(o[1]!.stdin, "question\n");
  });
});
