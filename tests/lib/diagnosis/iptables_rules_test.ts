// Unit tests of the iptables reader and judge (lib/diagnosis/iptables_rules.ts, with the chain
// walk and firewallFindings) on `iptables-save` / `ip6tables-save` output captured in a
// namespace (iptables 1.8.9, nf_tables backend) after:
//
//   iptables -N MCAST
//   iptables -A INPUT -i lo -j ACCEPT
//   iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
//   iptables -A INPUT -d 239.1.1.1/32 -p udp -m udp --dport 5000 -j DROP
//   iptables -A INPUT -m pkttype --pkt-type multicast -j MCAST
//   iptables -A MCAST -s 10.9.0.0/24 -m conntrack --ctstate NEW -j REJECT --reject-with icmp-port-unreachable
//   iptables -A MCAST -m limit --limit 10/sec -j ACCEPT
//   iptables -A MCAST -p udp -m multiport --dports 6000:6010,7000 -j DROP
//   iptables -t raw -A PREROUTING -i veth9 -p udp -j DROP
//   iptables -t raw -A PREROUTING -d 232.9.9.9/32 -m comment --comment "no video" -j DROP
//   iptables -t mangle -A PREROUTING -m addrtype --dst-type MULTICAST -j MARK --set-xmark 0x1/0xffffffff
//   ip6tables -P INPUT DROP
//   ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
//   ip6tables -A INPUT -d ff3e::1/128 -p udp -m udp --dport 19779 -j ACCEPT

import assert from "node:assert/strict";
import { firewallFindings } from "../../../lib/diagnosis/firewall_check.ts";
import {
  judgeIptables,
  parseIptablesSave,
  splitWords,
} from "../../../lib/diagnosis/iptables_rules.ts";
import type { Probe } from "../../../lib/diagnosis/_probe.ts";
import { probe } from "./_probe_fixture.ts";

const V4 = parseIptablesSave(
  Deno.readTextFileSync(new URL("../../fixtures/iptables_save.txt", import.meta.url)),
);
const V6 = parseIptablesSave(
  Deno.readTextFileSync(new URL("../../fixtures/ip6tables_save.txt", import.meta.url)),
);

function chain(name: string, p: Probe, ruleset = V4) {
  const found = judgeIptables(ruleset, p).find((j) => j.chain === name);
  assert.ok(found, `no judgement for ${name}`);
  return found;
}

Deno.test("parseIptablesSave reads tables, policies, user chains and the backend", () => {
  assert.equal(V4.backend, "nf_tables");
  assert.deepEqual([...V4.tables.keys()], ["mangle", "raw", "filter"]);
  const filter = V4.tables.get("filter")!;
  assert.equal(filter.get("INPUT")?.policy, "ACCEPT");
  assert.equal(filter.get("MCAST")?.policy, null);
  assert.equal(filter.get("INPUT")?.rules.length, 4);
  assert.equal(filter.get("MCAST")?.rules[0].spec.startsWith("-A MCAST -s 10.9.0.0/24"), true);
  assert.equal(V6.tables.get("filter")?.get("INPUT")?.policy, "DROP");
  assert.deepEqual(parseIptablesSave("garbage\n-A INPUT -j DROP\n").tables.size, 0);
});

Deno.test("splitWords follows the shell quoting iptables-save uses", () => {
  assert.deepEqual(splitWords('-A X -m comment --comment "no \\"video\\"" -j DROP'), [
    "-A",
    "X",
    "-m",
    "comment",
    "--comment",
    'no "video"',
    "-j",
    "DROP",
  ]);
  assert.deepEqual(splitWords('  -A  X  --comment ""  '), ["-A", "X", "--comment", ""]);
});

Deno.test("a rule that drops the group and port is certain, with the command that deletes it", () => {
  const filter = chain("iptables filter INPUT", probe("239.1.1.1", 5000));
  assert.equal(filter.outcome.verdict, "drop");
  assert.equal(filter.outcome.certain, true);
  assert.equal(
    filter.outcome.decisive?.label,
    "-A INPUT -d 239.1.1.1/32 -p udp -m udp --dport 5000 -j DROP",
  );
  const [finding] = firewallFindings([filter], "239.1.1.1 port 5000");
  assert.deepEqual(finding, {
    id: "firewall",
    severity: "error",
    message: "iptables filter INPUT drops UDP to 239.1.1.1 port 5000: " +
      "-A INPUT -d 239.1.1.1/32 -p udp -m udp --dport 5000 -j DROP",
    fix: "iptables -t filter -D INPUT -d 239.1.1.1/32 -p udp -m udp --dport 5000 -j DROP",
  });
  // Another port or group passes that rule.
  assert.equal(chain("iptables filter INPUT", probe("239.1.1.2", 5000)).outcome.verdict, "accept");
});

