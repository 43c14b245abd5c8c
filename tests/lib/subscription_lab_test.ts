// Namespace tests of the receiver (issue #4, "Done when"): the SSM filter on a bridged LAN for
// IPv4 and IPv6, and the IGMPv3 / IGMPv2 / MLDv2 reports a join puts on the link, read from a
// tcpdump capture. All traffic stays inside the namespaces each test creates (tests/lab); the
// senders send a fixed number of datagrams and every receiver runs for a bounded time.

import assert from "node:assert/strict";
import { type Lab, labTest, type Namespace } from "../lab/mod.ts";

const RECEIVER = new URL("./_subscription_receiver.ts", import.meta.url).pathname;
const SENDER = new URL("./_subscription_sender.ts", import.meta.url).pathname;
const COUNT = 50;

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

interface ReceiverReport {
  done: true;
  counts: Record<string, number>;
  mcas: Record<string, number>;
  unique: Record<string, number>;
  foreign: number;
  truncated: number;
  ttl: Record<string, number>;
  tos: Record<string, number>;
  destinations: string[];
  interfaces: number[];
  forced: string | null;
  previous: number | null;
}

function reportOf(stdout: string, stderr: string): ReceiverReport {
  const line = stdout.split("\n").find((l) => l.startsWith('{"done":true'));
  assert.ok(line, `receiver printed no report; stdout: ${stdout} stderr: ${stderr}`);
  return JSON.parse(line) as ReceiverReport;
}

async function interfaceIndexIn(ns: Namespace, name: string): Promise<number> {
  const out = await ns.ip(["-o", "link", "show", "dev", name]);
  return Number(/^(\d+):/.exec(out)?.[1]);
}

/** Starts a receiver script in `ns` and waits until it has joined. */
async function startReceiver(ns: Namespace, args: string[]) {
  const process = ns.spawnDeno(RECEIVER, { args: [...args, "--duration-ms", "30000"] });
  await process.waitForOutput(/"ready":true/, 30_000);
  return process;
}

/** Stops a receiver (SIGUSR1: it prints its report, leaves, restores) and returns the report. */
async function stopReceiver(process: ReturnType<Namespace["spawnDeno"]>): Promise<ReceiverReport> {
  process.kill("SIGUSR1");
  const result = await process.wait();
  assert.equal(result.code, 0, `receiver failed: ${result.stderr}`);
  return reportOf(result.stdout, result.stderr);
}

async function send(
  ns: Namespace,
  group: string,
  options: {
    source: string;
    iface: string;
    port: number;
    ttl?: number;
    dscp?: number;
    sockets?: number;
  },
): Promise<void> {
  await ns.runDeno(SENDER, {
    args: [
      group,
      "--source",
      options.source,
      "--interface",
      options.iface,
      "--port",
      String(options.port),
      "--count",
      String(COUNT),
      "--ttl",
      String(options.ttl ?? 8),
      "--dscp",
      String(options.dscp ?? 0),
      "--sockets",
      String(options.sockets ?? 1),
    ],
    check: true,
    timeoutMs: 30_000,
  });
}

/**
 * Two senders and one receiver host on one bridged LAN; on the receiver host an (S,G) receiver
 * for the first sender and an ASM receiver for the same group and port run side by side.
 */
async function ssmFilterScenario(lab: Lab, family: 4 | 6): Promise<void> {
  const s1 = await lab.addNamespace("s1");
  const s2 = await lab.addNamespace("s2");
  const r = await lab.addNamespace("r");
  const lan = await lab.addLan("lan", [s1, s2, r]);
  const [m1, m2, mr] = lan.members;
  const group = family === 4
    ? `232.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`
    : `ff3e::${randomInt(0x1000, 0xffff).toString(16)}`;
  const src1 = (family === 4 ? m1.ipv4 : m1.ipv6)!;
  const src2 = (family === 4 ? m2.ipv4 : m2.ipv6)!;
  const port = randomInt(20_000, 60_000);
  const common = ["--interface", mr.name, "--port", String(port)];

  const asm = await startReceiver(r, [group, ...common]);
  const ssm = await startReceiver(r, [group, "--source", src1, ...common]);
  await Promise.all([
    send(s1, group, { source: src1, iface: m1.name, port, ttl: 8, dscp: 46 }),
    // Eight source ports: a regression to SO_REUSEPORT would misdeliver some of them (see the
    // module doc of lib/subscription.ts) with probability 1 - 2^-8.
    send(s2, group, { source: src2, iface: m2.name, port, ttl: 5, dscp: 10, sockets: 8 }),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 300)); // datagrams still in flight
  const [asmReport, ssmReport] = [await stopReceiver(asm), await stopReceiver(ssm)];

  assert.deepEqual(ssmReport.mcas, { [src1]: COUNT }, "the (S,G) receiver counts only S");
  assert.deepEqual(ssmReport.unique, { [src1]: COUNT });
  assert.deepEqual(asmReport.mcas, { [src1]: COUNT, [src2]: COUNT }, "ASM counts both");
  assert.deepEqual(asmReport.unique, { [src1]: COUNT, [src2]: COUNT });
  for (const report of [asmReport, ssmReport]) {
    assert.equal(report.foreign, 0);
    assert.equal(report.truncated, 0);
    // A bridge does not route: TTL / hop limit and DSCP arrive as sent.
    assert.equal(report.ttl[src1], 8);
    assert.equal(report.tos[src1], 46 << 2);
    assert.deepEqual(report.destinations, [group]);
    assert.deepEqual(report.interfaces, [await interfaceIndexIn(r, mr.name)]);
  }
  assert.equal(asmReport.ttl[src2], 5);
  assert.equal(asmReport.tos[src2], 10 << 2);
}

