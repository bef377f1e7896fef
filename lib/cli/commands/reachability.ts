/**
 * `serf reachability` (`command/reachability.go`): pings every member with
 * the internal `_serf_ping` query and compares acks with live members.
 *
 * @module
 */
import { type Command, commandFlags, runUntilInterrupted, withClient } from "../command.ts";
import { errorText, rpcFlags, type RpcMember } from "../rpc.ts";
import { goFixed } from "../gofmt.ts";

const HELP = `Usage: serf reachability [options]

  Tests the network reachability of this node

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.
  -verbose                  Verbose mode`;

const TOO_MANY_ACKS = "This could mean Serf is detecting false-failures due to a misconfiguration or network issue.";
const TOO_FEW_ACKS = "This could mean Serf gossip packets are being lost due to a misconfiguration or network issue.";
const DUPLICATE_RESPONSES = "Duplicate responses means there is a misconfiguration. Verify that node names are unique.";
const TROUBLESHOOTING = `
Troubleshooting tips:
* Ensure that the bind addr:port is accessible by all other nodes
* If an advertise address is set, ensure it routes to the bind address
* Check that no nodes are behind a NAT
* If nodes are behind firewalls or iptables, check that Serf traffic is permitted (UDP and TCP)
* Verify networking equipment is functional`;

/** `serf reachability`. */
export const reachabilityCommand: Command = {
  synopsis: "Test network reachability",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const verbose = fs.bool("verbose", false);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    const ui = ctx.ui;
    return await withClient(ctx, rpc, async (client) => {
      let members: RpcMember[];
      try {
        members = await client.members();
      } catch (e) {
        ui.error(`Error getting members: ${errorText(e)}`);
        return 1;
      }
      const live = new Set(members.filter((m) => m.status === "alive").map((m) => m.name));
      ui.output(`Total members: ${members.length}, live members: ${live.size}`);

      const start = performance.now();
      let last = start;
      let numAcks = 0;
      let dups = false;
      const acksFrom = new Set<string>();
      const onAck = (from: string) => {
        if (verbose.value) ui.output(`\tAck from '${from}'`);
        numAcks++;
        if (acksFrom.has(from)) {
          dups = true;
          ui.output(`Duplicate response from '${from}'`);
        }
        acksFrom.add(from);
        last = performance.now();
      };
      let started = false;
      const params = {
        name: "_serf_ping",
        payload: null,
        filterNodes: [],
        filterTags: {},
        requestAck: true,
        relayFactor: 0,
        timeoutMs: 0,
      };
      const startTest = () => {
        if (!started) ui.output("Starting reachability test...");
        started = true;
      };
      const done = client.query(params, (r) => {
        startTest();
        if (r.type === "ack" && r.from !== "") onAck(r.from);
      }).then(() => "done" as const, (e: unknown) => e);
      const result = await runUntilInterrupted(
        ctx.io.onInterrupt,
        (interrupted) => Promise.race([done, interrupted.then(() => "interrupted" as const)]),
      );
      if (result === "interrupted") {
        ui.error("Test interrupted");
        return 1;
      }
      if (result !== "done" && !started) {
        ui.error(`Error sending query: ${errorText(result)}`);
        return 1;
      }
      startTest();
      if (verbose.value) {
        const total = (performance.now() - start) / 1000;
        const toLast = (last - start) / 1000;
        ui.output(`Query time: ${goFixed(total, 2)} sec, time to last response: ${goFixed(toLast, 2)} sec`);
      }
      let exit = 0;
      if (dups) {
        ui.output(DUPLICATE_RESPONSES);
        exit = 1;
      }
      const n = live.size;
      if (numAcks === n) {
        ui.output("Successfully contacted all live nodes");
      } else if (numAcks > n) {
        ui.output("Received more acks than live nodes! Acks from non-live nodes:");
        for (const m of acksFrom) if (!live.has(m)) ui.output(`\t${m}`);
        ui.output(TOO_MANY_ACKS);
        ui.output(TROUBLESHOOTING);
        return 1;
      } else {
        ui.output("Received less acks than live nodes! Missing acks from:");
        for (const m of live) if (!acksFrom.has(m)) ui.output(`\t${m}`);
        ui.output(TOO_FEW_ACKS);
        ui.output(TROUBLESHOOTING);
        return 1;
      }
      return exit;
    });
  },
};
