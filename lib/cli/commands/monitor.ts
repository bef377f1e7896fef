/**
 * `serf monitor` (`command/monitor.go`): streams the agent's logs and every
 * event (`stream *`) until interrupted or until the agent goes away.
 *
 * @module
 */
import { type Command, commandFlags, runUntilInterrupted, withClient } from "../command.ts";
import { type CliStreamHandle, errorText, rpcFlags } from "../rpc.ts";
import { goSharpV } from "../gofmt.ts";

const HELP = `Usage: serf monitor [options]

  Shows recent log messages of a Serf agent, and attaches to the agent,
  outputting log messages as they occur in real time. The monitor lets you
  listen for log levels that may be filtered out of the Serf agent. For
  example your agent may only be logging at INFO level, but with the monitor
  you can see the DEBUG level logs.

Options:

  -log-level=info          Log level of the agent.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`;

/** The lines `serf monitor` prints for one stream record (`Event Info:` + `\tKey: %#v`). */
export function eventInfoLines(record: Record<string, unknown>): string[] {
  return ["Event Info:", ...Object.entries(record).map(([k, v]) => `\t${k}: ${goSharpV(v)}`)];
}

/** `serf monitor`. */
export const monitorCommand: Command = {
  synopsis: "Stream logs from a Serf agent",
  help: HELP,
  async run(args, ctx) {
    const fs = commandFlags(ctx, HELP);
    const logLevel = fs.string("log-level", "INFO");
    const rpc = rpcFlags(fs, ctx.io.env);
    if (!fs.parse(args).ok) return 1;

    return await withClient(ctx, rpc, async (client) => {
      let closed!: () => void;
      const remoteEnded = new Promise<void>((resolve) => (closed = resolve));
      client.onClose(() => closed());
      const handles: CliStreamHandle[] = [];
      /** Stops the monitor and the stream (Go's deferred `Stop`s), waiting at most a second. */
      const stopAll = async () => {
        const stops = Promise.all(handles.reverse().map((h) => h.stop().catch(() => {})));
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([stops, new Promise((r) => (timer = setTimeout(r, 1000)))]);
        clearTimeout(timer);
      };
      try {
        handles.push(
          await client.stream("*", (rec) => {
            for (const line of eventInfoLines(rec)) ctx.ui.info(line);
          }),
        );
      } catch (e) {
        ctx.ui.error(`Error starting stream: ${errorText(e)}`);
        return 1;
      }
      try {
        handles.push(await client.monitor(logLevel.value, (line) => ctx.ui.info(line)));
      } catch (e) {
        ctx.ui.error(`Error starting monitor: ${errorText(e)}`);
        await stopAll();
        return 1;
      }
      return await runUntilInterrupted(ctx.io.onInterrupt, async (interrupted) => {
        const why = await Promise.race([
          remoteEnded.then(() => "ended" as const),
          interrupted.then(() => "quit" as const),
        ]);
        if (why === "quit") {
          await stopAll();
          return 0;
        }
        ctx.ui.info("");
        ctx.ui.output("Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.");
        return 1;
      });
    });
  },
};