labTest(
  "subscription lab: (S,G) counts only S while ASM beside it counts both, IPv4 232/8",
  (lab) => ssmFilterScenario(lab, 4),
);

labTest(
  "subscription lab: (S,G) counts only S while ASM beside it counts both, IPv6 ff3e::/32 MLDv2",
  (lab) => ssmFilterScenario(lab, 6),
);

// --- membership reports on the wire -----------------------------------------------------------

/** One group record of an IGMPv3 or MLDv2 report (or the single group of a v1/v2 message). */
interface GroupRecord {
  /** Record type: 1 MODE_IS_INCLUDE … 6 BLOCK_OLD_SOURCES; 0 for v1/v2 messages. */
  type: number;
  group: string;
  sources: string[];
}

/** A membership message found in a capture. */
interface MembershipMessage {
  /** `igmpv3-report` (0x22), `igmpv2-report` (0x16), `igmpv2-leave` (0x17), `mldv2-report` (143), … */
  kind: string;
  src: string;
  records: GroupRecord[];
}

const IGMP_KINDS: Record<number, string> = {
  0x11: "igmp-query",
  0x12: "igmpv1-report",
  0x16: "igmpv2-report",
  0x17: "igmpv2-leave",
  0x22: "igmpv3-report",
};

const MLD_KINDS: Record<number, string> = {
  130: "mld-query",
  131: "mldv1-report",
  132: "mldv1-done",
  143: "mldv2-report",
};

function ipv4Text(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6Text(b: Uint8Array, at: number): string {
  const fields: string[] = [];
  for (let i = 0; i < 16; i += 2) fields.push(((b[at + i] << 8) | b[at + i + 1]).toString(16));
  // Compress the longest run of zero fields (RFC 5952), enough for comparing with our inputs.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (fields[i] !== "0") {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && fields[end] === "0") end++;
    if (end - i > bestLength) [best, bestLength] = [i, end - i];
    i = end;
  }
  if (best < 0) return fields.join(":");
  return `${fields.slice(0, best).join(":")}::${fields.slice(best + bestLength).join(":")}`;
}

/**
 * Reads IGMP and MLD messages out of a libpcap file (Ethernet or Linux cooked framing): the
 * harness's reader stops at UDP, so the membership protocols are decoded here.
 */
