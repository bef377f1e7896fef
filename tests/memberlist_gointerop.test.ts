/**
 * Interop with the real memberlist 0.2.2 Go library (the sources
 * /usr/bin/serf is built from) without any network: a tiny Go program runs a
 * memberlist node whose Transport is JSON lines on stdin/stdout (packets,
 * stream opens, stream bytes, closes), and this test wires our cores to it
 * in real time. Covers joins both ways, gossip convergence, user messages,
 * meta updates, leave, TCP fallback pings both ways, and a suspicion
 * refuted through the buddy system, with and without encryption.
 *
 * Needs the Go toolchain and the Debian memberlist sources; skipped (with
 * the reason) when they are missing.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Memberlist } from "../lib/memberlist/memberlist.ts";
import { defaultLocalConfig } from "../lib/memberlist/config.ts";
import { Keyring } from "../lib/security/keyring.ts";
import type { Output } from "../lib/memberlist/types.ts";

const GOPATH = "/usr/share/gocode";
const KEY = "000102030405060708090a0b0c0d0e0f";
const GO_ADDR = "10.0.0.1:7946";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from((s.match(/../g) ?? []).map((x) => parseInt(x, 16)));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// deno-lint-ignore no-explicit-any
type Line = Record<string, any>;

interface TsNode {
  name: string;
  addr: string;
  core: Memberlist;
  logs: string[];
  events: string[];
  meta: string;
  up: boolean;
}

/** One Go memberlist node plus any number of our cores, wired in real time. */
class Bridge {
  go: ChildProcess;
  goLog: string[] = [];
  goLines: Line[] = [];
  nodes = new Map<string, TsNode>();
  /** Drop UDP between ts1 and the Go node. */
  dropUdp = false;
  /** Drop everything to and from ts1. */
  dropAll = false;
  #streams = new Map<string, { n: TsNode; id: number }>();
  #keys = new Map<string, string>();
  #waiters: [(m: Line) => boolean, (m: Line) => void][] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #count = 0;
  #closed = false;

  constructor(binary: string, readonly key?: string) {
    this.go = spawn(binary, key ? [GO_ADDR, "go1", key] : [GO_ADDR, "go1"], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: this.go.stderr! }).on("line", (l) => this.goLog.push(l));
    createInterface({ input: this.go.stdout! }).on("line", (l) => this.#fromGo(JSON.parse(l)));
  }

