import assert from "node:assert/strict";
import { parseIgmp, parseIgmp6, parseMcfilter, parseMcfilter6 } from "../../lib/proc_igmp.ts";
import {
  buildMulticastState,
  type ForcedVersions,
  type MulticastState,
  readForcedVersions,
  readMulticastState,
  withoutKernelDefaults,
} from "../../lib/multicast_state.ts";

// Captured on Linux 6.18 (x86_64) in a throwaway namespace, with lo forced to IGMPv2 and vx0 to
// MLDv1, while sockets held: 239.1.2.3 ASM ×2; 232.1.2.3 SSM from 10.1.2.3 and 192.168.7.9 (one
// socket); 239.9.9.9 ASM blocking 10.0.0.66; 239.6.6.6 ASM ×2 blocking 10.2.2.2 and 10.3.3.3
// (one each); 239.5.5.5 ASM plus SSM from 10.1.1.1; ff15::1234 ASM; ff35::abcd SSM from
// 2001:db8::7 (all on lo); 239.7.7.7 and ff3e::8000:1 ASM on vx0.
const IGMP = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
  "1\tlo        :     6      V2\n" +
  "\t\t\t\t090909EF     1 1:000000B6\t\t1\n" +
  "\t\t\t\t060606EF     2 1:0000015A\t\t1\n" +
  "\t\t\t\t030201E8     1 1:000000B8\t\t1\n" +
  "\t\t\t\t050505EF     2 1:00000014\t\t1\n" +
  "\t\t\t\t030201EF     2 0:00000000\t\t1\n" +
  "\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
  "2\tvx1       :     1      V3\n" +
  "\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
  "3\tvx0       :     2      V3\n" +
  "\t\t\t\t070707EF     1 0:00000000\t\t0\n" +
  "\t\t\t\t010000E0     1 0:00000000\t\t0\n";
const IGMP6 = "1    lo              ff35000000000000000000000000abcd     1 00000004 0\n" +
  "1    lo              ff150000000000000000000000001234     1 00000004 0\n" +
  "1    lo              ff020000000000000000000000000001     1 0000000C 0\n" +
  "1    lo              ff010000000000000000000000000001     1 00000008 0\n" +
  "2    vx1             ff0200000000000000000001ff78a134     1 00000004 0\n" +
  "2    vx1             ff020000000000000000000000000001     1 0000000C 0\n" +
  "2    vx1             ff010000000000000000000000000001     1 00000008 0\n" +
  "3    vx0             ff3e0000000000000000000080000001     1 00000007 512\n" +
  "3    vx0             ff0200000000000000000001ffd686e4     1 00000004 0\n" +
  "3    vx0             ff020000000000000000000000000001     1 0000000C 0\n" +
  "3    vx0             ff010000000000000000000000000001     1 00000008 0\n";
const MCFILTER = "Idx Device        MCA        SRC    INC    EXC\n" +
  "  1     lo 0xef090909 0x0a000042      0      1\n" +
  "  1     lo 0xef060606 0x0a020202      0      1\n" +
  "  1     lo 0xef060606 0x0a030303      0      1\n" +
  "  1     lo 0xe8010203 0x0a010203      1      0\n" +
  "  1     lo 0xe8010203 0xc0a80709      1      0\n" +
  "  1     lo 0xef050505 0x0a010101      1      0\n";
const MCFILTER6 =
  "Idx Device                Multicast Address                   Source Address    INC    EXC\n" +
  "  1     lo ff35000000000000000000000000abcd 20010db8000000000000000000000007      1      0\n";

// A second capture: an interface name of 10+ characters loses the space before the colon in
// igmp and is cut to 6 characters in mcfilter.
const IGMP_LONG_NAME = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
  "2\tp1        :     1      V3\n" +
  "\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
  "3\tlabuplink0123:     2      V3\n" +
  "\t\t\t\t040404E8     1 0:00000000\t\t0\n" +
  "\t\t\t\t010000E0     1 0:00000000\t\t0\n";
const MCFILTER_LONG_NAME = "Idx Device        MCA        SRC    INC    EXC\n" +
  "  3 labupl 0xe8040404 0x0a620007      1      0\n";

// What the host had before anything joined: an empty mcfilter is just its header.
const MCFILTER_EMPTY = "Idx Device        MCA        SRC    INC    EXC\n";
const MCFILTER6_EMPTY =
  "Idx Device                Multicast Address                   Source Address    INC    EXC\n";