function membershipMessages(file: Uint8Array): MembershipMessage[] {
  const out: MembershipMessage[] = [];
  if (file.length < 24) return out;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, true);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  assert.ok(little || magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1, "not a libpcap file");
  const linkType = view.getUint32(20, little);
  for (let at = 24; at + 16 <= file.length;) {
    const captured = view.getUint32(at + 8, little);
    const frame = file.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    let etherType: number;
    let ip: Uint8Array;
    if (linkType === 1 && frame.length >= 14) {
      etherType = (frame[12] << 8) | frame[13];
      ip = frame.subarray(14);
    } else if (linkType === 113 && frame.length >= 16) {
      etherType = (frame[14] << 8) | frame[15];
      ip = frame.subarray(16);
    } else continue;
    if (etherType === 0x0800 && ip.length >= 20 && ip[9] === 2) {
      const igmp = ip.subarray((ip[0] & 0x0f) * 4);
      const kind = IGMP_KINDS[igmp[0]] ?? `igmp-${igmp[0]}`;
      const records: GroupRecord[] = [];
      if (igmp[0] === 0x22) {
        let r = 8;
        for (let n = (igmp[6] << 8) | igmp[7]; n > 0 && r + 8 <= igmp.length; n--) {
          const sourceCount = (igmp[r + 2] << 8) | igmp[r + 3];
          const sources = Array.from(
            { length: sourceCount },
            (_, i) => ipv4Text(igmp, r + 8 + 4 * i),
          );
          records.push({ type: igmp[r], group: ipv4Text(igmp, r + 4), sources });
          r += 8 + 4 * sourceCount + 4 * igmp[r + 1];
        }
      } else if (igmp.length >= 8) {
        records.push({ type: 0, group: ipv4Text(igmp, 4), sources: [] });
      }
      out.push({ kind, src: ipv4Text(ip, 12), records });
    } else if (etherType === 0x86dd && ip.length >= 40) {
      let next = ip[6];
      let offset = 40;
      while ((next === 0 || next === 43 || next === 60) && offset + 2 <= ip.length) {
        next = ip[offset];
        offset += (ip[offset + 1] + 1) * 8;
      }
      if (next !== 58 || offset + 8 > ip.length) continue;
      const icmp = ip.subarray(offset);
      const kind = MLD_KINDS[icmp[0]];
      if (kind === undefined) continue;
      const records: GroupRecord[] = [];
      if (icmp[0] === 143) {
        let r = 8;
        for (let n = (icmp[6] << 8) | icmp[7]; n > 0 && r + 20 <= icmp.length; n--) {
          const sourceCount = (icmp[r + 2] << 8) | icmp[r + 3];
          const sources = Array.from(
            { length: sourceCount },
            (_, i) => ipv6Text(icmp, r + 20 + 16 * i),
          );
          records.push({ type: icmp[r], group: ipv6Text(icmp, r + 4), sources });
          r += 20 + 16 * sourceCount + 4 * icmp[r + 1];
        }
      } else if (icmp.length >= 24) {
        records.push({ type: 0, group: ipv6Text(icmp, 8), sources: [] });
      }
      out.push({ kind, src: ipv6Text(ip, 8), records });
    }
  }
  return out;
}

function describe(messages: MembershipMessage[]): string {
  return JSON.stringify(messages);
}

/** A receiver host linked to a peer that captures; runs one receiver for `durationMs`. */
async function joinAndCapture(
  lab: Lab,
  options: { family: 4 | 6; group: (peer: string) => string; source?: boolean; extra?: string[] },
): Promise<{
  messages: MembershipMessage[];
  report: ReceiverReport;
  receiverAddress: string;
  peerAddress: string;
  group: string;
  r: Namespace;
  iface: string;
}> {
  const r = await lab.addNamespace("r");
  const peer = await lab.addNamespace("peer");
  const link = await lab.link(r, peer);
  const peerAddress = (options.family === 4 ? link.b.ipv4 : link.b.ipv6)!;
  const group = options.group(peerAddress);
  const capture = await peer.capture(link.b.name, {
    filter: options.family === 4 ? "igmp" : "ip6",
  });
  const args = [group, "--interface", link.a.name, ...(options.extra ?? [])];
  if (options.source) args.push("--source", peerAddress);
  const receiver = await startReceiver(r, args);
  await new Promise((resolve) => setTimeout(resolve, 700)); // the unsolicited reports
  const report = await stopReceiver(receiver);
  const path = await capture.stop(700); // and the leave
  const messages = membershipMessages(await Deno.readFile(path));
  const receiverAddress = (options.family === 4 ? link.a.ipv4 : link.a.ipv6)!;
  return { messages, report, receiverAddress, peerAddress, group, r, iface: link.a.name };
}

labTest("subscription lab: an SSM join sends an IGMPv3 report naming the source", async (lab) => {
  const { messages, receiverAddress, peerAddress, group } = await joinAndCapture(lab, {
    family: 4,
    group: () => `232.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`,
    source: true,
  });
  const v3 = messages.filter((m) => m.kind === "igmpv3-report" && m.src === receiverAddress);
  const records = v3.flatMap((m) => m.records).filter((rec) => rec.group === group);
  // Joining (S,G): ALLOW_NEW_SOURCES (5) or an INCLUDE record (1, 3) naming S.
  assert.ok(
    records.some((rec) => [1, 3, 5].includes(rec.type) && rec.sources.includes(peerAddress)),
    `no IGMPv3 include/allow record for (${peerAddress}, ${group}): ${describe(messages)}`,
  );
  // Leaving (S,G) on dispose: BLOCK_OLD_SOURCES (6) naming S.
  assert.ok(
    records.some((rec) => rec.type === 6 && rec.sources.includes(peerAddress)),
    `no IGMPv3 block record for (${peerAddress}, ${group}): ${describe(messages)}`,
  );
  assert.ok(!messages.some((m) => m.kind === "igmpv2-report" && m.records[0].group === group));
}, { requires: ["tcpdump"] });