  send(m: Line): void {
    if (!this.#closed) this.go.stdin!.write(JSON.stringify(m) + "\n");
  }

  expect(pred: (m: Line) => boolean, ms = 10_000): Promise<Line | undefined> {
    const seen = this.goLines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), ms);
      this.#waiters.push([pred, (m) => (clearTimeout(t), resolve(m))]);
    });
  }

  add(name: string, ip: string): TsNode {
    const logs: string[] = [], events: string[] = [];
    const n = { name, addr: `${ip}:7946`, logs, events, meta: `ts-${name}`, up: true } as TsNode;
    const c = defaultLocalConfig(name, Math.random, (l, m) => logs.push(`${l} ${m}`));
    c.bindAddr = c.advertiseAddr = ip;
    c.delegateProtocolMin = 2;
    c.delegateProtocolMax = 5;
    c.delegateProtocolVersion = 5;
    if (this.key) c.keyring = new Keyring([unhex(this.key)]);
    c.events = {
      notifyJoin: (x) => events.push(`join ${x.name}`),
      notifyLeave: (x) => events.push(`leave ${x.name} ${x.state}`),
      notifyUpdate: (x) => events.push(`update ${x.name} ${text(x.meta)}`),
    };
    c.delegate = {
      nodeMeta: () => new TextEncoder().encode(n.meta),
      notifyMsg: (m) => events.push(`user ${hex(m)}`),
      getBroadcasts: () => [],
      localState: (join) => new TextEncoder().encode(`ts-state-${join}`),
      mergeRemoteState: (b, join) => events.push(`merge ${text(b)} ${join}`),
    };
    n.core = new Memberlist(c, now());
    this.nodes.set(n.addr, n);
    n.core.start(now());
    this.flush(n);
    return n;
  }

  flush(n: TsNode): void {
    for (const o of n.core.drain()) this.#perform(n, o);
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const n of this.nodes.values()) n.core.shutdown();
    this.go.kill();
  }

  #cut(n: TsNode, packetToGo: boolean): boolean {
    return !n.up || (this.dropAll && n.name === "ts1") || (packetToGo && this.dropUdp && n.name === "ts1");
  }

  #perform(n: TsNode, o: Output): void {
    const dst = o.kind === "packet" || o.kind === "connect" ? `${o.to.ip}:${o.to.port}` : "";
    if (this.#cut(n, o.kind === "packet" && dst === GO_ADDR)) return;
    const from = { ip: n.addr.split(":")[0], port: 7946 };
    switch (o.kind) {
      case "packet": {
        if (dst === GO_ADDR) return this.send({ t: "pkt", from: n.addr, d: hex(o.data) });
        const t = this.nodes.get(dst);
        if (t) {
          setTimeout(() => {
            if (!t.up || this.#closed) return;
            t.core.handlePacket(o.data, from, now());
            this.flush(t);
          }, 1);
        }
        return;
      }
      case "connect": {
        if (dst !== GO_ADDR) {
          setTimeout(() => (n.core.streamClosed(o.stream, now(), "connect: connection refused"), this.flush(n)), 1);
          return;
        }
        const id = `t${++this.#count}`;
        this.#streams.set(id, { n, id: o.stream });
        this.#keys.set(`${n.name}#${o.stream}`, id);
        this.send({ t: "open", id, from: n.addr });
        setTimeout(() => (n.core.streamConnected(o.stream, now()), this.flush(n)), 1);
        return;
      }
      case "write": {
        const id = this.#keys.get(`${n.name}#${o.stream}`);
        if (id) this.send({ t: "data", id, d: hex(o.data) });
        return;
      }
      case "close": {
        const id = this.#keys.get(`${n.name}#${o.stream}`);
        this.#keys.delete(`${n.name}#${o.stream}`);
        if (id) this.send({ t: "close", id });
      }
    }
  }

  #fromGo(m: Line): void {
    this.goLines.push(m);
    for (const w of [...this.#waiters]) {
      if (w[0](m)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w[1](m);
      }
    }
    if (this.#closed) return;
    const target = m.to ? this.nodes.get(m.to) : this.#streams.get(m.id)?.n;
    if (!target || !target.up) return;
    if (this.dropAll && target.name === "ts1") return;
    if (m.t === "pkt" && this.dropUdp && target.name === "ts1") return;
    if (m.t === "pkt") target.core.handlePacket(unhex(m.d), { ip: "10.0.0.1", port: 7946 }, now());
    else if (m.t === "open") {
      const id = target.core.streamAccepted({ ip: "10.0.0.1", port: 50000 }, now());
      this.#streams.set(m.id, { n: target, id });
      this.#keys.set(`${target.name}#${id}`, m.id);
    } else if (m.t === "data") target.core.streamData(this.#streams.get(m.id)!.id, unhex(m.d), now());
    else if (m.t === "close") {
      const s = this.#streams.get(m.id)!;
      this.#streams.delete(m.id);
      target.core.streamClosed(s.id, now());
    } else return;
    this.flush(target);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    let d = Infinity;
    for (const n of this.nodes.values()) if (n.up) d = Math.min(d, n.core.nextDeadline() ?? Infinity);
    if (d === Infinity) return;
    this.#timer = setTimeout(() => {
      for (const n of this.nodes.values()) {
        if (!n.up) continue;
        n.core.tick(now());
        for (const o of n.core.drain()) this.#perform(n, o);
      }
      this.#arm();
    }, Math.max(0, d - now()));
  }
}

/** Builds the Go side once; the reason to skip when that is impossible here. */
function buildBridge(): { dir: string; binary: string; skip: string | false } {
  const dir = mkdtempSync(join(tmpdir(), "ml-gointerop-"));
  const binary = join(dir, "bridge");
  if (spawnSync("go", ["version"]).status !== 0) return { dir, binary, skip: "the Go toolchain is not installed" };
  if (!existsSync(`${GOPATH}/src/github.com/hashicorp/memberlist/state.go`)) {
    return { dir, binary, skip: `the memberlist 0.2.2 sources are not in ${GOPATH}` };
  }
  writeFileSync(join(dir, "main.go"), goSource());
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    GOPATH,
    GO111MODULE: "off",
    GOFLAGS: "",
  };
  if (!env.GOCACHE && !env.HOME) env.GOCACHE = join(tmpdir(), "serf-ts-gocache");
  const r = spawnSync("go", ["build", "-o", binary, join(dir, "main.go")], { env, encoding: "utf8" });
  return { dir, binary, skip: r.status === 0 ? false : `go build failed: ${r.stderr || r.error}` };
}

