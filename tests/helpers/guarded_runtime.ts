/**
 * A {@link Runtime} wrapper that only lets traffic reach allowed
 * destinations: UDP to others is dropped and TCP connects fail at once.
 * Fuzz and chaos tests use it so forged member addresses never make a node
 * talk to anything but the test's own sockets.
 *
 * @module
 */
import type { Runtime, StreamHandlers, TcpConn } from "../../lib/runtime/types.ts";

/** A guarded runtime and its counters. */
export interface GuardedRuntime extends Runtime {
  /** Datagrams and connects refused so far. */
  readonly blocked: { udp: number; tcp: number };
}

/** Wraps `inner`; `allow(host, port)` decides which destinations are reachable. */
export function guardedRuntime(inner: Runtime, allow: (host: string, port: number) => boolean): GuardedRuntime {
  const blocked = { udp: 0, tcp: 0 };
  return {
    name: inner.name,
    blocked,
    now: () => inner.now(),
    setTimer: (ms, fn) => inner.setTimer(ms, fn),
    random: () => inner.random(),
    async bindUdp(host, port, onMessage) {
      const s = await inner.bindUdp(host, port, onMessage);
      return {
        get port() {
          return s.port;
        },
        send(data, h, p) {
          if (allow(h, p)) s.send(data, h, p);
          else blocked.udp++;
        },
        close: () => s.close(),
      };
    },
    listenTcp: (host, port, onConnection) => inner.listenTcp(host, port, onConnection),
    connectTcp(host: string, port: number, handlers: StreamHandlers): TcpConn {
      if (allow(host, port)) return inner.connectTcp(host, port, handlers);
      blocked.tcp++;
      let closed = false;
      const conn: TcpConn = {
        remoteHost: host,
        remotePort: port,
        setHandlers: () => {},
        write: () => {},
        end: () => conn.destroy(),
        destroy: () => {
          if (closed) return;
          closed = true;
        },
      };
      inner.setTimer(0, () => {
        if (closed) return;
        closed = true;
        handlers.onClose(`dial tcp ${host}:${port}: blocked by test guard`);
      });
      return conn;
    },
  };
}
