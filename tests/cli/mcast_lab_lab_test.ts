// mcast-lab end to end (issue #12, "Done when"): each topology is brought up, mcast-send and
// mcast-receive run across it through `mcast-lab exec` (the wrappers on PATH, with the tools'
// least permissions), the receiver's verdicts are asserted, and `down` leaves no namespace,
// process or file behind — also after `up` was killed with SIGKILL or stopped by SIGTERM halfway.
// labTest gives the root/CI skip rules and the time limit; mcast-lab builds its own namespaces
// (mlab-<lab>-<host>), so every test takes its lab down in a finally and checks what is left.
// Every sender sends a fixed count; every wait is bounded.

import assert from "node:assert/strict";
import { type LabProcess, labTest, parsePcap } from "../lab/mod.ts";
import {
  assertLabGone,
  lossPercent,
  namespacesOf,
  runLab,
  runLabOk,
  spawnLab,
  uniqueLabName,
  waitForNamespaces,
  withLab,
} from "./_mcast_lab.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface SenderSummary {
  source: string;
  packets: number;
  ttl: { received: number; original: number; hops: number };
  dscp: { received: string | number; original: string | number; remarked: boolean };
}

interface ReceiverSummary {
  group: string;
  interface: string;
  igmp_version?: number;
  status: string;
  totals: { packets: number; lost: number; duplicates: number; loss_pct?: number };
  senders: SenderSummary[];
  querier?: { address: string; version: number; last_seen_s: number } | null;
}

/** Waits (bounded) until `host` of lab `name` has joined `group` (mcast-status in the lab). */
async function waitJoined(name: string, host: string, group: string, receiver: LabProcess) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const result = await runLab(["exec", `${name}/${host}`, "--", "mcast-status", "--json"]);
    assert.equal(result.code, 0, `mcast-status in ${host}: ${result.stderr}`);
    const state = JSON.parse(result.stdout) as {
      interfaces: Array<{ groups: Array<{ group: string }> }>;
    };
    if (state.interfaces.some((i) => i.groups.some((g) => g.group === group))) return;
    if (receiver.exited) {
      const { code, stderr } = await receiver.wait();
      throw new Error(`receiver on ${host} exited early (${code}): ${stderr}`);
    }
    await sleep(200);
  }
  throw new Error(`${host} did not join ${group} within 20 s`);
}

/**
 * Starts `mcast-receive <rxArgs> --json` on `rxHost`, waits until it has joined, runs
 * `mcast-send <group> <txArgs>` on the sender, then ends the receiver with SIGINT (mcast-lab
 * passes it on) and returns its summary.
 */
async function exchange(
  name: string,
  rxHost: string,
  rxArgs: string[],
  txArgs: string[],
): Promise<ReceiverSummary> {
  const group = rxArgs[0];
  const receiver = spawnLab([
    "exec",
    `${name}/${rxHost}`,
    "--",
    "mcast-receive",
    ...rxArgs,
    "--json",
    "--duration",
    "30",
  ]);
  try {
    await waitJoined(name, rxHost, group, receiver);
    const sent = await runLab(["exec", `${name}/sender`, "--", "mcast-send", group, ...txArgs]);
    assert.equal(sent.code, 0, `mcast-send: ${sent.stderr}`);
    await sleep(500);
    receiver.kill("SIGINT");
    const result = await receiver.wait();
    assert.equal(
      result.code,
      0,
      `mcast-receive on ${rxHost}: exit ${result.code}: ${result.stderr}`,
    );
    return JSON.parse(result.stdout) as ReceiverSummary;
  } finally {
    await receiver.stop();
  }
}

