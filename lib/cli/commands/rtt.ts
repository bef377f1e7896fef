/**
 * `serf rtt` (`command/rtt.go`): estimates the round trip time between two
 * nodes from their Vivaldi coordinates.
 *
 * @module
 */
import { type Command, commandFlags, usageError, withClient } from "../command.ts";
import { type Coordinate, errorText, rpcFlags } from "../rpc.ts";
import { goFixed, goQuote } from "../gofmt.ts";

const HELP = `Usage: serf rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using Serf's network
  coordinate model of the cluster.

  At least one node name is required. If the second node name isn't given, it
  is set to the agent's node name. Note that these are node names as known to
  Serf as "serf members" would show, not IP addresses.

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.

  -rpc-auth=""              RPC auth token of the Serf agent.`;

/**
 * `Coordinate.DistanceTo` in nanoseconds (Go's `time.Duration`, truncated):
 * Euclidean distance + heights, plus adjustments when that stays positive.
 */
export function coordinateDistanceNs(a: Coordinate, b: Coordinate): number {
  if (a.vec.length !== b.vec.length) throw new Error("coordinate dimensionality does not match");
  const mag = Math.sqrt(a.vec.reduce((sum, x, i) => sum + (x - b.vec[i]) ** 2, 0));
  let dist = mag + a.height + b.height;
  const adjusted = dist + a.adjustment + b.adjustment;
  if (adjusted > 0) dist = adjusted;
  return Math.trunc(dist * 1e9);
}

/** `time.Duration(ns).Seconds() * 1000` formatted with `%.3f ms`. */
export function rttText(ns: number): string {
  const secs = Math.trunc(ns / 1e9) + (ns % 1e9) / 1e9;
  return `${goFixed(secs * 1000, 3)} ms`;
}

/** `serf rtt`. */
export const rttCommand: Command = {
  synopsis: "Estimates network round trip time between nodes",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    return await withClient(ctx, rpc, async (client) => {
      const nodes = [...fs.args()];
      if (nodes.length === 1) {
        let stats: Record<string, Record<string, string>>;
        try {
          stats = await client.stats();
        } catch (e) {
          ctx.ui.error(`Error querying agent: ${errorText(e)}`);
          return 1;
        }
        nodes.push(stats.agent?.name ?? "");
      } else if (nodes.length !== 2) {
        return usageError(ctx, "One or two node names must be specified", HELP);
      }
      const coords: Coordinate[] = [];
      for (const node of nodes) {
        let c: Coordinate | null;
        try {
          c = await client.getCoordinate(node);
        } catch (e) {
          ctx.ui.error(`Error getting coordinates: ${errorText(e)}`);
          return 1;
        }
        if (c === null) {
          ctx.ui.error(`Could not find a coordinate for node ${goQuote(node)}`);
          return 1;
        }
        coords.push(c);
      }
      const dist = rttText(coordinateDistanceNs(coords[0], coords[1]));
      ctx.ui.output(`Estimated ${nodes[0]} <-> ${nodes[1]} rtt: ${dist}`);
      return 0;
    });
  },
};