const bridges: Bridge[] = [];
const built = buildBridge();
const { binary, skip } = built;

describe("interop with Go memberlist 0.2.2 over a pipe transport", { skip }, () => {
  after(() => {
    for (const b of bridges) b.close();
    rmSync(built.dir, { recursive: true, force: true });
  });

  it("joins both ways, converges, exchanges user messages, meta updates and a leave", { timeout: 60_000 }, async () => {
    const b = new Bridge(binary);
    bridges.push(b);
    const ts1 = b.add("ts1", "10.0.0.2"), ts2 = b.add("ts2", "10.0.0.3");
    let joined: [number, string[]] | undefined;
    ts1.core.join([{ ip: "10.0.0.1", port: 7946 }], now(), (n, e) => (joined = [n, e]));
    b.flush(ts1);
    for (let i = 0; i < 50 && !joined; i++) await sleep(50);
    assert.deepEqual(joined, [1, []], "ts1 joined go1 (our push/pull)");
    // Only now does Go join ts2, so its push/pull carries ts1. Started together (as before), go1
    // could push its state to ts2 before it had ts1, and spend its few transmissions of ts1's alive
    // on ts1, the only peer it knew: ts2 then waits for a periodic push/pull (seen under load).
    b.send({ t: "join", arg: "10.0.0.3:7946" });
    assert.equal((await b.expect((m) => m.t === "joined"))?.arg, "1 <nil>", "Go joined ts2 (Go-initiated push/pull)");
    assert.ok(ts1.events.includes("merge go-state true"), "Go's user state reached our delegate");
    assert.ok(b.goLines.some((m) => m.t === "merge" && text(unhex(m.d)) === "ts-state-true"), "ours reached Go's");
    // Up to 20 s: the whole suite in parallel on 2 cores once needed more than 8 s here.
    for (let i = 0; i < 200 && !(ts1.core.numMembers() === 3 && ts2.core.numMembers() === 3); i++) await sleep(100);
    b.send({ t: "members" });
    const mem = (await b.expect((m) => m.t === "members"))!.arg as string;
    assert.deepEqual(mem.trim().split(" ").sort(), ["go1", "ts1", "ts2"]);
    assert.equal(ts1.core.numMembers(), 3);
    assert.equal(ts2.core.numMembers(), 3);
    assert.equal(text(ts1.core.members().find((m) => m.name === "go1")!.meta), "m1");

    b.send({ t: "user", arg: "ts1", d: "c0ffee" });
    ts2.core.sendToAddress({ ip: "10.0.0.1", port: 7946 }, unhex("beef"));
    b.flush(ts2);
    assert.equal((await b.expect((m) => m.t === "user"))?.d, "beef");
    b.send({ t: "update", arg: "m2" });
    ts2.meta = "ts2-v2";
    let updated: string | undefined | null = null;
    ts2.core.updateNode(now(), 5000, (e) => (updated = e));
    b.flush(ts2);
    assert.ok(await b.expect((m) => m.t === "event" && m.arg === "update ts2 ts2-v2"), "Go saw our meta update");
    for (let i = 0; i < 30 && !(ts1.events.includes("update go1 m2") && updated !== null); i++) await sleep(100);
    assert.ok(ts1.events.includes("user c0ffee"), "Go's SendBestEffort (CRC-framed) reached us");
    assert.ok(ts1.events.includes("update go1 m2"), "we saw Go's meta update");
    assert.equal(updated, undefined);

    let left: string | undefined | null = null;
    ts1.core.leave(now(), 5000, (e) => (left = e));
    b.flush(ts1);
    assert.ok(await b.expect((m) => m.t === "event" && m.arg === "leave ts1"), "Go saw ts1 leave");
    for (let i = 0; i < 30 && left === null; i++) await sleep(100);
    assert.equal(left, undefined);
    const bad = [...b.goLog, ...ts1.logs, ...ts2.logs].filter((l) => /\[?(ERR|WARN)\]? |Suspect|Marking/.test(l));
    assert.deepEqual(bad, []);
  });

  it(
    "encrypted: TCP fallback pings both ways, a suspicion refuted via the buddy system",
    { timeout: 30_000 },
    async () => {
      const b = new Bridge(binary, KEY);
      bridges.push(b);
      const ts1 = b.add("ts1", "10.0.0.2");
      let joined: [number, string[]] | undefined;
      ts1.core.join([{ ip: "10.0.0.1", port: 7946 }], now(), (n, e) => (joined = [n, e]));
      b.flush(ts1);
      for (let i = 0; i < 50 && !joined; i++) await sleep(50);
      assert.deepEqual(joined, [1, []]);
      await sleep(1500);
      b.dropUdp = true;
      await sleep(3500);
      b.dropUdp = false;
      assert.ok(
        b.goLog.some((l) => l.includes("[WARN] memberlist: Was able to connect to ts1 but other probes failed")),
      );
      assert.ok(
        ts1.logs.includes(
          "WARN memberlist: Was able to connect to go1 but other probes failed, network may be misconfigured",
        ),
      );
      assert.ok(!b.goLog.some((l) => l.includes("Suspect ts1")), "TCP fallback kept ts1 alive");
      await sleep(500);
      b.dropAll = true;
      const suspected = () =>
        b.goLog.some((l) => l.includes("[INFO] memberlist: Suspect ts1 has failed, no acks received"));
      for (let i = 0; i < 60 && !suspected(); i++) await sleep(100);
      b.dropAll = false;
      assert.ok(suspected(), b.goLog.join("\n"));
      for (let i = 0; i < 40 && !ts1.logs.some((l) => l.includes("Refuting")); i++) await sleep(100);
      assert.ok(ts1.logs.includes("WARN memberlist: Refuting a suspect message (from: go1)"));
      assert.equal(ts1.core.localIncarnation(), 2);
      await sleep(1000);
      b.send({ t: "members" });
      assert.match((await b.expect((m) => m.t === "members"))!.arg, /ts1/);
      assert.ok(!b.goLog.some((l) => l.includes("Marking ts1 as failed")));
    },
  );
});