labTest("mcast-lab routed: IPv4 and IPv6 cross one router, 1 hop, through exec", async () => {
  const name = uniqueLabName();
  await withLab(name, ["routed"], async (map) => {
    assert.match(map, new RegExp(`lab "${name}" is up: routed`));
    assert.match(map, /rt1: smcroute/);
    assert.match(map, new RegExp(`mcast-lab exec ${name}/r1 -- CMD`));
    const send = ["--count", "100", "--rate", "200pps", "--quiet"];
    const v4 = await exchange(name, "r1", ["232.1.1.1", "10.0.1.10", "--expect-hops", "1"], send);
    assert.equal(v4.totals.packets, 100);
    assert.equal(v4.senders[0].source, "10.0.1.10");
    assert.equal(v4.senders[0].ttl.hops, 1);
    assert.equal(v4.senders[0].ttl.received, 99);
    assert.equal(v4.senders[0].dscp.remarked, false);
    const v6 = await exchange(name, "r3", ["ff3e::8000:1", "fd00:0:0:1::10"], send);
    assert.equal(v6.totals.packets, 100);
    assert.equal(v6.senders[0].source, "fd00:0:0:1::10");
    assert.equal(v6.senders[0].ttl.hops, 1);
  });
}, { requires: ["smcrouted"], timeoutMs: 90_000 });

labTest("mcast-lab campus: two routers, 2 hops and REMARKED; r3 behind rt1 is 1 hop", async () => {
  const name = uniqueLabName();
  await withLab(name, ["campus"], async (map) => {
    assert.match(map, /rt2: nft on forwarded multicast UDP: remarks DSCP to AF11/);
    const send = ["--count", "60", "--rate", "200pps", "--dscp", "ef", "--quiet"];
    const far = await exchange(name, "r1", ["232.1.2.3", "10.0.1.10", "--expect-hops", "2"], send);
    assert.equal(far.totals.packets, 60);
    assert.deepEqual(
      { hops: far.senders[0].ttl.hops, ...far.senders[0].dscp },
      {
        hops: 2,
        received: "af11",
        original: "ef",
        remarked: true,
        remarked_packets: 60,
        seen: { af11: 60 },
      },
    );
    const near = await exchange(name, "r3", ["232.1.2.3", "10.0.1.10"], send);
    assert.equal(near.senders[0].ttl.hops, 1);
    assert.equal(near.senders[0].dscp.remarked, false);
  });
}, { requires: ["smcrouted", "nft"], timeoutMs: 90_000 });

labTest("mcast-lab --drop 10: the receiver loses between 5 and 15 %", async () => {
  const name = uniqueLabName();
  await withLab(name, ["routed", "--drop", "10"], async (map) => {
    assert.match(map, /rt1: nft on forwarded multicast UDP: drops 10 % at random/);
    const summary = await exchange(name, "r2", ["239.7.7.7"], [
      "--count",
      "1000",
      "--rate",
      "1000pps",
      "--quiet",
    ]);
    const loss = lossPercent(summary);
    assert.ok(
      loss >= 5 && loss <= 15,
      `loss ${loss.toFixed(2)} % (${JSON.stringify(summary.totals)})`,
    );
  });
}, { requires: ["smcrouted", "nft"], timeoutMs: 90_000 });

/**
 * The receiver on `host` reports an IGMPv2 querier. Today that is what the host's kernel and the
 * wire show: /proc/net/igmp's Querier column says V2, and tcpdump sees IGMPv2 queries (type
 * 0x11, an 8-byte message; IGMPv3 queries are 12 bytes or more). When mcast-receive's JSON
 * carries `querier` (CONTRACT), the summary's own report is asserted here too.
 */
