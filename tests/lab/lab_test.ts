import assert from "node:assert/strict";
import {
  cleanupStaleLabs,
  findOnPath,
  formatIpv6,
  hasTshark,
  Lab,
  LAB_PREFIX,
  LabProcess,
  labTest,
  listLabNamespaces,
  type Namespace,
  parsePcap,
  tsharkPackets,
} from "./mod.ts";

const UDP_TOOL = new URL("./_udp_tool.ts", import.meta.url).pathname;
const TIMEOUT_FIXTURE = new URL("./_lab_fixture.ts", import.meta.url).pathname;
const DENO_NET = { flags: ["--allow-all", "--unstable-net"] };

interface Received {
  from: string;
  data: string;
}

function parseLines(stdout: string): Received[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** Start a receiver in `ns`, wait until it is bound, run `send`, and return what arrived. */
async function exchange(
  ns: Namespace,
  recvArgs: string[],
  send: () => Promise<unknown>,
): Promise<Received[]> {
  const receiver = ns.spawnDeno(UDP_TOOL, { ...DENO_NET, args: ["recv", ...recvArgs] });
  await receiver.waitForOutput(/ready \d+/, 20_000);
  await send();
  const result = await receiver.wait();
  assert.equal(result.code, 0, `receiver failed: ${result.stderr}`);
  return parseLines(result.stdout);
}

async function sendFrom(ns: Namespace, address: string, port: number, message: string, count = 1) {
  const result = await ns.runDeno(UDP_TOOL, {
    ...DENO_NET,
    args: ["send", address, String(port), message, String(count)],
  });
  assert.equal(result.code, 0, `sender failed: ${result.stderr}`);
}

labTest("two namespaces on a veth link exchange IPv4 and IPv6 unicast", async (lab) => {
  const a = await lab.addNamespace("a");
  const b = await lab.addNamespace("b");
  const link = await lab.link(a, b);
  assert.equal(link.a.name, "veth0");
  assert.equal(link.a.ipv4, "10.100.1.1");
  assert.equal(link.b.ipv6, "fd00:100:1::2");

  const got4 = await exchange(
    b,
    [link.b.ipv4!, "40001", "2", "10000"],
    () => sendFrom(a, link.b.ipv4!, 40001, "v4", 2),
  );
  assert.deepEqual(got4, [{ from: "10.100.1.1", data: "v4 0" }, {
    from: "10.100.1.1",
    data: "v4 1",
  }]);

  const got6 = await exchange(
    a,
    [link.a.ipv6!, "40002", "1", "10000"],
    () => sendFrom(b, link.a.ipv6!, 40002, "v6"),
  );
  assert.deepEqual(got6, [{ from: "fd00:100:1::2", data: "v6 0" }]);

  if (findOnPath("ping")) {
    const ping4 = await a.run(["ping", "-c", "1", "-W", "2", link.b.ipv4!]);
    assert.equal(ping4.code, 0, ping4.stdout + ping4.stderr);
    const ping6 = await a.run(["ping", "-6", "-c", "1", "-W", "2", link.b.ipv6!]);
    assert.equal(ping6.code, 0, ping6.stdout + ping6.stderr);
  }
  // The host's root namespace never sees the veths.
  const rootLinks = await new Deno.Command("ip", { args: ["-o", "link"] }).output();
  assert.ok(!new TextDecoder().decode(rootLinks.stdout).includes(`${a.name}`));
});

labTest("a bridged LAN of three members floods IPv4 and IPv6 multicast", async (lab) => {
  const hosts = [
    await lab.addNamespace("h1"),
    await lab.addNamespace("h2"),
    await lab.addNamespace("h3"),
  ];
  const lan = await lab.addLan("lan", hosts);
  assert.deepEqual(lan.members.map((m) => m.ipv4), ["10.100.1.1", "10.100.1.2", "10.100.1.3"]);
  assert.equal(await lan.ns.readSysctl("net/ipv6/conf/br0/accept_dad"), "0");
  const snooping = await lan.ns.run(["cat", "/sys/class/net/br0/bridge/multicast_snooping"]);
  assert.equal(snooping.stdout.trim(), "0");

  // Unicast h3 -> h1 across the bridge.
  const uni = await exchange(
    hosts[0],
    ["0.0.0.0", "40010", "1", "10000"],
    () => sendFrom(hosts[2], lan.members[0].ipv4!, 40010, "across"),
  );
  assert.deepEqual(uni, [{ from: "10.100.1.3", data: "across" + " 0" }]);

  // IPv4 multicast from h1 to h2 and h3, nobody naming an interface: the 224.0.0.0/4 route does it.
  for (const [group, port] of [["239.1.2.3", 40011], ["ff0e::123", 40012]] as const) {
    const receivers = [hosts[1], hosts[2]].map((ns) =>
      ns.spawnDeno(UDP_TOOL, {
        ...DENO_NET,
        args: ["recv", group.includes(":") ? "::" : "0.0.0.0", String(port), "1", "10000", group],
      })
    );
    for (const r of receivers) await r.waitForOutput(/ready/, 20_000);
    await sendFrom(hosts[0], group, port, "mc");
    for (const r of receivers) {
      const result = await r.wait();
      assert.equal(result.code, 0, `${group}: ${result.stderr}`);
      const [got] = parseLines(result.stdout);
      assert.equal(got.data, "mc 0");
      assert.equal(got.from, group.includes(":") ? "fd00:100:1::1" : "10.100.1.1");
    }
  }
});

labTest("disposal deletes every namespace, also when the body throws", async () => {
  let names: string[] = [];
  let sleeper;
  await assert.rejects(async () => {
    await using inner = await Lab.create();
    const x = await inner.addNamespace("x");
    const y = await inner.addRouter("y");
    await inner.link(x, y);
    assert.equal(await y.readSysctl("net.ipv4.ip_forward"), "1");
    assert.equal(await y.readSysctl("net.ipv6.conf.all.forwarding"), "1");
    sleeper = x.spawn(["sleep", "1000"]);
    names = inner.namespaces.map((n) => n.name);
    assert.equal(names.length, 2);
    assert.ok(names.every((n) => n.startsWith(`${LAB_PREFIX}${Deno.pid}-`)));
    const present = await listLabNamespaces();
    assert.ok(names.every((n) => present.includes(n)));
    throw new Error("body failed on purpose");
  }, /body failed on purpose/);
  const after = await listLabNamespaces();
  assert.deepEqual(names.filter((n) => after.includes(n)), []);
  assert.ok(sleeper!.exited, "spawned process was killed");
});

labTest("close() is idempotent and the lab refuses new work afterwards", async () => {
  const inner = await Lab.create();
  await inner.addNamespace("solo");
  await Promise.all([inner.close(), inner.close()]);
  await assert.rejects(() => inner.addNamespace("late"), /is closed/);
  assert.deepEqual(
    (await listLabNamespaces()).filter((n) => n.startsWith(inner.id + "-")),
    [],
  );
});

labTest("cleanupStaleLabs removes namespaces of dead runs only", async (lab) => {
  const live = await lab.addNamespace("live");
  // Above pid_max: no such process. Our pid in the second field keeps two runs at once apart; the
  // other run's own clean-up may take ours first, so what counts is that it is gone afterwards.
  const stale = `${LAB_PREFIX}4194305-${Deno.pid}-stale`;
  await new Deno.Command("ip", { args: ["netns", "add", stale] }).output();
  try {
    assert.ok((await listLabNamespaces()).includes(stale));
    const deleted = await cleanupStaleLabs();
    assert.ok(!deleted.includes(live.name));
    const present = await listLabNamespaces();
    assert.ok(!present.includes(stale));
    assert.ok(present.includes(live.name));
  } finally {
    await new Deno.Command("ip", { args: ["netns", "del", stale], stderr: "null" }).output();
  }
});

labTest("tcpdump capture decodes payload, TTL, TOS and ports", async (lab) => {
  const a = await lab.addNamespace("a");
  const b = await lab.addNamespace("b");
  const link = await lab.link(a, b);
  const capture = await b.capture(link.b.name, { filter: "udp" });
  // Unicast from a Deno sender (TTL 64), then IPv6.
  await sendFrom(a, link.b.ipv4!, 40020, "hello", 3);
  await sendFrom(a, link.b.ipv6!, 40021, "six", 1);
  // Multicast from bash's /dev/udp: the kernel's multicast default TTL is 1.
  await a.run(["bash", "-c", "printf mcast > /dev/udp/239.9.9.9/40022"], { check: true });
  // DSCP marked by iptables inside the sender's namespace (EF = 46 for IPv4, AF11 = 10 for IPv6).
  const marking = findOnPath("iptables") && findOnPath("ip6tables");
  if (marking) {
    const rule = ["-t", "mangle", "-A", "OUTPUT", "-p", "udp", "--dport", "40023", "-j", "DSCP"];
    await a.run(["iptables", ...rule, "--set-dscp", "46"], { check: true });
    await a.run(["ip6tables", ...rule, "--set-dscp", "10"], { check: true });
    await sendFrom(a, link.b.ipv4!, 40023, "ef", 1);
    await sendFrom(a, link.b.ipv6!, 40023, "af11", 1);
  }
  const packets = await capture.packets();

  const v4 = packets.filter((p) => p.dstPort === 40020);
  assert.equal(v4.length, 3);
  assert.deepEqual(v4.map((p) => new TextDecoder().decode(p.payload)), [
    "hello 0",
    "hello 1",
    "hello 2",
  ]);
  for (const p of v4) {
    assert.equal(p.family, 4);
    assert.equal(p.src, "10.100.1.1");
    assert.equal(p.dst, "10.100.1.2");
    assert.equal(p.ttl, 64);
    assert.equal(p.tos, 0);
    assert.equal(p.protocol, 17);
    assert.ok(p.srcPort! > 0);
  }
  const [v6] = packets.filter((p) => p.dstPort === 40021);
  assert.equal(v6.family, 6);
  assert.equal(v6.src, "fd00:100:1::1");
  assert.equal(v6.dst, "fd00:100:1::2");
  assert.equal(v6.ttl, 64);
  assert.equal(new TextDecoder().decode(v6.payload), "six 0");
  const [mc] = packets.filter((p) => p.dstPort === 40022);
  assert.equal(mc.dst, "239.9.9.9");
  assert.equal(mc.ttl, 1);
  assert.equal(new TextDecoder().decode(mc.payload), "mcast");

  if (marking) {
    const marked = packets.filter((p) => p.dstPort === 40023);
    assert.deepEqual(marked.map((p) => [p.family, p.dscp, p.tos]), [[4, 46, 0xb8], [6, 10, 0x28]]);
  }
  if (hasTshark()) {
    const cross = await tsharkPackets(capture.path);
    // tshark's fields stop at UDP; our reader also keeps the raw transport bytes.
    assert.deepEqual(
      cross.map((p) => ({ ...p, time: 0 })),
      packets.map(({ transport: _, ...p }) => ({ ...p, time: 0 })),
    );
    for (const p of packets.filter((p) => p.protocol === 17)) {
      assert.deepEqual([...p.transport!.subarray(8)], [...p.payload!]);
    }
  }
}, { requires: ["tcpdump", "bash"] });

labTest(
  "a lab test that runs too long is failed and cleaned up; CI=true fails on missing tools",
  async () => {
    const run = async (env: Record<string, string>) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "--no-check", TIMEOUT_FIXTURE],
        env,
      }).output();
      return {
        code: out.code,
        text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      };
    };
    const ci = await run({ CI: "true", NO_COLOR: "1" });
    assert.notEqual(ci.code, 0);
    assert.match(ci.text, /times out \.\.\. .*FAILED/);
    assert.match(ci.text, /Lab test timed out after 1500 ms/);
    assert.match(ci.text, /Lab test cannot run under CI=true: missing mcl-no-such-program/);
    const local = await run({ CI: "false", NO_COLOR: "1" });
    assert.match(
      local.text,
      /SKIP lab test needs a missing tool: needs root and ip netns; missing mcl-no-such-program/,
    );
    assert.match(local.text, /needs a missing tool \.\.\. ignored/);
    // The fixture prints its namespace names; none may survive.
    const names = [...ci.text.matchAll(/fixture namespace (\S+)/g)].map((m) => m[1]);
    assert.ok(names.length > 0, ci.text);
    const present = await listLabNamespaces();
    assert.deepEqual(names.filter((n) => present.includes(n)), []);
  },
  { timeoutMs: 120_000 },
);

