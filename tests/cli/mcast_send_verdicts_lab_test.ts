// Issue 9, items 6 to 8, in lab namespaces: mcast-send keeps mctx-core's source rule (an IPv6
// --interface address is the source; a source the interface cannot send from is a usage error),
// the seed's own command line works (`--ttl`, checked in the captured IP header), and `--count`
// ends right after the last datagram.

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import { endReceive, joinOne, linkedPair, pick, runSend, sleep } from "./_receive_lab.ts";

labTest(
  "mcast-send --interface fd77::1 (no --source) sends from fd77::1: an SSM receiver for it gets all",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    // Deprecated (preferred_lft 0): the kernel's own source selection would never pick it, so
    // only a bind to it makes it the source.
    await h1.ip([
      "-6",
      "addr",
      "add",
      "fd77::1/64",
      "dev",
      link.a.name,
      "nodad",
      "preferred_lft",
      "0",
    ]);
    const group = `ff3e::${pick(0x1000, 0xffff).toString(16)}:77`;
    const iface = link.b.name;
    const capture = await h2.capture(iface, { filter: "udp" });
    const receiver = await joinOne(h2, iface, [group, "fd77::1", "--json"]);
    const send = await runSend(h1, [
      group,
      "--interface",
      "fd77::1",
      "--count",
      "20",
      "--rate",
      "1kpps",
      "--json",
    ]);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(send.json.source, "fd77::1");
    assert.equal(send.json.interface, link.a.name);
    assert.equal(send.json.packets_sent, 20);
    await sleep(300);
    const run = await endReceive(receiver);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.totals.packets, 20);
    assert.deepEqual(run.json.senders.map((s: { source: string }) => s.source), ["fd77::1"]);
    const ours = (await capture.packets()).filter((p) => p.dst === group);
    assert.equal(ours.length, 20);
    assert.deepEqual([...new Set(ours.map((p) => p.src))], ["fd77::1"]);
    // The control: by interface name the kernel picks the other (preferred) address.
    const byName = await runSend(h1, [group, "--interface", link.a.name, "--count", "1", "--json"]);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.json.source, link.a.ipv6);
  },
  { requires: ["tcpdump"], timeoutMs: 60_000 },
);

labTest(
  "mcast-send: an IPv6 --source of another interface is exit 2 naming both; 127.0.0.1 on a veth exit 2",
  async (lab) => {
    const h1 = await lab.addNamespace("h1");
    const one = await lab.link(h1, await lab.addNamespace("h2"));
    const two = await lab.link(h1, await lab.addNamespace("h3"));
    const mismatch = await runSend(h1, [
      "ff3e::8000:1",
      "--source",
      two.a.ipv6!,
      "--interface",
      one.a.name,
      "--count",
      "1",
    ]);
    assert.equal(mismatch.code, 2, mismatch.stderr);
    const lines = mismatch.stderr.trim().split("\n");
    assert.equal(lines.length, 1, mismatch.stderr);
    assert.ok(lines[0].includes(one.a.name) && lines[0].includes(two.a.name), lines[0]);

    const loopback = await runSend(h1, [
      "239.1.2.3",
      "--source",
      "127.0.0.1",
      "--interface",
      one.a.name,
      "--count",
      "1",
    ]);
    assert.equal(loopback.code, 2, loopback.stderr);
    assert.equal(loopback.stderr.trim().split("\n").length, 1, loopback.stderr);
    assert.ok(loopback.stderr.includes("127.0.0.1"), loopback.stderr);
    assert.doesNotMatch(loopback.stderr, /EINVAL|Failed to connect/);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "the seed's command line: --rate 50pps --ttl 64 --dscp ef sends TTL 64 EF; two different TTLs exit 2",
  async (lab) => {
    const { h1: a, h2: b, link } = await linkedPair(lab, ["a", "b"]);
    const capture = await b.capture(link.b.name, { filter: "udp" });
    // The seed's line, bounded by --count.
    const send = await runSend(
      a,
      "239.0.10.101 --rate 50pps --ttl 64 --dscp ef --count 5 --json".split(" "),
    );
    assert.equal(send.code, 0, send.stderr);
    assert.equal(send.json.ttl, 64);
    assert.equal(send.json.dscp, "ef");
    assert.equal(send.json.rate_pps, 50);
    assert.equal(send.json.packets_sent, 5);
    const ours = (await capture.packets()).filter((p) => p.dst === "239.0.10.101");
    assert.deepEqual(ours.map((p) => [p.ttl, p.dscp, p.payload![6]]), Array(5).fill([64, 46, 64]));

    const same = await runSend(a, "239.0.10.101 10 64 --ttl 64 --count 1 --json".split(" "));
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.json.ttl, 64);
    const different = await runSend(a, "239.0.10.101 10 8 --ttl 64 --count 1".split(" "));
    assert.equal(different.code, 2, different.stderr);
    const lines = different.stderr.trim().split("\n");
    assert.equal(lines.length, 1, different.stderr);
    assert.match(lines[0], /^mcast-send: .*--ttl.*64/);
    assert.equal(different.stdout, "");
  },
  { requires: ["tcpdump"], timeoutMs: 60_000 },
);

labTest(
  "--count ends right after the last datagram: 0.5pps × 2 under 3 s, 0.001pps × 1 at once",
  async (lab) => {
    const a = await lab.addNamespace("a");
    await lab.link(a, await lab.addNamespace("b"));
    const two = await runSend(a, ["239.1.2.3", "--rate", "0.5pps", "--count", "2", "--json"]);
    assert.equal(two.code, 0, two.stderr);
    assert.equal(two.json.packets_sent, 2);
    assert.ok(two.json.duration_s < 3, `duration_s ${two.json.duration_s} (one more interval: 4)`);
    const started = Date.now();
    const one = await runSend(
      a,
      ["239.1.2.3", "--rate", "0.001pps", "--count", "1", "--json"],
      10_000,
    );
    assert.equal(one.timedOut, false, "still sleeping after 10 s");
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.json.packets_sent, 1);
    assert.ok(one.json.duration_s < 5, `duration_s ${one.json.duration_s}`);
    assert.ok(Date.now() - started < 10_000);
  },
  { timeoutMs: 60_000 },
);
