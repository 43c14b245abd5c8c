// Unit tests of the version and querier check (lib/diagnosis/version_check.ts) against a
// stand-in procfs: forced versions, an older querier in /proc/net/igmp's Querier column, the MLD
// query counter, and what a querier listener heard.

import assert from "node:assert/strict";
import type { NetworkInterface } from "../../../lib/interfaces.ts";
import { resolveReception } from "../../../lib/diagnosis/reception.ts";
import { checkVersion, noQueryHeard } from "../../../lib/diagnosis/version_check.ts";

const ETH1: NetworkInterface = { name: "eth1", index: 3, flags: 0x1043, addresses: [] };

function procfs(options: { all?: number; iface?: number; querier?: string; mldQueries?: number }) {
  const dir = Deno.makeTempDirSync();
  for (const family of ["ipv4", "ipv6"]) {
    const key = family === "ipv4" ? "force_igmp_version" : "force_mld_version";
    for (const [name, value] of [["all", options.all ?? 0], ["eth1", options.iface ?? 0]]) {
      Deno.mkdirSync(`${dir}/sys/net/${family}/conf/${name}`, { recursive: true });
      Deno.writeTextFileSync(`${dir}/sys/net/${family}/conf/${name}/${key}`, `${value}\n`);
    }
  }
  Deno.mkdirSync(`${dir}/net/dev_snmp6`, { recursive: true });
  Deno.writeTextFileSync(
    `${dir}/net/igmp`,
    "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
      `3\teth1      :     1      ${
        options.querier ?? "V3"
      }\n\t\t\t\t010000E0     1 0:00000000\t\t0\n`,
  );
  if (options.mldQueries !== undefined) {
    Deno.writeTextFileSync(
      `${dir}/net/dev_snmp6/eth1`,
      `Icmp6InGroupMembQueries         \t${options.mldQueries}\n`,
    );
  }
  return dir;
}

function ids(findings: { id: string; severity: string }[]): string[] {
  return findings.map((f) => `${f.severity} ${f.id}`);
}

const SSM4 = resolveReception({ group: "232.1.1.1", sources: ["10.0.0.1"] });
const ASM4 = resolveReception({ group: "239.1.1.1" });
const SSM6 = resolveReception({ group: "ff3e::1", sources: ["fd00::1"] });

Deno.test("conf/all forcing IGMPv2 refuses a source join, with the sysctl that clears it", () => {
  const dir = procfs({ all: 2, querier: "V2" });
  try {
    const findings = checkVersion(SSM4, ETH1, { procRoot: dir });
    assert.deepEqual(ids(findings), ["error version-forced", "warning no-querier"]);
    assert.match(
      findings[0].message,
      /^Cannot join \(10\.0\.0\.1, 232\.1\.1\.1\) on eth1: net\.ipv4\.conf\.all\.force_igmp_version = 2/,
    );
    assert.equal(findings[0].fix, "sysctl -w net.ipv4.conf.all.force_igmp_version=0");
    // An any-source join needs no source list.
    assert.deepEqual(ids(checkVersion(ASM4, ETH1, { procRoot: dir })), ["warning no-querier"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an IGMPv2 querier: querier-version, and the querier is known to be there", () => {
  const dir = procfs({ querier: "V2" });
  try {
    const findings = checkVersion(SSM4, ETH1, { procRoot: dir });
    assert.deepEqual(ids(findings), ["error querier-version"]);
    assert.match(findings[0].message, /an IGMPv2 querier is active on eth1/);
    assert.equal(findings[0].fix, "ip link set dev BRIDGE type bridge mcast_igmp_version 3");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("MLD: the query counter says whether a querier was ever heard, not its version", () => {
  const none = procfs({ mldQueries: 0 });
  const some = procfs({ mldQueries: 5 });
  try {
    const [silent] = checkVersion(SSM6, ETH1, { procRoot: none });
    assert.equal(silent.id, "no-querier");
    assert.match(silent.message, /^No MLD query has been received on eth1 since it came up/);
    const findings = checkVersion(SSM6, ETH1, { procRoot: some });
    assert.deepEqual(ids(findings), ["warning querier-version"]);
    assert.equal(findings[0].fix, "sysctl -w net.ipv6.conf.eth1.force_mld_version=2");
    // What a listener heard decides: an MLDv1 querier refuses the source join.
    const heard = checkVersion(SSM6, ETH1, {
      procRoot: some,
      observation: { querier: { address: "fe80::1", version: 1 }, listenedS: 30 },
    });
    assert.deepEqual(ids(heard), ["error querier-version"]);
    assert.equal(heard[0].fix, "sysctl -w net.ipv6.conf.eth1.force_mld_version=2");
  } finally {
    Deno.removeSync(none, { recursive: true });
    Deno.removeSync(some, { recursive: true });
  }
});

Deno.test("a listener that heard nothing since the join: the 260 s hint", () => {
  const dir = procfs({});
  try {
    const findings = checkVersion(ASM4, ETH1, {
      procRoot: dir,
      observation: { querier: null, listenedS: 12.4 },
    });
    assert.deepEqual(findings, [noQueryHeard("IPv4", "eth1", 12.4)]);
    assert.equal(
      findings[0].message,
      "No IGMP query heard on eth1 in the 12 s since the join (a querier asks every 125 s by " +
        "default: one may not have asked yet): snooping switches without a querier age " +
        "memberships out after about 260 s, and the stream stops",
    );
    assert.equal(
      noQueryHeard("IPv6", "eth1", 300).message,
      "No MLD query heard on eth1 in the 300 s since the join: snooping switches without a " +
        "querier age memberships out after about 260 s, and the stream stops",
    );
    const heard = checkVersion(ASM4, ETH1, {
      procRoot: dir,
      observation: { querier: { address: "10.0.0.254", version: 3 }, listenedS: 12 },
    });
    assert.deepEqual(heard, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
