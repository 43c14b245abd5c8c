// `mcast-status` as a subprocess. The lab tests join groups in a fresh namespace (a python3
// socket holding an ASM and an SSM join per family on veth0) and check what the tool reports;
// the others check usage errors and the output format on this host (reading /proc only).

import assert from "node:assert/strict";
import { labTest, type Namespace } from "../lab/mod.ts";
import { taskFlags } from "../_task_flags.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCRIPT = new URL("../../cli/mcast_status.ts", import.meta.url).pathname;
// The permissions of `deno task mcast-status`.
const FLAGS = taskFlags("mcast-status");
const ESC = "\x1b";

interface Group {
  group: string;
  family: string;
  users: number;
  mode: string;
  sources: string[];
}
interface Iface {
  name: string;
  index: number;
  igmp_version: number | null;
  force_igmp_version: number | null;
  effective_igmp_version: number | null;
  mld_version: number | null;
  force_mld_version: number | null;
  effective_mld_version: number | null;
  groups: Group[];
}

function statusArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", ...FLAGS, SCRIPT, ...args];
}

interface HereResult {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

async function statusHere(args: string[]): Promise<HereResult> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, SCRIPT, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: err,
    lines: err.split("\n").filter((line) => line !== ""),
  };
}

async function statusJson(ns: Namespace, args: string[]): Promise<Iface[]> {
  const result = await ns.run(statusArgv(["--json", ...args]), { cwd: ROOT, timeoutMs: 20_000 });
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(parsed), ["all", "interfaces", "force_holders"]);
  return parsed.interfaces;
}

// Joins on one interface and holds the joins: IPv4 ASM 239.1.2.3, IPv4 SSM (S, 232.1.2.3),
// IPv6 ASM ff3e::8000:1, IPv6 SSM (S6, ff3e::8000:2). Prints READY; bounded to 60 s.
const JOINER = String.raw`
import socket, struct, sys, time
iface, src4, src6 = sys.argv[1], sys.argv[2], sys.argv[3]
index = socket.if_nametoindex(iface)
IP_ADD_SOURCE_MEMBERSHIP = getattr(socket, "IP_ADD_SOURCE_MEMBERSHIP", 39)
MCAST_JOIN_GROUP, MCAST_JOIN_SOURCE_GROUP = 42, 46

def storage6(addr):
    sin6 = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, addr), 0)
    return sin6 + bytes(128 - len(sin6))

v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v4.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
              socket.inet_aton("239.1.2.3") + socket.inet_aton("0.0.0.0") + struct.pack("=i", index))
ssm4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
local4 = sys.argv[4]
ssm4.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP,
                socket.inet_aton("232.1.2.3") + socket.inet_aton(local4) + socket.inet_aton(src4))
v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
v6.setsockopt(socket.IPPROTO_IPV6, MCAST_JOIN_GROUP,
              struct.pack("=I4x", index) + storage6("ff3e::8000:1"))
ssm6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
ssm6.setsockopt(socket.IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP,
                struct.pack("=I4x", index) + storage6("ff3e::8000:2") + storage6(src6))
print("READY", flush=True)
time.sleep(60)
`;