Deno.test("a user chain: a rule for some senders is doubtful, a limit makes a later drop uncertain", () => {
  const any = chain("iptables filter INPUT", probe("239.2.2.2", 6005));
  assert.equal(any.outcome.verdict, "drop");
  assert.equal(any.outcome.certain, false, "the limit rule may have accepted first");
  assert.match(any.outcome.decisive!.label, /multiport --dports 6000:6010,7000 -j DROP$/);
  assert.deepEqual(any.outcome.doubtful.map((d) => d.why), [
    "it matches some senders only (-s 10.9.0.0/24)",
  ]);
  const findings = firewallFindings([any], "239.2.2.2 port 6005");
  assert.deepEqual(findings.map((f) => f.severity), ["warning", "warning"]);
  assert.match(findings[0].fix, /^iptables -t filter -D MCAST -s 10\.9\.0\.0\/24 .* --reject-with/);

  // A sender inside 10.9.0.0/24 is rejected for sure (multicast UDP is always NEW).
  const inside = chain("iptables filter INPUT", probe("239.2.2.2", 6005, ["10.9.0.5"]));
  assert.equal(inside.outcome.certain, true);
  assert.match(inside.outcome.decisive!.label, /-j REJECT/);
  // Outside it, the REJECT does not apply; the multiport DROP is still behind the limit.
  const outside = chain("iptables filter INPUT", probe("239.2.2.2", 6005, ["10.8.0.5"]));
  assert.deepEqual(outside.outcome.doubtful, []);
  assert.equal(outside.outcome.certain, false);
  // A port no rule drops: accepted, but the REJECT for some senders stays a warning.
  const other = chain("iptables filter INPUT", probe("239.2.2.2", 7777));
  assert.equal(other.outcome.verdict, "accept");
  assert.deepEqual(firewallFindings([other], "x").map((f) => f.severity), ["warning"]);
});

Deno.test("raw PREROUTING: comments kept in the fix, interface patterns, unknown interface", () => {
  const video = chain("iptables raw PREROUTING", probe("232.9.9.9", 1234));
  assert.equal(video.outcome.certain, true);
  assert.equal(
    firewallFindings([video], "232.9.9.9 port 1234")[0].fix,
    'iptables -t raw -D PREROUTING -d 232.9.9.9/32 -m comment --comment "no video" -j DROP',
  );
  assert.equal(
    chain("iptables raw PREROUTING", probe("239.9.9.9", 1, null, "veth9")).outcome.verdict,
    "drop",
  );
  assert.equal(
    chain("iptables raw PREROUTING", probe("239.9.9.9", 1, null, "veth0")).outcome.verdict,
    "accept",
  );
  const unknown = chain("iptables raw PREROUTING", probe("239.9.9.9", 1, null, null));
  assert.equal(unknown.outcome.verdict, "accept");
  assert.equal(unknown.outcome.doubtful[0].why, "the receiving interface");
  // mangle's MARK never decides.
  const mangle = chain("iptables mangle PREROUTING", probe("239.9.9.9", 1));
  assert.deepEqual([mangle.outcome.verdict, mangle.outcome.doubtful], ["accept", []]);
});

Deno.test("ip6tables: a DROP policy drops what no rule accepts, fixed by an ACCEPT rule", () => {
  const accepted = chain("ip6tables filter INPUT", probe("ff3e::1", 19779), V6);
  assert.equal(accepted.outcome.verdict, "accept");
  const dropped = chain("ip6tables filter INPUT", probe("ff3e::5", 19779), V6);
  assert.deepEqual([dropped.outcome.verdict, dropped.outcome.certain], ["drop", true]);
  assert.deepEqual(firewallFindings([dropped], "ff3e::5 port 19779"), [{
    id: "firewall",
    severity: "error",
    message: "ip6tables filter INPUT drops UDP to ff3e::5 port 19779: its policy is DROP and no " +
      "rule accepts it",
    fix: "ip6tables -t filter -I INPUT -d ff3e::5 -p udp --dport 19779 -j ACCEPT",
  }]);
});

Deno.test("rules this tool does not interpret are named as possible drops", () => {
  const ruleset = parseIptablesSave(
    "*filter\n:INPUT ACCEPT [0:0]\n" +
      '-A INPUT -m u32 --u32 "0>>22&0x3C@4=0x29" -j DROP\n' +
      "-A INPUT -p udp -j NFQUEUE --queue-num 1\n" +
      "-A INPUT -p udp -m udp --sport 53 -j DROP\nCOMMIT\n",
  );
  const [input] = judgeIptables(ruleset, probe("239.1.1.1", 19779));
  assert.equal(input.outcome.verdict, "accept");
  assert.deepEqual(input.outcome.doubtful.map((d) => d.why), [
    "it uses -m u32",
    "the target NFQUEUE is not interpreted by this tool",
    "it depends on the senders' source port (--sport 53)",
  ]);
});