/** The Go side: memberlist.Create with a stdio Transport (one net.Pipe per stream). */
function goSource(): string {
  return `// A real memberlist 0.2.2 node whose transport is JSON lines on stdio.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

type msg struct {
	T    string \`json:"t"\`
	ID   string \`json:"id,omitempty"\`
	From string \`json:"from,omitempty"\`
	To   string \`json:"to,omitempty"\`
	D    string \`json:"d,omitempty"\`
	Arg  string \`json:"arg,omitempty"\`
}

var outMu sync.Mutex

func emit(m msg) {
	b, _ := json.Marshal(m)
	outMu.Lock()
	os.Stdout.Write(append(b, '\\n'))
	outMu.Unlock()
}

type addr string

func (a addr) Network() string { return "udp" }
func (a addr) String() string  { return string(a) }

type tr struct {
	self    string
	packets chan *memberlist.Packet
	streams chan net.Conn
	mu      sync.Mutex
	conns   map[string]chan []byte
	next    int
}

// writer serializes writes to a pipe end; a nil chunk closes it.
func (t *tr) writer(remote net.Conn) chan []byte {
	ch := make(chan []byte, 256)
	go func() {
		for b := range ch {
			if b == nil {
				remote.Close()
				return
			}
			if _, err := remote.Write(b); err != nil {
				return
			}
		}
	}()
	return ch
}

func (t *tr) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	h, _, _ := net.SplitHostPort(t.self)
	return net.ParseIP(h).To4(), 7946, nil
}
func (t *tr) WriteTo(b []byte, a string) (time.Time, error) {
	emit(msg{T: "pkt", From: t.self, To: a, D: hex.EncodeToString(b)})
	return time.Now(), nil
}
func (t *tr) PacketCh() <-chan *memberlist.Packet { return t.packets }
func (t *tr) StreamCh() <-chan net.Conn          { return t.streams }
func (t *tr) Shutdown() error                    { return nil }

func (t *tr) pump(id string, remote net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := remote.Read(buf)
		if n > 0 {
			emit(msg{T: "data", ID: id, D: hex.EncodeToString(buf[:n])})
		}
		if err != nil {
			emit(msg{T: "close", ID: id})
			t.mu.Lock()
			delete(t.conns, id)
			t.mu.Unlock()
			return
		}
	}
}

func (t *tr) DialTimeout(a string, timeout time.Duration) (net.Conn, error) {
	local, remote := net.Pipe()
	t.mu.Lock()
	t.next++
	id := fmt.Sprintf("g%d", t.next)
	t.conns[id] = t.writer(remote)
	t.mu.Unlock()
	emit(msg{T: "open", ID: id, From: t.self, To: a})
	go t.pump(id, remote)
	return local, nil
}

type events struct{}

func (events) NotifyJoin(n *memberlist.Node)   { emit(msg{T: "event", Arg: "join " + n.Name}) }
func (events) NotifyLeave(n *memberlist.Node)  { emit(msg{T: "event", Arg: "leave " + n.Name}) }
func (events) NotifyUpdate(n *memberlist.Node) { emit(msg{T: "event", Arg: "update " + n.Name + " " + string(n.Meta)}) }

type deleg struct{ meta []byte }

func (d *deleg) NodeMeta(limit int) []byte                  { return d.meta }
func (d *deleg) NotifyMsg(b []byte)                         { emit(msg{T: "user", D: hex.EncodeToString(b)}) }
func (d *deleg) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *deleg) LocalState(join bool) []byte                { return []byte("go-state") }
func (d *deleg) MergeRemoteState(buf []byte, join bool) {
	emit(msg{T: "merge", D: hex.EncodeToString(buf), Arg: fmt.Sprint(join)})
}

func main() {
	self := os.Args[1]
	t := &tr{self: self, packets: make(chan *memberlist.Packet, 1024), streams: make(chan net.Conn, 64), conns: map[string]chan []byte{}}
	c := memberlist.DefaultLocalConfig()
	c.Name = os.Args[2]
	c.Transport = t
	c.Events = events{}
	d := &deleg{meta: []byte("m1")}
	c.Delegate = d
	c.DelegateProtocolMin, c.DelegateProtocolMax, c.DelegateProtocolVersion = 2, 5, 5
	c.Logger = log.New(os.Stderr, "GO ", log.Lmicroseconds)
	if len(os.Args) > 3 {
		k, _ := hex.DecodeString(os.Args[3])
		c.SecretKey = k
	}
	m, err := memberlist.Create(c)
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var in msg
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			continue
		}
		b, _ := hex.DecodeString(in.D)
		switch in.T {
		case "pkt":
			t.packets <- &memberlist.Packet{Buf: b, From: addr(in.From), Timestamp: time.Now()}
		case "open":
			local, remote := net.Pipe()
			t.mu.Lock()
			t.conns[in.ID] = t.writer(remote)
			t.mu.Unlock()
			go t.pump(in.ID, remote)
			t.streams <- local
		case "data":
			t.mu.Lock()
			cn := t.conns[in.ID]
			t.mu.Unlock()
			if cn != nil {
				cn <- b
			}
		case "close":
			t.mu.Lock()
			cn := t.conns[in.ID]
			t.mu.Unlock()
			if cn != nil {
				cn <- nil
			}
		case "members":
			s := ""
			for _, n := range m.Members() {
				s += n.Name + " "
			}
			emit(msg{T: "members", Arg: s})
		case "join":
			go func(a string) {
				n, err := m.Join([]string{a})
				emit(msg{T: "joined", Arg: fmt.Sprint(n, err)})
			}(in.Arg)
		case "update":
			d.meta = []byte(in.Arg)
			go func() { emit(msg{T: "updated", Arg: fmt.Sprint(m.UpdateNode(5 * time.Second))}) }()
		case "leave":
			go func() { emit(msg{T: "left", Arg: fmt.Sprint(m.Leave(5 * time.Second))}) }()
		case "user":
			for _, n := range m.Members() {
				if n.Name == in.Arg {
					m.SendBestEffort(n, b)
				}
			}
		case "health":
			emit(msg{T: "health", Arg: fmt.Sprint(m.GetHealthScore())})
		}
	}
}
`;
}