labTest("a lab prefix names the namespaces and scopes the clean-up to them", async () => {
  await assert.rejects(() => Lab.create({ prefix: "mcl" }), /Invalid lab prefix/);
  await using other = await Lab.create({ prefix: "mct-" });
  assert.equal(other.prefix, "mct-");
  const ns = await other.addNamespace("p");
  assert.match(ns.name, new RegExp(`^mct-${Deno.pid}-\\d+-p$`));
  assert.ok((await listLabNamespaces("mct-")).includes(ns.name));
  assert.ok(!(await listLabNamespaces()).includes(ns.name));
  const stale = `mct-4194305-${Deno.pid}-stale`; // above pid_max: no such process
  const staleDefault = `${LAB_PREFIX}4194307-${Deno.pid}-other-prefix`; // stale too, not mct-
  for (const name of [stale, staleDefault]) {
    await new Deno.Command("ip", { args: ["netns", "add", name] }).output();
  }
  try {
    const deleted = await cleanupStaleLabs({ prefix: "mct-" });
    assert.deepEqual(deleted.filter((n) => !n.startsWith("mct-")), []);
    assert.ok(!deleted.includes(ns.name));
    const present = await listLabNamespaces("mct-");
    assert.ok(!present.includes(stale));
    assert.ok(present.includes(ns.name));
  } finally {
    for (const name of [stale, staleDefault]) {
      await new Deno.Command("ip", { args: ["netns", "del", name], stderr: "null" }).output();
    }
  }
});

