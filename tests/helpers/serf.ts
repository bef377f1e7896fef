/**
 * The real Serf agent (`/usr/bin/serf`) as an interop oracle: availability
 * policy, agent processes and RPC CLI calls.
 *
 * Policy: tests that need the binary fail when it is missing and
 * `CI=true`; otherwise they skip with a reason.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { type LineProcess, spawnLines } from "./process.ts";

/** Path of the real agent (override with SERF_BIN). */
export const SERF_BIN: string = process.env.SERF_BIN ?? "/usr/bin/serf";

/** Whether the real agent is installed. */
export function serfAvailable(): boolean {
  return existsSync(SERF_BIN);
}

/**
 * The skip reason for tests needing the real agent: `false` when it is
 * available; a string when it is missing outside CI. Throws when it is missing
 * and CI=true (so the test run fails rather than skips).
 */
export function serfSkip(): string | false {
  if (serfAvailable()) return false;
  if (process.env.CI === "true") throw new Error(`${SERF_BIN} is required when CI=true`);
  return `${SERF_BIN} not installed`;
}

/** Options for {@link startSerfAgent}. */
export interface SerfAgentOptions {
  name: string;
  bind: string;
  rpc: string;
  profile?: "lan" | "local" | "wan";
  extra?: string[];
}

/** A running real agent. */
export interface SerfAgent {
  readonly proc: LineProcess;
  readonly rpc: string;
  /** Kills it (SIGKILL by default). */
  stop(signal?: "SIGKILL" | "SIGINT" | "SIGTERM"): Promise<number | string>;
}

/** Starts `serf agent` and waits until its RPC answers. */
export async function startSerfAgent(o: SerfAgentOptions): Promise<SerfAgent> {
  const argv = [
    SERF_BIN,
    "agent",
    `-node=${o.name}`,
    `-bind=${o.bind}`,
    `-rpc-addr=${o.rpc}`,
    `-profile=${o.profile ?? "local"}`,
    "-log-level=debug",
    ...(o.extra ?? []),
  ];
  const proc = spawnLines(argv);
  await proc.waitLine((l) => l.includes("Serf agent running"), 10_000, "serf agent start");
  return { proc, rpc: o.rpc, stop: (signal = "SIGKILL") => proc.kill(signal) };
}

/** Runs the serf CLI; resolves with stdout, rejects with stderr/stdout on failure. */
export function serfCli(args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SERF_BIN, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`serf ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(String(stdout));
    });
  });
}

/** One entry of `serf members -format=json`. */
export interface SerfMember {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: string;
  protocol: { min: number; max: number; version: number };
}

/** `serf members -format=json` against `rpc`. */
export async function serfMembers(rpc: string): Promise<SerfMember[]> {
  const out = await serfCli(["members", `-rpc-addr=${rpc}`, "-format=json"]);
  return (JSON.parse(out) as { members: SerfMember[] }).members;
}

/** `serf join` from the agent at `rpc` to `addrs`. */
export function serfJoin(rpc: string, ...addrs: string[]): Promise<string> {
  return serfCli(["join", `-rpc-addr=${rpc}`, ...addrs]);
}
