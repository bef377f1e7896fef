/**
 * `serf query` (`command/query.go`): starts a query and streams acks and
 * responses (text), or collects them into one JSON document.
 *
 * @module
 */
import { type Command, commandFlags, runUntilInterrupted, usageError, withClient } from "../command.ts";
import { errorText, type QueryRecord, rpcFlags } from "../rpc.ts";
import { goTrimSpace, JsonBytes, JsonMap, marshalIndent } from "../output.ts";
import { unmarshalTags } from "../../agent/config.ts";
import type { Ui } from "../ui.ts";

const HELP = `Usage: serf query [options] name payload

  Dispatches a query to the Serf cluster.

Options:

  -format                   If provided, output is returned in the specified
                            format. Valid formats are 'json', and 'text' (default)

  -node=NAME                This flag can be provided multiple times to filter
                            responses to only named nodes.

  -tag key=regexp           This flag can be provided multiple times to filter
                            responses to only nodes matching the tags.

  -timeout="15s"            Providing a timeout overrides the default timeout.

  -no-ack                   Setting this prevents nodes from sending an acknowledgement
                            of the query.

  -relay-factor             If provided, query responses will be relayed through this
                            number of extra nodes for redundancy.

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.

  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** Receives a query's results (Go's `queryRespFormat`). */
interface QueryOutput {
  started(): void;
  ack(from: string): void;
  response(from: string, payload: Uint8Array): void;
  finished(): void;
}

function textOutput(ui: Ui, name: string, noAck: boolean): QueryOutput {
  let acks = 0, responses = 0;
  const decoder = new TextDecoder();
  return {
    started: () => ui.output(`Query '${name}' dispatched`),
    ack(from) {
      acks++;
      ui.info(`Ack from '${from}'`);
    },
    response(from, payload) {
      responses++;
      const shown = payload.length > 0 && payload[payload.length - 1] === 0x0a ? payload.subarray(0, -1) : payload;
      ui.info(`Response from '${from}': ${decoder.decode(shown)}`);
    },
    finished() {
      if (!noAck) ui.output(`Total Acks: ${acks}`);
      ui.output(`Total Responses: ${responses}`);
    },
  };
}

function jsonOutput(ui: Ui): QueryOutput {
  const acks: string[] = [];
  const responses: Record<string, JsonBytes> = {};
  return {
    started() {},
    ack: (from) => void acks.push(from),
    response(from, payload) {
      responses[from] = new JsonBytes(payload);
    },
    finished() {
      const doc = { Acks: acks.length > 0 ? acks : null, Responses: new JsonMap(responses) };
      ui.output(goTrimSpace(marshalIndent(doc)));
    },
  };
}

/** `serf query`. */
export const queryCommand: Command = {
  synopsis: "Send a query to the Serf cluster",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const nodes = fs.stringSlice("node");
    const tagPairs = fs.stringSlice("tag");
    const timeout = fs.duration("timeout", 0);
    const noAck = fs.bool("no-ack", false);
    const format = fs.string("format", "text");
    const relayFactor = fs.int("relay-factor", 0);
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    let filterTags: Record<string, string>;
    try {
      filterTags = unmarshalTags(tagPairs.value);
    } catch (e) {
      ctx.ui.error(`Error: ${errorText(e)}`);
      return 1;
    }
    const rest = fs.args();
    if (rest.length < 1) return usageError(ctx, "A query name must be specified.", HELP);
    if (rest.length > 2) {
      return usageError(ctx, "Too many command line arguments. Only a name and payload must be specified.", HELP);
    }
    if (relayFactor.value > 255 || relayFactor.value < 0) {
      ctx.ui.error("Relay factor must be between 0 and 255");
      return 1;
    }
    const name = rest[0];
    const payload = rest.length === 2 ? new TextEncoder().encode(rest[1]) : null;

    return await withClient(ctx, rpc, async (client) => {
      let out: QueryOutput;
      if (format.value === "text") out = textOutput(ctx.ui, name, noAck.value);
      else if (format.value === "json") out = jsonOutput(ctx.ui);
      else {
        ctx.ui.error(`Invalid format: ${format.value}`);
        return 1;
      }
      const params = {
        name,
        payload,
        filterNodes: nodes.value,
        filterTags,
        requestAck: !noAck.value,
        relayFactor: relayFactor.value,
        timeoutMs: timeout.value,
      };
      const onRecord = (r: QueryRecord) => {
        if (r.type === "ack" && r.from !== "") out.ack(r.from);
        else if (r.type === "response" && r.from !== "") out.response(r.from, r.payload ?? new Uint8Array(0));
      };
      let started = false;
      const start = () => {
        if (!started) out.started();
        started = true;
      };
      const done = client.query(params, (r) => {
        start();
        onRecord(r);
      }).then(() => "done" as const, (e: unknown) => e);
      return await runUntilInterrupted(ctx.io.onInterrupt, async (interrupted) => {
        const result = await Promise.race([done, interrupted.then(() => "interrupted" as const)]);
        if (result === "interrupted") return 1;
        if (result !== "done" && !started) {
          // The agent refused the query (or the connection failed before it started).
          ctx.ui.error(`Error sending query: ${errorText(result)}`);
          return 1;
        }
        // Done, or the connection dropped mid-stream (Go then also just prints the totals).
        start();
        out.finished();
        return 0;
      });
    });
  },
};
