/**
 * A bare memberlist node on the real runtime, for tests until the full agent
 * exists. Prints one JSON object per line on stdout:
 *
 * - `{"event":"ready","name","addr","port"}` once bound and started;
 * - `{"event":"join"|"leave"|"update","node","addr","state","tags"}` per memberlist event;
 * - `{"event":"joined","joined","errors"}` after `--join`;
 * - `{"event":"members","members":[...]}` when `members` is written to stdin;
 * - `{"event":"left"}` / `{"event":"shutdown"}` on SIGINT/SIGTERM (graceful leave, exit 0).
 *
 * Stdin commands (one per line): `members`, `join <addr>...`, `leave`.
 * Node meta is Serf's tag encoding (0xFF + msgpack map) and Vsn is Serf's
 * [1,5,2,2,5,5], so real Serf agents list the node with its tags.
 *
 * Usage: `member-node.ts --name a --bind 127.0.0.1:22001 [--join 127.0.0.1:22002]...
 *   [--tag role=x]... [--meta-tags role=x,dc=y] [--profile lan|local|wan] [--log-level DEBUG]`
 *
 * @module
 */
import process from "node:process";
import { decode, encode } from "../lib/codec/msgpack.ts";
import type { LogLevel } from "../lib/core/log.ts";
import { LOG_LEVELS } from "../lib/core/log.ts";
import { MemberlistHost } from "../lib/host/memberlist_host.ts";
import { bindTransport } from "../lib/host/transport.ts";
import { bareMemberConfig } from "../lib/memberlist/config.ts";
import { Memberlist } from "../lib/memberlist/memberlist.ts";
import type { NodeInfo } from "../lib/memberlist/types.ts";
import { ipToString } from "../lib/memberlist/util.ts";
import { currentRuntime } from "../lib/runtime/detect.ts";

interface Args {
  name: string;
  bindIp: string;
  bindPort: number;
  join: string[];
  tags: Record<string, string>;
  profile: "lan" | "local" | "wan";
  logLevel: LogLevel;
}

const STATES = ["alive", "suspect", "dead", "left"];

function parseArgs(argv: string[]): Args {
  const a: Args = { name: "", bindIp: "127.0.0.1", bindPort: 0, join: [], tags: {}, profile: "lan", logLevel: "WARN" };
  const addTags = (s: string) => {
    for (const kv of s.split(",").filter(Boolean)) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new Error(`bad tag ${kv} (want key=value)`);
      a.tags[kv.slice(0, i)] = kv.slice(i + 1);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let inline: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      inline = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const value = () => inline ?? argv[++i] ?? "";
    switch (flag) {
      case "--name":
        a.name = value();
        break;
      case "--bind": {
        const v = value();
        const c = v.lastIndexOf(":");
        a.bindIp = c > 0 ? v.slice(0, c).replace(/^\[|\]$/g, "") : v;
        a.bindPort = c > 0 ? Number(v.slice(c + 1)) : 0;
        break;
      }
      case "--join":
        a.join.push(...value().split(",").filter(Boolean));
        break;
      case "--tag":
      case "--meta-tags":
        addTags(value());
        break;
      case "--profile": {
        const p = value();
        if (p !== "lan" && p !== "local" && p !== "wan") throw new Error(`unknown profile ${p}`);
        a.profile = p;
        break;
      }
      case "--log-level": {
        const l = value().toUpperCase() as LogLevel;
        if (!LOG_LEVELS.includes(l)) throw new Error(`unknown log level ${l}`);
        a.logLevel = l;
        break;
      }
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.name) throw new Error("--name is required");
  return a;
}

/** Serf's tag encoding (protocol ≥ 3): 0xFF then a msgpack map[string]string (gossip dialect). */
function encodeTags(tags: Record<string, string>): Uint8Array {
  const body = encode(tags, "gossip");
  const out = new Uint8Array(body.length + 1);
  out[0] = 0xff;
  out.set(body, 1);
  return out;
}

/** Serf's `decodeTags`: no magic byte means the whole meta is the `role` tag. */
function decodeTags(meta: Uint8Array): Record<string, string> {
  const text = new TextDecoder();
  if (meta.length === 0 || meta[0] !== 0xff) return { role: text.decode(meta) };
  try {
    const m = decode(meta, "gossip", 1) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) out[k] = v instanceof Uint8Array ? text.decode(v) : String(v);
    return out;
  } catch {
    return {};
  }
}

function describeNode(n: NodeInfo): Record<string, unknown> {
  return {
    node: n.name,
    addr: `${ipToString(n.addr)}:${n.port}`,
    state: STATES[n.state] ?? String(n.state),
    tags: decodeTags(n.meta),
    vsn: n.vsn,
  };
}

function print(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const minLevel = LOG_LEVELS.indexOf(args.logLevel);
  const logger = (level: LogLevel, message: string) => {
    if (LOG_LEVELS.indexOf(level) >= minLevel) process.stderr.write(`[${level}] ${message}\n`);
  };
  const runtime = currentRuntime({ logger });
  const transport = await bindTransport(runtime, args.bindIp, args.bindPort);
  const config = bareMemberConfig({
    profile: args.profile,
    name: args.name,
    random: () => runtime.random(),
    logger,
    ip: args.bindIp,
    port: transport.port,
    meta: encodeTags(args.tags),
  });
  config.events = {
    notifyJoin: (n) => print({ event: "join", ...describeNode(n) }),
    notifyLeave: (n) => print({ event: "leave", ...describeNode(n) }),
    notifyUpdate: (n) => print({ event: "update", ...describeNode(n) }),
  };
  const core = new Memberlist(config, runtime.now());
  const host = new MemberlistHost(runtime, transport, core, { logger });
  host.start();
  print({ event: "ready", name: args.name, addr: args.bindIp, port: transport.port });

  const join = async (addrs: string[]) => {
    const r = await host.join(addrs);
    print({ event: "joined", joined: r.joined, errors: r.errors });
  };
  if (args.join.length) await join(args.join);

  let stopping = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await host.leave(5_000);
      print({ event: "left" });
    } catch (e) {
      print({ event: "left", error: e instanceof Error ? e.message : String(e) });
    }
    await host.shutdown();
    print({ event: "shutdown" });
    finish(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());

  let pending = "";
  process.stdin.on("data", (chunk: Uint8Array | string) => {
    pending += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const [cmd, ...rest] = line.trim().split(/\s+/);
      if (cmd === "members") print({ event: "members", members: core.allNodes().map(describeNode) });
      else if (cmd === "join") void join(rest);
      else if (cmd === "leave") void stop();
      else if (cmd) print({ event: "error", error: `unknown command ${cmd}` });
    }
  });
  process.stdin.on("error", () => {});
  return await finished;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`member-node: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