async function assertIgmpV2Querier(name: string, host: string, summary: ReceiverSummary) {
  const deadline = Date.now() + 15_000;
  let igmp = "";
  while (Date.now() < deadline) {
    igmp = await runLabOk(["exec", `${name}/${host}`, "--", "cat", "/proc/net/igmp"]);
    if (/^\d+\s+eth0\s*:\s*\d+\s+V2\s*$/m.test(igmp)) break;
    await sleep(200);
  }
  assert.match(igmp, /^\d+\s+eth0\s*:\s*\d+\s+V2\s*$/m, igmp);
  const pcap = await Deno.makeTempFile({ prefix: `mcast-lab-${name}-`, suffix: ".pcap" });
  try {
    // The querier asks every 10 s: one query arrives within 12 s.
    const capture = await runLab([
      "exec",
      `${name}/${host}`,
      "--",
      "timeout",
      "15",
      "tcpdump",
      "-n",
      "-i",
      "eth0",
      "-c",
      "1",
      "-U",
      "-w",
      pcap,
      "igmp[0] == 0x11",
    ], { timeoutMs: 20_000 });
    assert.equal(capture.code, 0, `tcpdump: ${capture.stderr}`);
    const [query] = parsePcap(await Deno.readFile(pcap));
    assert.equal(query.protocol, 2);
    assert.equal(query.dst, "224.0.0.1");
    assert.equal(query.transport?.[0], 0x11);
    assert.equal(query.transport?.length, 8, "an IGMPv2 query is 8 bytes");
  } finally {
    await Deno.remove(pcap).catch(() => {});
  }
  assert.equal(summary.igmp_version, 2, "the receiver's membership runs IGMPv2");
  assert.equal(summary.querier?.version, 2, JSON.stringify(summary.querier));
  assert.equal(summary.querier?.address, "10.0.1.2");
}

labTest("mcast-lab lan --querier v2: the receiver reports an IGMPv2 querier", async () => {
  const name = uniqueLabName();
  await withLab(name, ["lan", "--querier", "v2"], async (map) => {
    assert.match(map, /sw: bridge br0, IGMP\/MLD snooping, querier IGMPv2 \+ MLDv1/);
    const summary = await exchange(name, "r2", ["239.2.2.2"], ["--count", "40", "--quiet"]);
    assert.equal(summary.totals.packets, 40);
    assert.equal(summary.senders[0].ttl.hops, 0);
    await assertIgmpV2Querier(name, "r2", summary);
  });
}, { requires: ["tcpdump"], timeoutMs: 90_000 });