labTest(
  "run and spawn pin to a CPU, pipe stdin and end at a time limit without throwing",
  async (lab) => {
    const ns = await lab.addNamespace("exec");
    assert.deepEqual(ns.execArgv(["true"], 0).slice(3), [ns.name, "taskset", "-c", "0", "true"]);
    assert.throws(() => ns.execArgv(["true"], -1), /Invalid CPU number/);
    const pinned = await ns.run(["sh", "-c", "taskset -cp $$"], { cpu: 0, check: true });
    assert.match(pinned.stdout, /current affinity list: 0$/m);
    const hostPinned = await new LabProcess(["sh", "-c", "taskset -cp $$"], { cpu: 0 }).wait();
    assert.match(hostPinned.stdout, /current affinity list: 0$/m);
    const slow = await ns.run(["sleep", "10"], { timeoutMs: 200 });
    assert.deepEqual([slow.timedOut, slow.success], [true, false]);

    const reader = ns.spawn(["sh", "-c", "echo ready; read line; echo got $line"], {
      stdin: "piped",
      cpu: 0,
    });
    await reader.waitForOutput(/^ready$/m);
    await reader.write("go\n");
    const read = await reader.wait();
    assert.deepEqual([read.code, read.stdout, read.timedOut], [0, "ready\ngot go\n", false]);

    const hung = ns.spawn(["sleep", "30"], { timeoutMs: 200 });
    await assert.rejects(() => hung.write("x"), /No stdin to write to/);
    const ended = await hung.wait();
    assert.deepEqual([ended.timedOut, ended.success, ended.signal], [true, false, "SIGKILL"]);
  },
  { requires: ["taskset"] },
);