labTest(
  "mcast-status reports ASM and SSM joins, filters and the forced IGMP version",
  async (lab) => {
    const host = await lab.addNamespace("host");
    const peer = await lab.addNamespace("peer");
    const link = await lab.link(host, peer);
    assert.equal(link.a.name, "veth0");
    const joiner = host.spawn([
      "python3",
      "-c",
      JOINER,
      "veth0",
      link.b.ipv4!,
      link.b.ipv6!,
      link.a.ipv4!,
    ]);
    await joiner.waitForOutput(/READY/, 10_000);

    // Without --all: our four groups on veth0, no kernel defaults anywhere.
    const interfaces = await statusJson(host, []);
    for (const iface of interfaces) {
      assert.deepEqual(Object.keys(iface), [
        "name",
        "index",
        "igmp_version",
        "force_igmp_version",
        "effective_igmp_version",
        "mld_version",
        "force_mld_version",
        "effective_mld_version",
        "groups",
      ]);
      for (const group of iface.groups) {
        assert.deepEqual(Object.keys(group), ["group", "family", "users", "mode", "sources"]);
        assert.ok(!["224.0.0.1", "ff02::1", "ff01::1"].includes(group.group), group.group);
        assert.ok(!group.group.startsWith("ff02::1:ff"), group.group);
      }
    }
    const veth = interfaces.find((iface) => iface.name === "veth0");
    assert.ok(veth, JSON.stringify(interfaces));
    assert.equal(veth.igmp_version, 3);
    assert.equal(veth.force_igmp_version, 0);
    assert.equal(veth.effective_igmp_version, 3);
    assert.equal(veth.mld_version, 2);
    assert.equal(veth.force_mld_version, 0);
    assert.equal(veth.effective_mld_version, 2);
    const byGroup = new Map(veth.groups.map((g) => [g.group, g]));
    assert.deepEqual(byGroup.get("239.1.2.3"), {
      group: "239.1.2.3",
      family: "IPv4",
      users: 1,
      mode: "EXCLUDE",
      sources: [],
    });
    assert.deepEqual(byGroup.get("232.1.2.3"), {
      group: "232.1.2.3",
      family: "IPv4",
      users: 1,
      mode: "INCLUDE",
      sources: [link.b.ipv4],
    });
    assert.deepEqual(byGroup.get("ff3e::8000:1"), {
      group: "ff3e::8000:1",
      family: "IPv6",
      users: 1,
      mode: "EXCLUDE",
      sources: [],
    });
    assert.deepEqual(byGroup.get("ff3e::8000:2"), {
      group: "ff3e::8000:2",
      family: "IPv6",
      users: 1,
      mode: "INCLUDE",
      sources: [link.b.ipv6],
    });
    assert.equal(veth.groups.length, 4, JSON.stringify(veth.groups));

    // --all brings the kernel's own groups back.
    const all = await statusJson(host, ["--all"]);
    const vethAll = all.find((iface) => iface.name === "veth0")!;
    const allGroups = vethAll.groups.map((g) => g.group);
    assert.ok(allGroups.includes("224.0.0.1"), allGroups.join(" "));
    assert.ok(allGroups.includes("ff02::1"), allGroups.join(" "));
    assert.ok(allGroups.includes("239.1.2.3"));
    assert.ok(all.some((iface) => iface.name === "lo"));

    // -i by name and by index: that interface only.
    const only = await statusJson(host, ["-i", "veth0"]);
    assert.deepEqual(only.map((iface) => iface.name), ["veth0"]);
    assert.equal(only[0].groups.length, 4);
    const byIndex = await statusJson(host, ["--interface", String(veth.index), "--all"]);
    assert.deepEqual(byIndex.map((iface) => iface.name), ["veth0"]);
    const loOnly = await statusJson(host, ["-i", "lo"]);
    assert.deepEqual(loOnly.map((iface) => [iface.name, iface.groups.length]), [["lo", 0]]);

    // The forced IGMP version is reported, and is the operational one.
    await host.run(["sysctl", "-w", "net.ipv4.conf.veth0.force_igmp_version=2"], { check: true });
    const forced = (await statusJson(host, ["-i", "veth0"]))[0];
    assert.equal(forced.force_igmp_version, 2);
    assert.equal(forced.igmp_version, 2);
    await host.run(["sysctl", "-w", "net.ipv6.conf.veth0.force_mld_version=1"], { check: true });
    const forced6 = (await statusJson(host, ["-i", "veth0"]))[0];
    assert.equal(forced6.force_mld_version, 1);
    assert.equal(forced6.mld_version, 1);

    // The table (not a terminal): the groups and settings, and no escape codes.
    const table = await host.run(statusArgv([]), { cwd: ROOT });
    assert.equal(table.code, 0, table.stderr);
    assert.ok(!table.stdout.includes(ESC), JSON.stringify(table.stdout));
    for (
      const text of [
        "veth0",
        "239.1.2.3",
        "232.1.2.3",
        "ff3e::8000:1",
        "ff3e::8000:2",
        "INCLUDE",
        "EXCLUDE",
        link.b.ipv4!,
        link.b.ipv6!,
        "IGMPv2",
        "force_igmp_version=2",
        "MLDv1",
      ]
    ) {
      assert.ok(table.stdout.includes(text), `${text} missing from:\n${table.stdout}`);
    }
    assert.ok(!table.stdout.includes("224.0.0.1"));
    const tableAll = await host.run(statusArgv(["--all", "-i", "veth0"]), { cwd: ROOT });
    assert.ok(tableAll.stdout.includes("224.0.0.1"), tableAll.stdout);

    // An unknown interface in this namespace is a usage error.
    const unknown = await host.run(statusArgv(["-i", "eth0"]), { cwd: ROOT });
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr.trim().split("\n").length, 1, unknown.stderr);
    assert.match(unknown.stderr, /interface.*eth0/);

    // --watch on a pipe: a fresh table every second, plain text, exit 0 on SIGTERM.
    const watcher = host.spawn(statusArgv(["--watch", "-i", "veth0"]), { cwd: ROOT });
    await watcher.waitForOutput(/(---[^]*){2}/, 10_000);
    const watched = await watcher.stop();
    assert.equal(watched.code, 0, watched.stderr);
    assert.ok(!watched.stdout.includes(ESC));
    assert.ok(watched.stdout.includes("232.1.2.3"));

    // --watch --json: one parseable object per line; SIGINT ends it with 0.
    const jsonWatcher = host.spawn(statusArgv(["--watch", "--json"]), { cwd: ROOT });
    await jsonWatcher.waitForOutput(/(\n.*){2}/, 10_000);
    jsonWatcher.kill("SIGINT");
    const jsonWatched = await jsonWatcher.wait();
    assert.equal(jsonWatched.code, 0, jsonWatched.stderr);
    const lines = jsonWatched.stdout.split("\n").filter((line) => line !== "");
    assert.ok(lines.length >= 2, jsonWatched.stdout);
    for (const line of lines) {
      const state = JSON.parse(line);
      assert.ok(state.interfaces.some((iface: Iface) => iface.name === "veth0"));
    }

    await joiner.stop(500);
  },
  { requires: ["python3", "sysctl"], timeoutMs: 90_000 },
);

Deno.test("mcast-status refuses bad input with exit 2 and one line", async () => {
  const cases = [
    ["--bogus"],
    ["-i"],
    ["-i", "no-such-if0"],
    ["--interface", "999999"],
    ["--interface", "203.0.113.77"],
    ["extra"],
    ["--json", "stray"],
    ["--all=yes"],
    ["-x"],
  ];
  for (const args of cases) {
    const result = await statusHere(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    assert.equal(result.lines.length, 1, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.lines[0], /^mcast-status: /);
    assert.ok(!/\bat .*:\d+:\d+/.test(result.stderr), result.stderr);
    assert.equal(result.stdout, "");
  }
});

Deno.test("mcast-status --help, --version and --json on this host", async () => {
  const help = await statusHere(["--help"]);
  assert.equal(help.code, 0);
  for (const text of ["--all", "--interface", "--json", "--watch", "Examples:"]) {
    assert.ok(help.stdout.includes(text), text);
  }
  const version = await statusHere(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const json = await statusHere(["--json", "--all", "-i", "lo"]);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.interfaces.length, 1);
  assert.equal(parsed.interfaces[0].name, "lo");
  const plain = await statusHere(["--all"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!plain.stdout.includes(ESC));
});
