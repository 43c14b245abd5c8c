// `mcast-send` on the wire, checked from tcpdump captures between two namespaces (and with tshark
// as an independent decoder when installed), not from our own MCAS decoder: the 32-byte header,
// the 0xA5 padding, the IP TTL / hop limit and DSCP, the port, consecutive sequences from 0 and
// one sender id equal to the JSON summary's. Plus exact counts at `max`, the fragmentation
// warning, and the live dashboard in a tmux terminal.

import assert from "node:assert/strict";
import { ROOT, sendArgv, SUMMARY_KEYS } from "./_send_tool.ts";
import {
  type CapturedPacket,
  findOnPath,
  hasTshark,
  labTest,
  type Namespace,
  readPcap,
  tsharkPackets,
} from "../lab/mod.ts";

const RECEIVER = new URL("../lib/_receiver.ts", import.meta.url).pathname;

async function sendJson(ns: Namespace, args: string[]) {
  const result = await ns.run(sendArgv([...args, "--json"]), { cwd: ROOT, timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(summary), SUMMARY_KEYS);
  return { summary, stderr: result.stderr };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface WireExpectation {
  family: 4 | 6;
  group: string;
  source: string;
  port: number;
  ttl: number;
  dscp: number;
  size: number;
  count: number;
  senderId: string;
}

/** Checks captured packets byte by byte against the contract's MCAS v1 layout. */
function checkWire(packets: CapturedPacket[], want: WireExpectation, decoder: string): void {
  const ours = packets.filter((p) => p.dst === want.group && p.dstPort === want.port);
  assert.equal(ours.length, want.count, `${decoder}: datagrams captured`);
  let previousTime = -1n;
  for (const [i, packet] of ours.entries()) {
    const where = `${decoder}: packet ${i}`;
    assert.equal(packet.family, want.family, where);
    assert.equal(packet.src, want.source, where);
    assert.equal(packet.protocol, 17, where);
    assert.equal(packet.ttl, want.ttl, `${where}: IP TTL / hop limit`);
    assert.equal(packet.dscp, want.dscp, `${where}: IP DSCP`);
    assert.equal(packet.ecn, 0, `${where}: ECN bits zero`);
    const payload = packet.payload!;
    assert.equal(payload.length, want.size, `${where}: payload length == --size`);
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    assert.deepEqual([...payload.subarray(0, 4)], [0x4d, 0x43, 0x41, 0x53], `${where}: magic`);
    assert.equal(payload[4], 1, `${where}: version`);
    assert.equal(payload[5], 0, `${where}: flags`);
    assert.equal(payload[6], packet.ttl, `${where}: original TTL == IP TTL`);
    assert.equal(payload[7], packet.dscp, `${where}: original DSCP == IP DSCP`);
    assert.equal(view.getBigUint64(8), BigInt(i), `${where}: sequence`);
    const time = view.getBigUint64(16);
    assert.ok(time > 0n && time >= previousTime, `${where}: monotonic timestamp`);
    previousTime = time;
    assert.equal(hex(payload.subarray(24, 32)), want.senderId, `${where}: sender id`);
    assert.ok(payload.subarray(32).every((b) => b === 0xa5), `${where}: 0xA5 padding`);
  }
}

async function crossCheckWithTshark(path: string, want: WireExpectation): Promise<void> {
  if (!hasTshark()) {
    console.warn("SKIP tshark cross-check: tshark is not installed");
    return;
  }
  checkWire(await tsharkPackets(path), want, "tshark");
}

labTest(
  "IPv4 wire: MCAS header, padding, TTL, DSCP, port and sequences from a capture",
  async (lab) => {
    const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
    const link = await lab.link(a, b);
    const capture = await b.capture(link.b.name, { filter: "udp" });
    const { summary } = await sendJson(a, [
      "239.1.2.3",
      "10",
      "7",
      "--count",
      "50",
      "--rate",
      "2kpps",
      "--dscp",
      "af41",
      "--size",
      "300",
      "--interface",
      link.a.name,
    ]);
    const path = await capture.stop();
    const packets = await readPcap(path);
    assert.equal(summary.packets_sent, 50);
    assert.equal(summary.interface, link.a.name);
    assert.equal(summary.source, link.a.ipv4);
    assert.equal(summary.dscp, "af41");
    const want: WireExpectation = {
      family: 4,
      group: "239.1.2.3",
      source: link.a.ipv4!,
      port: 19779,
      ttl: 7,
      dscp: 34,
      size: 300,
      count: 50,
      senderId: summary.sender_id,
    };
    checkWire(packets, want, "pcap reader");
    await crossCheckWithTshark(path, want);
  },
  { requires: ["tcpdump"], timeoutMs: 60_000 },
);

labTest(
  "IPv6 wire: ff3e:: from a ULA --source, hop limit and traffic class in the IPv6 header",
  async (lab) => {
    const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
    const link = await lab.link(a, b);
    const capture = await b.capture(link.b.name, { filter: "udp" });
    const { summary } = await sendJson(a, [
      "ff3e::8000:1234",
      "10",
      "9",
      "--source",
      link.a.ipv6!,
      "--count",
      "40",
      "--rate",
      "500pps",
      "--dscp",
      "ef",
      "--size",
      "100",
      "--port",
      "5000",
    ]);
    const path = await capture.stop();
    const packets = await readPcap(path);
    assert.equal(summary.group, "ff3e::8000:1234");
    assert.equal(summary.source, link.a.ipv6);
    assert.equal(summary.interface, link.a.name);
    assert.equal(summary.packets_sent, 40);
    const want: WireExpectation = {
      family: 6,
      group: "ff3e::8000:1234",
      source: link.a.ipv6!,
      port: 5000,
      ttl: 9,
      dscp: 46,
      size: 100,
      count: 40,
      senderId: summary.sender_id,
    };
    checkWire(packets, want, "pcap reader");
    await crossCheckWithTshark(path, want);
  },
  { requires: ["tcpdump"], timeoutMs: 60_000 },
);

labTest("--count is exact, and --rate max --count 5000 sends all 5000", async (lab) => {
  const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
  const link = await lab.link(a, b);
  // Routing default (the lab's 224.0.0.0/4 route); the interface is found from the source.
  const capture = await b.capture(link.b.name, { filter: "udp port 19779" });
  const paced = await sendJson(a, ["239.1.2.4", "--count", "137", "--rate", "5kpps"]);
  assert.equal(paced.summary.interface, link.a.name);
  assert.equal(paced.summary.packets_sent, 137);
  const toGroup = (packets: CapturedPacket[]) => packets.filter((p) => p.dst === "239.1.2.4");
  const packets = await capture.packetsWhen((sofar) => toGroup(sofar).length >= 137);
  assert.equal(toGroup(packets).length, 137);
  // At max, tcpdump drops; a receiving socket with a big buffer counts instead.
  const receiver = b.spawnDeno(RECEIVER, {
    args: [
      "--group=239.1.2.5",
      "--port=19779",
      `--interface=${link.b.name}`,
      "--expect=5000",
      "--idle-ms=2000",
      "--timeout-ms=20000",
      "--rcvbuf=33554432",
      "--count-only",
    ],
  });
  await receiver.waitForOutput(/READY/, 20_000);
  const max = await sendJson(a, ["239.1.2.5", "--count", "5000", "--rate", "max", "--size", "64"]);
  assert.equal(max.summary.packets_sent, 5000);
  assert.equal(max.summary.bytes_sent, 5000 * 64);
  assert.equal(max.summary.send_errors, 0);
  assert.equal(max.summary.rate_pps, null);
  const result = await receiver.wait();
  assert.equal(result.code, 0, result.stderr);
  const line = result.stdout.split("\n").find((l) => l.startsWith('{"summary"'));
  const summary = JSON.parse(line!).summary;
  assert.equal(summary.count, 5000, "all 5000 arrived");
}, { requires: ["tcpdump"], timeoutMs: 90_000 });

labTest("--size above the path MTU warns about fragmentation (and is still sent)", async (lab) => {
  const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
  const link = await lab.link(a, b, { mtu: 1500 });
  const capture = await b.capture(link.b.name, { filter: "ip" });
  const big = await sendJson(a, [
    "239.1.2.3",
    "--size",
    "9000",
    "--count",
    "2",
    "--rate",
    "100pps",
  ]);
  assert.equal(big.summary.packets_sent, 2);
  const warning = big.stderr.trim().split("\n");
  assert.equal(warning.length, 1, big.stderr);
  assert.match(warning[0], /^mcast-send: warning: --size 9000 .*MTU of veth0 \(1500 bytes/);
  assert.match(warning[0], /fragment/);
  const packets = await capture.packets();
  assert.ok(packets.length >= 2 * 7, `fragments on the wire: ${packets.length}`);
  // The largest payload that fits is MTU minus 28 (IPv4) or 48 (IPv6) bytes.
  const fits4 = await sendJson(a, ["239.1.2.3", "--size", "1472", "--count", "1"]);
  assert.equal(fits4.stderr, "");
  const over4 = await sendJson(a, ["239.1.2.3", "--size", "1473", "--count", "1"]);
  assert.match(over4.stderr, /fragment/);
  const source = ["--source", link.a.ipv6!];
  const fits6 = await sendJson(a, ["ff3e::1", "--size", "1452", "--count", "1", ...source]);
  assert.equal(fits6.stderr, "");
  const over6 = await sendJson(a, ["ff3e::1", "--size", "1453", "--count", "1", ...source]);
  assert.match(over6.stderr, /IPv6.*fragment/);
}, { requires: ["tcpdump"], timeoutMs: 90_000 });

labTest("--no-loopback: a local member gets the datagrams only with loopback on", async (lab) => {
  const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
  const link = await lab.link(a, b);
  const received: number[] = [];
  for (const loopback of [[], ["--no-loopback"]]) {
    const receiver = a.spawnDeno(RECEIVER, {
      args: [
        "--group=239.1.2.3",
        "--port=19779",
        `--interface=${link.a.name}`,
        "--expect=3",
        "--idle-ms=1500",
        "--timeout-ms=3000",
        "--count-only",
      ],
    });
    await receiver.waitForOutput(/READY/, 20_000);
    await sendJson(a, ["239.1.2.3", "--count", "3", "--interface", link.a.name, ...loopback]);
    const result = await receiver.wait();
    assert.equal(result.code, 0, result.stderr);
    const line = result.stdout.split("\n").find((l) => l.startsWith('{"summary"'));
    received.push(JSON.parse(line!).summary.count);
  }
  assert.deepEqual(received, [3, 0]);
}, { timeoutMs: 60_000 });

const tmux = findOnPath("tmux");
labTest(
  "the live dashboard on a terminal: target, achieved, progress; cursor restored",
  async (lab) => {
    const ns = await lab.addNamespace("tty");
    const session = `${ns.name}-send`.replaceAll(/[^A-Za-z0-9_-]/g, "_");
    const socket = ["-L", session]; // a private tmux server, not the user's
    const command = [
      "ip",
      "netns",
      "exec",
      ns.name,
      ...sendArgv(["239.1.2.3", "3", "--rate", "2kpps", "--dscp", "ef", "--interface", "lo"]),
    ].join(" ");
    const start = await ns.run([
      tmux!,
      ...socket,
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "30",
      `cd ${ROOT} && ${command}; echo EXIT=$?; sleep 30`,
    ]);
    assert.equal(start.code, 0, start.stderr);
    try {
      const pane = async () =>
        (await ns.run([tmux!, ...socket, "capture-pane", "-p", "-t", session], {
          timeoutMs: 5_000,
        })).stdout;
      let screen = "";
      for (let i = 0; i < 40 && !screen.includes("achieved"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        screen = await pane();
      }
      assert.match(screen, /mcast-send {2}239\.1\.2\.3:19779 {2}● SENDING/);
      assert.match(screen, /target {4}2,000 pps/);
      assert.match(screen, /DSCP EF \(46\)/);
      assert.match(screen, /[█░]{30} \d+%/);
      for (let i = 0; i < 40 && !screen.includes("EXIT="); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        screen = await pane();
      }
      assert.match(screen, /EXIT=0/);
      assert.match(screen, /mcast-send: done: 6000 packets/);
      assert.equal(screen.match(/mcast-send {2}239/g)?.length, 1, "redrawn in place, not scrolled");
      assert.match(screen, /● DONE/);
      assert.ok(!screen.includes("● SENDING"), "the last frame shows the end");
      const cursor = await ns.run([
        tmux!,
        ...socket,
        "display",
        "-p",
        "-t",
        session,
        "#{cursor_flag}",
      ]);
      assert.equal(cursor.stdout.trim(), "1", "cursor visible again");
    } finally {
      await ns.run([tmux!, ...socket, "kill-server"], { timeoutMs: 5_000 });
    }
  },
  { requires: ["tmux"], timeoutMs: 60_000 },
);

labTest(
  "a full socket buffer is waited out, never dropped: --rate max through a 10 Mbit/s shaper",
  async (lab) => {
    const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
    const link = await lab.link(a, b);
    // A token-bucket shaper with a deep queue: the socket buffer fills and sends would block.
    await a.run(
      ["tc", "qdisc", "add", "dev", link.a.name, "root", "tbf", "rate", "10mbit", "burst", "10kb"]
        .concat(["limit", "10mb"]),
      { check: true },
    );
    const receiver = b.spawnDeno(RECEIVER, {
      args: [
        "--group=239.1.2.3",
        "--port=19779",
        `--interface=${link.b.name}`,
        "--expect=3000",
        "--idle-ms=2000",
        "--timeout-ms=20000",
        "--rcvbuf=33554432",
        "--count-only",
      ],
    });
    await receiver.waitForOutput(/READY/, 20_000);
    const { summary } = await sendJson(a, ["239.1.2.3", "--rate", "max", "--count", "3000"]);
    assert.equal(summary.packets_sent, 3000);
    assert.equal(summary.send_errors, 0, "would-block is not an error");
    // 3000 × 242 bytes on the wire at 10 Mbit/s take about 0.58 s: the sender was held back.
    assert.ok(summary.duration_s > 0.4, `duration ${summary.duration_s}`);
    const result = await receiver.wait();
    const line = result.stdout.split("\n").find((l) => l.startsWith('{"summary"'));
    assert.equal(JSON.parse(line!).summary.count, 3000, "every datagram arrived");
  },
  { requires: ["tc"], timeoutMs: 60_000 },
);