labTest(
  "subscription lab: with IGMPv2 forced an ASM join sends a v2 report and the sysctl comes back",
  async (lab) => {
    const { messages, report, receiverAddress, group, r, iface } = await joinAndCapture(lab, {
      family: 4,
      group: () => `239.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`,
      extra: ["--igmp-version", "2"],
    });
    // A fresh namespace's interface starts at 0; the receiver set 2 and put 0 back.
    assert.equal(report.forced, "forced");
    assert.equal(report.previous, 0);
    assert.equal(await r.readSysctl(`net.ipv4.conf.${iface}.force_igmp_version`), "0");
    const fromReceiver = messages.filter((m) => m.src === receiverAddress);
    assert.ok(
      fromReceiver.some((m) => m.kind === "igmpv2-report" && m.records[0].group === group),
      `no IGMPv2 report for ${group}: ${describe(messages)}`,
    );
    assert.ok(
      !fromReceiver.some((m) =>
        m.kind === "igmpv3-report" && m.records.some((rec) => rec.group === group)
      ),
      `an IGMPv3 report for ${group} although v2 was forced: ${describe(messages)}`,
    );
    assert.ok(
      fromReceiver.some((m) => m.kind === "igmpv2-leave" && m.records[0].group === group),
      `no IGMPv2 leave for ${group}: ${describe(messages)}`,
    );
  },
  { requires: ["tcpdump"] },
);

labTest(
  "subscription lab: a non-default force_igmp_version is restored after a forced-v2 run",
  async (lab) => {
    const r = await lab.addNamespace("r");
    const peer = await lab.addNamespace("peer");
    const link = await lab.link(r, peer);
    const key = `net.ipv4.conf.${link.a.name}.force_igmp_version`;
    await r.sysctl(key, 3);
    const receiver = await startReceiver(r, [
      `239.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`,
      "--interface",
      link.a.name,
      "--igmp-version",
      "2",
    ]);
    assert.equal(await r.readSysctl(key), "2", "forced while the receiver runs");
    const report = await stopReceiver(receiver);
    assert.equal(report.forced, "forced");
    assert.equal(report.previous, 3);
    assert.equal(await r.readSysctl(key), "3", "restored after it stopped");
  },
);

labTest(
  "subscription lab: an IPv6 SSM join sends an MLDv2 report naming the source",
  async (lab) => {
    const { messages, peerAddress, group } = await joinAndCapture(lab, {
      family: 6,
      group: () => `ff3e::${randomInt(0x1000, 0xffff).toString(16)}`,
      source: true,
    });
    const records = messages.filter((m) => m.kind === "mldv2-report").flatMap((m) => m.records)
      .filter((rec) => rec.group === group);
    assert.ok(
      records.some((rec) => [1, 3, 5].includes(rec.type) && rec.sources.includes(peerAddress)),
      `no MLDv2 include/allow record for (${peerAddress}, ${group}): ${describe(messages)}`,
    );
    assert.ok(
      records.some((rec) => rec.type === 6 && rec.sources.includes(peerAddress)),
      `no MLDv2 block record for (${peerAddress}, ${group}): ${describe(messages)}`,
    );
  },
  { requires: ["tcpdump"] },
);

labTest("subscription lab: a link-scoped IPv6 group is joined through its %zone", async (lab) => {
  const r = await lab.addNamespace("r");
  const s = await lab.addNamespace("s");
  const link = await lab.link(r, s);
  const group = `ff12::${randomInt(0x1000, 0xffff).toString(16)}`;
  const port = randomInt(20_000, 60_000);
  const receiver = await startReceiver(r, [`${group}%${link.a.name}`, "--port", String(port)]);
  await send(s, group, { source: link.b.ipv6!, iface: link.b.name, port, ttl: 1 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const report = await stopReceiver(receiver);
  assert.deepEqual(report.mcas, { [link.b.ipv6!]: COUNT });
  assert.equal(report.ttl[link.b.ipv6!], 1);
  assert.deepEqual(report.destinations, [group]);
  assert.deepEqual(report.interfaces, [await interfaceIndexIn(r, link.a.name)]);
});
