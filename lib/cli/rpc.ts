/**
 * How CLI commands reach the agent: the `-rpc-addr`/`-rpc-auth` flags
 * (`command/rpc.go`, defaults from `SERF_RPC_ADDR`/`SERF_RPC_AUTH`) and the
 * connector that opens an RPC client. Commands see the client through
 * {@link CliRpcClient}, the part of `lib/rpc/client.ts`'s `RpcClient` they
 * use, so tests can hand them a fake.
 *
 * @module
 */
import type { FlagRef, FlagSet } from "./flags.ts";
import type { Coordinate, KeyResponse, QueryParams, QueryRecord, RpcMember } from "../rpc/types.ts";

export type { Coordinate, KeyResponse, QueryParams, QueryRecord, RpcMember };

/** A running `stream` or `monitor` registration. */
export interface CliStreamHandle {
  /** Sends `stop` for it. */
  stop(): Promise<void>;
}

/** The RPC client operations the CLI uses (a structural subset of `RpcClient`). */
export interface CliRpcClient {
  membersFiltered(tags: Record<string, string>, status: string, name: string): Promise<RpcMember[]>;
  members(): Promise<RpcMember[]>;
  join(addrs: string[], replay: boolean): Promise<number>;
  leave(): Promise<void>;
  forceLeave(node: string, prune?: boolean): Promise<void>;
  updateTags(tags: Record<string, string>, deleteTags: string[]): Promise<void>;
  stats(): Promise<Record<string, Record<string, string>>>;
  getCoordinate(node: string): Promise<Coordinate | null>;
  userEvent(name: string, payload: Uint8Array | null, coalesce: boolean): Promise<void>;
  query(params: QueryParams, onRecord: (r: QueryRecord) => void): Promise<void>;
  monitor(logLevel: string, onLog: (line: string) => void): Promise<CliStreamHandle>;
  stream(filter: string, onEvent: (record: Record<string, unknown>) => void): Promise<CliStreamHandle>;
  installKey(key: string): Promise<KeyResponse>;
  useKey(key: string): Promise<KeyResponse>;
  removeKey(key: string): Promise<KeyResponse>;
  listKeys(): Promise<KeyResponse>;
  onClose(cb: () => void): void;
  close(): void;
}

/** Opens a client to the agent at `addr` (handshake done, authenticated when `auth` is non-empty). */
export type Connector = (addr: string, auth: string) => Promise<CliRpcClient>;

/** The RPC client library's connector (`RpcClient.connect`). */
export const rpcConnect: Connector = async (addr, auth) => {
  const { RpcClient } = await import("../rpc/client.ts");
  return await RpcClient.connect(addr, auth === "" ? {} : { authKey: auth });
};

/** The two flags every RPC command takes. */
export interface RpcFlags {
  addr: FlagRef<string>;
  auth: FlagRef<string>;
}

/** Defines `-rpc-addr` and `-rpc-auth` with Serf's environment defaults. */
export function rpcFlags(fs: FlagSet, env: Record<string, string | undefined>): RpcFlags {
  const addr = fs.string("rpc-addr", env.SERF_RPC_ADDR || "127.0.0.1:7373");
  const auth = fs.string("rpc-auth", env.SERF_RPC_AUTH ?? "");
  return { addr, auth };
}

/** The text of an error as Go's `%s` would print it. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
