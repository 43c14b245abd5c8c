// The sender's "Done when" checks of issue #3, in network namespaces the tests create: what a
// receiver socket really sees (source address, TTL / hop limit, which veth), and the mctx-send
// CLI with its Heimdall JSONL output. (AsyncPublication under real EAGAIN is in
// async_publication_test.ts.)
//
// Senders run inside the namespaces as `cli/mctx_send.ts`; receivers are `_receiver.ts` (ffi
// sockets joined with MCAST_JOIN_(SOURCE_)GROUP), started and read through `_lab_peers.ts`.

import assert from "node:assert/strict";
import { labTest, type Namespace } from "../lab/mod.ts";
import { ifindex, linkLocal, results, startReceiver } from "./_lab_peers.ts";

const CLI = new URL("../../cli/mctx_send.ts", import.meta.url).pathname;

async function mctxSend(ns: Namespace, args: string[], env: Record<string, string> = {}) {
  const result = await ns.runDeno(CLI, { args, env, timeoutMs: 30_000 });
  assert.equal(result.code, 0, `mctx-send ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout.trim().split("\n").filter((line) => line.startsWith("sent "));
}

const hex = (s: string) =>
  [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, "0")).join("");

labTest(
  "IPv4: an explicit source among two addresses is exactly what the receiver sees, with the TTL",
  async (lab) => {
    const a = await lab.addNamespace("a");
    const b = await lab.addNamespace("b");
    const link = await lab.link(a, b);
    const second = link.a.ipv4!.replace(/\.1$/, ".11");
    await a.addAddress(link.a.name, `${second}/24`);
    // SSM join on (second, G): anything from the primary address would be filtered out.
    const rx = await startReceiver(b, [
      "--group",
      "232.1.1.1",
      "--port",
      "6001",
      "--source",
      second,
      "--interface",
      link.b.name,
      "--expect",
      "3",
      "--timeout-ms",
      "10000",
    ]);
    const lines = await mctxSend(a, [
      "232.1.1.1",
      "6001",
      "hello",
      "3",
      "--source",
      second,
      "--ttl",
      "7",
    ]);
    assert.deepEqual(lines, Array(3).fill(`sent 5 bytes to 232.1.1.1:6001 from ${second}`));
    const { datagrams, summary } = await results(rx);
    assert.equal(summary.count, 3);
    assert.deepEqual(summary.sources, { [second]: 3 });
    for (const d of datagrams) {
      assert.equal(d.source, second);
      assert.equal(d.ttl, 7);
      assert.equal(d.payloadHex, hex("hello"));
    }
  },
);

labTest(
  "IPv4: the outgoing interface option sends out the chosen one of two veths",
  async (lab) => {
    const s = await lab.addNamespace("s");
    const r1 = await lab.addNamespace("r1");
    const r2 = await lab.addNamespace("r2");
    const link1 = await lab.link(s, r1); // s's multicast route points here
    const link2 = await lab.link(s, r2);
    const args = (link: typeof link1) => [
      "--group",
      "239.2.2.2",
      "--port",
      "6002",
      "--interface",
      link.b.name,
      "--idle-ms",
      "1500",
      "--timeout-ms",
      "8000",
    ];
    const rx1 = await startReceiver(r1, args(link1));
    const rx2 = await startReceiver(r2, args(link2));
    await mctxSend(s, ["239.2.2.2", "6002", "default", "2", "--quiet"]);
    const lines = await mctxSend(s, [
      "239.2.2.2",
      "6002",
      "chosen",
      "3",
      "--interface",
      link2.a.ipv4!,
    ]);
    assert.equal(lines.length, 3);
    assert.match(lines[0], new RegExp(`from ${link2.a.ipv4!.replaceAll(".", "\\.")}$`));
    const one = await results(rx1);
    const two = await results(rx2);
    assert.deepEqual(one.datagrams.map((d) => d.payloadHex), [hex("default"), hex("default")]);
    assert.deepEqual(two.datagrams.map((d) => d.payloadHex), Array(3).fill(hex("chosen")));
    for (const d of two.datagrams) assert.equal(d.source, link2.a.ipv4);
  },
);

labTest("IPv6: ff3e::/32 with a ULA source — the receiver sees exactly it", async (lab) => {
  const a = await lab.addNamespace("a");
  const b = await lab.addNamespace("b");
  const link = await lab.link(a, b);
  const source = link.a.ipv6!.replace(/::1$/, "::11");
  await a.addAddress(link.a.name, `${source}/64`);
  const rx = await startReceiver(b, [
    "--group",
    "ff3e::8000:1234",
    "--port",
    "6003",
    "--source",
    source,
    "--interface",
    link.b.name,
    "--expect",
    "3",
    "--timeout-ms",
    "10000",
  ]);
  const lines = await mctxSend(a, [
    "ff3e::8000:1234",
    "6003",
    "hello-v6",
    "3",
    "--source",
    source,
    "--ttl",
    "5",
  ]);
  // Wider scope: the destination carries no scope id.
  assert.deepEqual(lines, Array(3).fill(`sent 8 bytes to [ff3e::8000:1234]:6003 from ${source}`));
  const { datagrams, summary } = await results(rx);
  assert.equal(summary.count, 3);
  for (const d of datagrams) {
    assert.equal(d.source, source);
    assert.equal(d.ttl, 5);
  }
});

labTest("IPv6: ff32:: from the fe80:: source with an interface index", async (lab) => {
  const a = await lab.addNamespace("a");
  const b = await lab.addNamespace("b");
  const link = await lab.link(a, b);
  const source = await linkLocal(a, link.a.name);
  const index = await ifindex(a, link.a.name);
  const rx = await startReceiver(b, [
    "--group",
    "ff32::8000:1234",
    "--port",
    "6004",
    "--source",
    source,
    "--interface",
    link.b.name,
    "--expect",
    "3",
    "--timeout-ms",
    "10000",
  ]);
  const lines = await mctxSend(a, [
    "ff32::8000:1234",
    "6004",
    "link-local",
    "3",
    "--source",
    source,
    "--interface-index",
    String(index),
  ]);
  // Link-local scope: the destination keeps the interface index as its scope id.
  assert.deepEqual(
    lines,
    Array(3).fill(`sent 10 bytes to [ff32::8000:1234%${index}]:6004 from ${source}`),
  );
  const { datagrams, summary } = await results(rx);
  assert.equal(summary.count, 3);
  for (const d of datagrams) {
    assert.equal(d.source, source);
    assert.equal(d.ttl, 1);
  }
});

labTest(
  "IPv6: interface-local ff31:: reaches a receiver on the same host and never the wire",
  async (lab) => {
    const a = await lab.addNamespace("a");
    const b = await lab.addNamespace("b");
    const link = await lab.link(a, b);
    const index = await ifindex(a, link.a.name);
    const common = ["--group", "ff31::8000:1234", "--port", "6005"];
    const local = await startReceiver(a, [
      ...common,
      "--interface",
      link.a.name,
      "--expect",
      "3",
      "--timeout-ms",
      "8000",
    ]);
    const remote = await startReceiver(b, [
      ...common,
      "--interface",
      link.b.name,
      "--idle-ms",
      "1",
      "--timeout-ms",
      "3000",
    ]);
    const lines = await mctxSend(a, [
      "ff31::8000:1234",
      "6005",
      "same-host",
      "3",
      "--interface-index",
      String(index),
    ]);
    assert.equal(lines.length, 3);
    assert.match(
      lines[0],
      new RegExp(`^sent 9 bytes to \\[ff31::8000:1234%${index}\\]:6005 from fe80::`),
    );
    const here = await results(local);
    const there = await results(remote);
    assert.equal(here.summary.count, 3);
    assert.equal(there.summary.count, 0);
  },
);

labTest(
  "mctx-send writes Heimdall JSONL: header, rows, final row, built-in flags win, lock",
  async (lab) => {
    const a = await lab.addNamespace("a");
    const b = await lab.addNamespace("b");
    await lab.link(a, b);
    const dir = await lab.scratchDir();
    const path = `${dir}/sender-0007/network.jsonl`;
    const env = {
      MCTX_METRICS_SUMMARY_FILE: path,
      MCTX_METRICS_SUMMARY_SECS: "1",
      MCTX_METRICS_FLAGS_JSON: '{"experiment":"baseline","role":"ignored"}',
    };
    const first = a.spawnDeno(CLI, {
      args: ["239.5.5.5", "6007", "hello", "25", "100", "--quiet", "--ttl", "2"],
      env,
    });
    // While the first runs, a second writer on the same file is refused (exit 1, one line).
    await new Promise((r) => setTimeout(r, 1_000));
    const second = await a.runDeno(CLI, {
      args: ["239.5.5.5", "6008", "x", "1", "--quiet"],
      env,
      timeoutMs: 20_000,
    });
    assert.equal(second.code, 1);
    assert.match(second.stderr.trim(), /^mctx-send: Metrics file is locked by another writer: /);
    assert.equal(second.stderr.trim().split("\n").length, 1);
    const done = await first.wait();
    assert.equal(done.code, 0, done.stderr);

    const lines = Deno.readTextFileSync(path).trim().split("\n").map((l) => JSON.parse(l));
    const [header, ...rows] = lines;
    assert.equal(header.schema, "heimdall-jsonl-v1");
    assert.equal(header.artifact_type, "mctx-network");
    assert.equal(header.node_id, "sender-0007");
    assert.equal(header.producer, "mcast/mctx-send");
    assert.equal(typeof header.created_at, "number");
    assert.equal(header.flags.role, "sender", "built-in flags win");
    assert.equal(header.flags.experiment, "baseline");
    assert.equal(header.flags.multicast_group, "239.5.5.5");
    assert.equal(header.flags.ttl_or_hops, 2);
    assert.equal(header.flags.pacing, "fixed-interval");
    assert.ok(rows.length >= 2, `expected periodic rows and a final one, got ${rows.length}`);
    for (const row of rows) {
      for (const key of ["schema", "artifact_type", "node_id", "producer", "flags"]) {
        assert.ok(
          !(key in row),
        );
      }
      assert.equal(typeof row.ts, "number");
      assert.ok(row.interval_secs > 0);
    }
    const last = rows[rows.length - 1];
    assert.equal(last.packets_sent_total, 25);
    assert.equal(last.bytes_sent_total, 125);
    assert.equal(
      rows.reduce((n: number, r: { packets_sent_delta: number }) => n + r.packets_sent_delta, 0),
      25,
    );
    assert.equal(last.active_publications, 1);
    assert.equal(last.publications_added_total, 1);

    // MCTX_METRICS_NODE_ID overrides the inferred node id; appending needs a matching header.
    const other = `${dir}/other.jsonl`;
    await mctxSend(a, ["239.5.5.5", "6009", "x", "2", "--quiet"], {
      MCTX_METRICS_SUMMARY_FILE: other,
      MCTX_METRICS_NODE_ID: "custom",
    });
    const otherLines = Deno.readTextFileSync(other).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(otherLines[0].node_id, "custom");
    assert.equal(otherLines.length, 2, "header and the final row");
    assert.equal(otherLines[1].packets_sent_total, 2);
    const mismatch = await a.runDeno(CLI, {
      args: ["239.5.5.5", "6009", "x", "1", "--quiet"],
      env: { MCTX_METRICS_SUMMARY_FILE: other, MCTX_METRICS_NODE_ID: "another" },
    });
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /^mctx-send: Mismatched JSONL header node_id/);
  },
  { timeoutMs: 90_000 },
);

Deno.test("mctx-send: bad input is one line on stderr and exit 2, no stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [["239.1.2.3", "0", "x"], /port/],
    [["10.0.0.1", "5000", "x"], /Invalid group: "10\.0\.0\.1"/],
    [["239.1.2.3", "5000", "x", "--source", "fd00::1"], /Mismatched address family of source/],
    [["239.1.2.3", "5000", "x", "--interface-index", "3"], /--interface-index/],
    [["239.1.2.3", "5000", "x", "--ttl", "300"], /--ttl/],
    [["239.1.2.3", "5000", "x", "--bind", "10.0.0.1:5001", "--source", "10.0.0.1"], /--bind/],
    [["239.1.2.3", "5000", "x", "--bogus"], /unknown option/],
    [["ff32::1", "5000", "x"], /Invalid outgoing interface/],
  ];
  for (const [args, pattern] of cases) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CLI, ...args],
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 2, `${args.join(" ")}: ${stderr}`);
    assert.equal(stderr.split("\n").length, 1, stderr);
    assert.match(stderr, pattern);
    assert.doesNotMatch(stderr, /\bat .*:\d+:\d+/);
  }
  const env = { MCTX_METRICS_FLAGS_JSON: "[1]" };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, "239.1.2.3", "5000", "x", "0"],
    env,
  }).output();
  assert.equal(out.code, 2);
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, "--help"],
  }).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /Examples:[\s\S]*MCTX_METRICS_SUMMARY_FILE/);
});