labTest("mcast-lab: status, exec, shell and the refusals of a lab that is up", async () => {
  const name = uniqueLabName();
  await withLab(name, ["lan"], async () => {
    const status = JSON.parse(await runLabOk(["status", "--json"]));
    const lab = status.labs.find((l: { name: string }) => l.name === name);
    assert.deepEqual(Object.keys(status), ["labs"]);
    assert.deepEqual(Object.keys(lab), ["name", "topology", "hosts"]);
    assert.equal(lab.topology, "lan");
    assert.deepEqual(
      lab.hosts.map((h: { name: string; role: string }) => `${h.name}:${h.role}`),
      ["sender:sender", "sw:switch", "r1:receiver", "r2:receiver", "r3:receiver"],
    );
    const r1 = lab.hosts.find((h: { name: string }) => h.name === "r1");
    assert.deepEqual(r1.interfaces, [{ name: "eth0", ipv4: "10.0.1.11", ipv6: "fd00:0:0:1::11" }]);
    const text = await runLabOk(["status"]);
    assert.match(text, new RegExp(`^${name}\\s+lan\\s+up$`, "m"));

    // exec: the exit code passes through; the tools are the lab's wrappers.
    const seven = await runLab(["exec", `${name}/r1`, "--", "sh", "-c", "exit 7"]);
    assert.equal(seven.code, 7);
    const where = await runLabOk(["exec", `${name}/r1`, "--", "sh", "-c", "command -v mcast-send"]);
    assert.equal(where.trim(), `/run/mcast/labs/${name}/bin/mcast-send`);
    const addr = await runLabOk([
      "exec",
      `${name}/r3`,
      "--",
      "ip",
      "-br",
      "-4",
      "addr",
      "show",
      "eth0",
    ]);
    assert.match(addr, /10\.0\.1\.13\/24/);

    // shell: a prompt naming the host, the environment set.
    const shell = await runLab(["shell", `${name}/r2`], {
      stdin: 'echo "host=$MCAST_LAB_HOST"; command -v mcast-receive\n',
    });
    assert.equal(shell.code, 0, shell.stderr);
    assert.match(shell.stdout, new RegExp(`host=${name}/r2`));
    assert.match(shell.stdout, new RegExp(`/run/mcast/labs/${name}/bin/mcast-receive`));
    assert.match(shell.stderr, new RegExp(`\\[mcast-lab ${name}/r2\\]`));

    // Refusals: a second up of the name (exit 1), an unknown host (exit 2, naming it).
    const again = await runLab(["up", "lan", "--name", name]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`Lab ${name} is already up`));
    const unknown = await runLab(["exec", `${name}/r9`, "--", "true"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^mcast-lab: Invalid host: "r9" \(expected a host of lab/);
    assert.equal(unknown.stderr.trim().split("\n").length, 1);
  });
}, { timeoutMs: 90_000 });

labTest("mcast-lab: down after up was killed (SIGKILL) halfway leaves nothing", async () => {
  const name = uniqueLabName();
  const up = spawnLab(["up", "campus", "--name", name]);
  try {
    await waitForNamespaces(name, 3, up);
    up.kill("SIGKILL");
    await up.wait();
    assert.ok((await namespacesOf(name)).length >= 3, "the killed up left its namespaces");
    const status = JSON.parse(await runLabOk(["status", "--json"]));
    assert.ok(status.labs.some((l: { name: string }) => l.name === name), "status lists it");
    assert.match(await runLabOk(["status"]), new RegExp(`^${name}\\s+campus\\s+incomplete$`, "m"));
    const again = await runLab(["up", "campus", "--name", name]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /half-built/);
    assert.match(await runLabOk(["down", name]), new RegExp(`Lab ${name} removed`));
  } finally {
    await up.stop();
    if ((await namespacesOf(name)).length > 0) await runLab(["down", name]);
  }
  await assertLabGone(name);
}, { requires: ["smcrouted", "nft"], timeoutMs: 60_000 });

labTest("mcast-lab: SIGTERM during up removes what it built", async () => {
  const name = uniqueLabName();
  const up = spawnLab(["up", "routed", "--name", name]);
  try {
    await waitForNamespaces(name, 2, up);
    up.kill("SIGTERM");
    const result = await up.wait();
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`Interrupted: lab ${name} removed again`));
  } finally {
    await up.stop();
    if ((await namespacesOf(name)).length > 0) await runLab(["down", name]);
  }
  await assertLabGone(name);
}, { requires: ["smcrouted"], timeoutMs: 60_000 });

labTest("mcast-lab: namespaces it did not make are refused and left alone", async () => {
  const name = uniqueLabName();
  // A namespace with the lab's prefix but no record (as if someone else had made it).
  const foreign = `mlab-${name}-x`;
  const ip = (args: string[]) => new Deno.Command("ip", { args }).output();
  assert.equal((await ip(["netns", "add", foreign])).code, 0);
  try {
    const up = await runLab(["up", "lan", "--name", name]);
    assert.equal(up.code, 1);
    assert.match(up.stderr, new RegExp(`Namespaces ${foreign} exist but mcast-lab has no record`));
    const down = await runLab(["down", name]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`No record of lab ${name}, but namespaces ${foreign}`));
    const status = await runLabOk(["status"]);
    assert.match(
      status,
      new RegExp(`without a record \\(not mcast-lab's, left alone\\): .*${foreign}`),
    );
    assert.deepEqual(await namespacesOf(name), [foreign], "the foreign namespace is still there");
  } finally {
    await ip(["netns", "del", foreign]);
  }
  await assertLabGone(name);
}, { timeoutMs: 60_000 });