Deno.test("parsePcap decodes a hand-made Ethernet/IPv6/UDP record", () => {
  const udpPayload = [0x4d, 0x43];
  const ipv6 = [
    0x6b,
    0x80,
    0x00,
    0x00, // version 6, traffic class 0xb8 (EF), flow 0
    0x00,
    0x0a,
    17,
    7, // payload length 10, next header UDP, hop limit 7
    ...[0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], // fd00:10::1
    ...[0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x23], // ff0e::123
    0x9c,
    0x40,
    0x4d,
    0x43,
    0x00,
    0x0a,
    0x00,
    0x00, // ports 40000 -> 19779, length 10
    ...udpPayload,
  ];
  const frame = [...new Array(12).fill(0), 0x86, 0xdd, ...ipv6];
  const file = new Uint8Array(24 + 16 + frame.length);
  const view = new DataView(file.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 1, true);
  view.setUint32(24, 10, true);
  view.setUint32(28, 500_000, true);
  view.setUint32(32, frame.length, true);
  view.setUint32(36, frame.length, true);
  file.set(frame, 40);
  const [p] = parsePcap(file);
  assert.deepEqual([...p.transport!], ipv6.slice(40));
  assert.deepEqual({ ...p, payload: [...p.payload!], transport: undefined }, {
    time: 10.5,
    family: 6,
    src: "fd00:10::1",
    dst: "ff0e::123",
    ttl: 7,
    tos: 0xb8,
    dscp: 46,
    ecn: 0,
    protocol: 17,
    srcPort: 40000,
    dstPort: 19779,
    payload: udpPayload,
    transport: undefined,
    wireLength: frame.length,
  });
});

Deno.test("formatIpv6 follows RFC 5952", () => {
  const bytes = (hex: string) => new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  assert.equal(formatIpv6(bytes("20010db8000000000001000000000001")), "2001:db8::1:0:0:1");
  assert.equal(formatIpv6(bytes("00000000000000000000000000000000")), "::");
  assert.equal(formatIpv6(bytes("00000000000000000000000000000001")), "::1");
  assert.equal(formatIpv6(bytes("20010db8000100000001000100010001")), "2001:db8:1:0:1:1:1:1");
  assert.equal(formatIpv6(bytes("00000000000000000000ffffc0000201")), "::ffff:192.0.2.1");
});