const SYSCTL: Record<string, ForcedVersions> = {
  lo: { igmp: 2, mld: 0 },
  vx1: { igmp: 0, mld: 0 },
  vx0: { igmp: 0, mld: 1 },
};

Deno.test("parseIgmp reads interfaces, querier versions and host-order groups", () => {
  const interfaces = parseIgmp(IGMP, { littleEndian: true });
  assert.deepEqual(
    interfaces.map((i) => [i.index, i.name, i.count, i.version, i.groups.length]),
    [[1, "lo", 6, 2, 6], [2, "vx1", 1, 3, 1], [3, "vx0", 2, 3, 2]],
  );
  assert.deepEqual(interfaces[0].groups.map((g) => g.group), [
    "239.9.9.9",
    "239.6.6.6",
    "232.1.2.3",
    "239.5.5.5",
    "239.1.2.3",
    "224.0.0.1",
  ]);
  assert.deepEqual(interfaces[0].groups[1], {
    group: "239.6.6.6",
    users: 2,
    timerRunning: true,
    reporter: true,
  });
  assert.equal(interfaces[0].groups[5].timerRunning, false);
});

Deno.test("parseIgmp honours the byte order of the writing kernel", () => {
  const text = "1\tlo        :     1      V3\n\t\t\t\tE0000001     1 0:00000000\t\t0\n";
  assert.equal(parseIgmp(text, { littleEndian: false })[0].groups[0].group, "224.0.0.1");
  assert.equal(parseIgmp(text, { littleEndian: true })[0].groups[0].group, "1.0.0.224");
});

Deno.test("parseIgmp handles a long interface name without a space before the colon", () => {
  const interfaces = parseIgmp(IGMP_LONG_NAME, { littleEndian: true });
  assert.deepEqual(interfaces.map((i) => [i.index, i.name]), [[2, "p1"], [3, "labuplink0123"]]);
  assert.equal(interfaces[1].groups[0].group, "232.4.4.4");
});

Deno.test("parseIgmp6 reads every line", () => {
  const entries = parseIgmp6(IGMP6);
  assert.equal(entries.length, 11);
  assert.deepEqual(entries[0], {
    index: 1,
    name: "lo",
    group: "ff35::abcd",
    users: 1,
    flags: 4,
  });
  assert.equal(entries[4].group, "ff02::1:ff78:a134");
  assert.equal(entries[7].group, "ff3e::8000:1");
  assert.equal(entries[7].flags, 7);
});

Deno.test("parseMcfilter reads network-order 0x-prefixed groups and sources", () => {
  const entries = parseMcfilter(MCFILTER);
  assert.equal(entries.length, 6);
  assert.deepEqual(entries[0], {
    index: 1,
    name: "lo",
    group: "239.9.9.9",
    source: "10.0.0.66",
    include: 0,
    exclude: 1,
  });
  assert.deepEqual(entries[4].source, "192.168.7.9");
  assert.equal(parseMcfilter(MCFILTER_LONG_NAME)[0].name, "labupl");
});

Deno.test("parseMcfilter6 reads groups and sources", () => {
  assert.deepEqual(parseMcfilter6(MCFILTER6), [{
    index: 1,
    name: "lo",
    group: "ff35::abcd",
    source: "2001:db8::7",
    include: 1,
    exclude: 0,
  }]);
});

