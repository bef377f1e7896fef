/**
 * Socket error texts worded as Go's `net` package words them, so upper layers
 * can print them the way Serf does (`Failed to start the Serf agent: ...
 * listen udp 127.0.0.1:7946: bind: address already in use`, `Failed to join
 * 127.0.0.1: dial tcp 127.0.0.1:7946: connect: connection refused`).
 *
 * @module
 */

/** An error from a runtime adapter; `code` is the errno name ("EADDRINUSE", ...). */
export class NetError extends Error {
  /** errno name, e.g. "EADDRINUSE", or "ETIMEDOUT" for Go's "i/o timeout". */
  readonly code: string;
  /** Builds an error with Go's `message` text and an errno `code`. */
  constructor(message: string, code: string) {
    super(message);
    this.name = "NetError";
    this.code = code;
  }
}

/** Go's texts for the errno codes a socket may report (`syscall.Errno.Error()`). */
const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ECONNABORTED: "software caused connection abort",
  EPIPE: "broken pipe",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  EMSGSIZE: "message too long",
  EINVAL: "invalid argument",
  EAFNOSUPPORT: "address family not supported by protocol",
};

/** The errno name of a thrown value, if it carries one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Go's text for an errno (e.g. "connection refused"), else the error's own message. */
export function errnoText(err: unknown): string {
  const code = errorCode(err);
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  return err instanceof Error ? err.message : String(err);
}

/** Go's `net.JoinHostPort`: brackets around IPv6 hosts. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's listen error: `listen udp 127.0.0.1:7946: bind: address already in use`. */
export function listenError(proto: "udp" | "tcp", host: string, port: number, err: unknown): NetError {
  const code = errorCode(err) ?? "EINVAL";
  const op = code in ERRNO_TEXT ? "bind: " : "";
  return new NetError(`listen ${proto} ${hostPort(host, port)}: ${op}${errnoText(err)}`, code);
}

/** Go's dial error: `dial tcp 127.0.0.1:7946: connect: connection refused` (or `: i/o timeout`). */
export function dialErrorText(host: string, port: number, err: unknown): string {
  const code = errorCode(err);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `dial tcp: lookup ${host}: no such host`;
  if (code === "ETIMEDOUT") return `dial tcp ${hostPort(host, port)}: i/o timeout`;
  const op = code && code in ERRNO_TEXT ? "connect: " : "";
  return `dial tcp ${hostPort(host, port)}: ${op}${errnoText(err)}`;
}

/** Go's error on an established stream: `read tcp 127.0.0.1:5000->127.0.0.1:7946: read: connection reset by peer`. */
export function streamErrorText(local: string, remote: string, err: unknown): string {
  const syscall = (err as { syscall?: unknown } | null)?.syscall;
  const op = syscall === "write" || errorCode(err) === "EPIPE" ? "write" : "read";
  return `${op} tcp ${local}->${remote}: ${op}: ${errnoText(err)}`;
}