Deno.test("buildMulticastState derives modes and sources like the kernel holds them", () => {
  const state = buildMulticastState(
    { igmp: IGMP, igmp6: IGMP6, mcfilter: MCFILTER, mcfilter6: MCFILTER6 },
    (name) => SYSCTL[name] ?? { igmp: null, mld: null },
  );
  assert.deepEqual(
    state.interfaces.map((i) => [
      i.name,
      i.index,
      i.igmp_version,
      i.force_igmp_version,
      i.mld_version,
      i.force_mld_version,
    ]),
    [["lo", 1, 2, 2, 2, 0], ["vx1", 2, 3, 0, 2, 0], ["vx0", 3, 3, 0, 1, 1]],
  );
  const lo = state.interfaces[0].groups;
  const summary = lo.map((g) => [g.group, g.family, g.users, g.mode, g.sources]);
  assert.deepEqual(summary, [
    // ASM blocking one source.
    ["239.9.9.9", "IPv4", 1, "EXCLUDE", ["10.0.0.66"]],
    // Two sockets blocking different sources: the kernel excludes the intersection, none.
    ["239.6.6.6", "IPv4", 2, "EXCLUDE", []],
    // One socket, two sources.
    ["232.1.2.3", "IPv4", 1, "INCLUDE", ["10.1.2.3", "192.168.7.9"]],
    // ASM plus SSM on one group: more users than included sources, so EXCLUDE {}.
    ["239.5.5.5", "IPv4", 2, "EXCLUDE", []],
    ["239.1.2.3", "IPv4", 2, "EXCLUDE", []],
    ["224.0.0.1", "IPv4", 1, "EXCLUDE", []],
    ["ff35::abcd", "IPv6", 1, "INCLUDE", ["2001:db8::7"]],
    ["ff15::1234", "IPv6", 1, "EXCLUDE", []],
    ["ff02::1", "IPv6", 1, "EXCLUDE", []],
    ["ff01::1", "IPv6", 1, "EXCLUDE", []],
  ]);
  // The JSON is exactly the contract's shape.
  assert.deepEqual(Object.keys(state), ["all", "interfaces"]);
  assert.deepEqual(Object.keys(state.interfaces[0]), [
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
  assert.deepEqual(Object.keys(lo[0]), ["group", "family", "users", "mode", "sources"]);
});

Deno.test("withoutKernelDefaults drops all-hosts, all-nodes and solicited-node groups", () => {
  const state = withoutKernelDefaults(buildMulticastState(
    { igmp: IGMP, igmp6: IGMP6, mcfilter: MCFILTER, mcfilter6: MCFILTER6 },
    (name) => SYSCTL[name] ?? { igmp: null, mld: null },
  ));
  assert.deepEqual(
    state.interfaces.map((i) => [i.name, i.groups.map((g) => g.group)]),
    [
      ["lo", [
        "239.9.9.9",
        "239.6.6.6",
        "232.1.2.3",
        "239.5.5.5",
        "239.1.2.3",
        "ff35::abcd",
        "ff15::1234",
      ]],
      ["vx1", []],
      ["vx0", ["239.7.7.7", "ff3e::8000:1"]],
    ],
  );
  // Daemon groups and routers' groups.
  const routers = withoutKernelDefaults(stateWithGroups(["224.0.0.251", "ff02::2", "ff05::2"]));
  assert.deepEqual(routers.interfaces[0].groups.map((g) => g.group), ["224.0.0.251"]);
});

Deno.test("long interface names: mcfilter's cut name is joined by index", () => {
  const state = buildMulticastState(
    { igmp: IGMP_LONG_NAME, igmp6: "", mcfilter: MCFILTER_LONG_NAME, mcfilter6: "" },
    () => ({ igmp: 0, mld: null }),
  );
  const iface = state.interfaces[1];
  assert.equal(iface.name, "labuplink0123");
  assert.deepEqual(iface.groups[0], {
    group: "232.4.4.4",
    family: "IPv4",
    users: 1,
    mode: "INCLUDE",
    sources: ["10.98.0.7"],
  });
  assert.equal(iface.mld_version, null);
});

Deno.test("odd files do not crash the parsers", () => {
  for (const parse of [parseIgmp, parseIgmp6, parseMcfilter, parseMcfilter6]) {
    assert.deepEqual(parse(""), []);
    assert.deepEqual(parse("\n\n"), []);
    assert.deepEqual(parse("\u0000\u0001garbage \uFFFD\n:::: 0x 0x\n"), []);
  }
  assert.deepEqual(parseMcfilter(MCFILTER_EMPTY), []);
  assert.deepEqual(parseMcfilter6(MCFILTER6_EMPTY), []);
  assert.deepEqual(
    parseIgmp("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"),
    [],
  );

  // An interface without groups, and one without a querier column.
  assert.deepEqual(parseIgmp("5\teth9      :     0      V3\n6\teth10     :\n"), [
    { index: 5, name: "eth9", count: 0, version: 3, groups: [] },
    { index: 6, name: "eth10", count: 0, version: null, groups: [] },
  ]);

  // Spaces instead of tabs, CRLF, extra unknown columns.
  const spaced = IGMP.replaceAll("\t", "    ").replaceAll("\n", " extra 42\r\n");
  assert.deepEqual(
    parseIgmp(spaced, { littleEndian: true }),
    parseIgmp(IGMP, { littleEndian: true }),
  );
  const widened = IGMP6.replaceAll("\n", " 99 unknown\n").replaceAll("    ", "\t");
  assert.deepEqual(parseIgmp6(widened), parseIgmp6(IGMP6));
  assert.deepEqual(parseMcfilter(MCFILTER.replaceAll("\n", "   7\n")), parseMcfilter(MCFILTER));

  // Truncated lines are skipped, the rest still read.
  const truncatedIgmp = "1\tlo        :     2      V3\n\t\t\t\t0302\n\t\t\t\t010000E0\n3\tvx";
  const parsed = parseIgmp(truncatedIgmp, { littleEndian: true });
  assert.equal(parsed.length, 1);
  assert.deepEqual(parsed[0].groups, [
    { group: "224.0.0.1", users: 0, timerRunning: false, reporter: false },
  ]);
  assert.deepEqual(
    parseIgmp6("1    lo              ff02000000000000000000000000\n2    vx1\n"),
    [],
  );
  assert.deepEqual(parseMcfilter("  1     lo 0xef090909 0x0a000042      0\n  1     lo 0xef09"), []);
  assert.deepEqual(parseMcfilter6("  1     lo ff35000000000000000000000000abcd 2001\n"), []);

  // Group lines before any interface line are ignored.
  assert.deepEqual(parseIgmp("\t\t\t\t010000E0     1 0:00000000\t\t0\n"), []);

  // Filter lines for groups nobody lists are ignored; an all-zero source line is not a source.
  const state = buildMulticastState(
    {
      igmp: "1\tlo        :     1      V3\n\t\t\t\t030201E8     1 0:00000000\t\t0\n",
      igmp6: "",
      mcfilter: "  1     lo 0xe8010203 0x0a010203      1      0\n" +
        "  1     lo 0xe8010203 0x0a010204      0      0\n" +
        "  9     zz 0xe8010203 0x0a010203      1      0\n",
      mcfilter6: "",
    },
    () => ({ igmp: null, mld: null }),
  );
  assert.deepEqual(state.interfaces.map((i) => i.index), [1]);
  assert.deepEqual(state.interfaces[0].groups[0].sources, ["10.1.2.3"]);
  assert.deepEqual(state.interfaces[0].mld_version, null);
});

Deno.test("readMulticastState reads a procfs tree, missing files count as empty", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/net`, { recursive: true });
    await Deno.writeTextFile(`${root}/net/igmp`, IGMP);
    await Deno.writeTextFile(`${root}/net/igmp6`, IGMP6);
    await Deno.writeTextFile(`${root}/net/mcfilter`, MCFILTER);
    // No mcfilter6: IPv6 disabled, say.
    for (const [name, versions] of Object.entries(SYSCTL)) {
      await Deno.mkdir(`${root}/sys/net/ipv4/conf/${name}`, { recursive: true });
      await Deno.writeTextFile(
        `${root}/sys/net/ipv4/conf/${name}/force_igmp_version`,
        `${versions.igmp}\n`,
      );
      if (name === "vx1") continue; // No ipv6 conf: force_mld_version null.
      await Deno.mkdir(`${root}/sys/net/ipv6/conf/${name}`, { recursive: true });
      await Deno.writeTextFile(
        `${root}/sys/net/ipv6/conf/${name}/force_mld_version`,
        `${versions.mld}\n`,
      );
    }
    const state = await readMulticastState({ procRoot: `${root}/` });
    assert.deepEqual(
      state.interfaces.map((i) => [i.name, i.force_igmp_version, i.force_mld_version]),
      [["lo", 2, 0], ["vx1", 0, null], ["vx0", 0, 1]],
    );
    // No mcfilter6: the SSM IPv6 group cannot show its source.
    const ff35 = state.interfaces[0].groups.find((g) => g.group === "ff35::abcd");
    assert.deepEqual(ff35?.mode, "EXCLUDE");
    // vx1 has IPv6 groups, so MLD is known even without the sysctl.
    assert.equal(state.interfaces[1].mld_version, 2);

    const empty = await readMulticastState({ procRoot: `${root}/nonexistent` });
    assert.deepEqual(
      empty,
      {
        all: { force_igmp_version: null, force_mld_version: null },
        interfaces: [],
      } satisfies MulticastState,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readForcedVersions reads both sysctls, null for missing, junk or odd names", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/sys/net/ipv4/conf/eth0`, { recursive: true });
    await Deno.mkdir(`${root}/sys/net/ipv6/conf/eth0`, { recursive: true });
    await Deno.writeTextFile(`${root}/sys/net/ipv4/conf/eth0/force_igmp_version`, "2\n");
    await Deno.writeTextFile(`${root}/sys/net/ipv6/conf/eth0/force_mld_version`, "junk\n");
    assert.deepEqual(readForcedVersions("eth0", { procRoot: root }), { igmp: 2, mld: null });
    assert.deepEqual(readForcedVersions("eth9", { procRoot: root }), { igmp: null, mld: null });
    for (const odd of ["..", "a/b", "eth0:1", ""]) {
      assert.deepEqual(readForcedVersions(odd, { procRoot: root }), { igmp: null, mld: null });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "readMulticastState sees a real SSM join on lo",
  ignore: Deno.build.os !== "linux" || !hasPython(),
  async fn() {
    // Joins on lo only; no datagram is sent.
    const script = [
      "import socket, struct, sys",
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "req = struct.pack('4s4s4s', socket.inet_aton('232.77.1.2'),",
      "  socket.inet_aton('127.0.0.1'), socket.inet_aton('10.77.0.9'))",
      "s.setsockopt(socket.IPPROTO_IP, 39, req)  # IP_ADD_SOURCE_MEMBERSHIP",
      "print('joined', flush=True)",
      "sys.stdin.read()",
    ].join("\n");
    const child = new Deno.Command("python3", {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    try {
      const { value } = await reader.read();
      assert.match(new TextDecoder().decode(value), /joined/);
      const state = await readMulticastState();
      const lo = state.interfaces.find((i) => i.name === "lo");
      assert.ok(lo, "lo is listed");
      assert.ok(lo.igmp_version === 1 || lo.igmp_version === 2 || lo.igmp_version === 3);
      const group = lo.groups.find((g) => g.group === "232.77.1.2");
      assert.deepEqual(group, {
        group: "232.77.1.2",
        family: "IPv4",
        users: 1,
        mode: "INCLUDE",
        sources: ["10.77.0.9"],
      });
      const visible = withoutKernelDefaults(state).interfaces.find((i) => i.name === "lo");
      assert.ok(visible?.groups.some((g) => g.group === "232.77.1.2"));
      assert.ok(!visible?.groups.some((g) => g.group === "224.0.0.1"));
    } finally {
      reader.releaseLock();
      await child.stdin.close();
      await child.stdout.cancel();
      await child.status;
    }
  },
});

function stateWithGroups(groups: string[]): MulticastState {
  return {
    all: { force_igmp_version: 0, force_mld_version: 0 },
    interfaces: [{
      name: "eth0",
      index: 2,
      igmp_version: 3,
      force_igmp_version: 0,
      effective_igmp_version: 3,
      mld_version: 2,
      force_mld_version: 0,
      effective_mld_version: 2,
      groups: groups.map((group) => ({
        group,
        family: group.includes(":") ? "IPv6" : "IPv4",
        users: 1,
        mode: "EXCLUDE",
        sources: [],
      })),
    }],
  };
}

function hasPython(): boolean {
  try {
    return new Deno.Command("python3", { args: ["-c", "0"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "readMulticastState reports Deno's refusal of /proc instead of an empty state",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const url = new URL("../../lib/multicast_state.ts", import.meta.url).href;
    const code = `import { readMulticastState } from ${JSON.stringify(url)};
      try {
        await readMulticastState();
        console.log("read");
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }`;
    const root = await Deno.makeTempDir();
    try {
      const script = `${root}/script.ts`;
      await Deno.writeTextFile(script, code);
      // --allow-read is not enough for /proc in Deno 2: it needs --allow-all.
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", "--no-lock", "--no-prompt", "--allow-read", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      assert.match(
        new TextDecoder().decode(output.stdout),
        /^PermissionError: Permission needed: read \/proc\/net\/igmp \(Deno needs --allow-all for files under \/proc\)/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
