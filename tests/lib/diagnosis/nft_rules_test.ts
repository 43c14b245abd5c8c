// Unit tests of the nftables reader and judge (lib/diagnosis/nft_rules.ts) on `nft -j list
// ruleset` and `nft -a list ruleset` captured in the namespace of iptables_rules_test.ts (its
// iptables-nft tables `ip filter`, `ip raw`, `ip mangle`, `ip6 filter` are listed too), after
// `nft -f` of:
//
//   table inet fw {
//     set blocked { type inet_service; elements = { 4000, 4001 } }
//     chain input {
//       type filter hook input priority 0; policy accept;
//       udp dport 19779 drop
//       ip daddr 232.0.0.0/8 udp dport { 1000-2000, 3000 } counter reject
//       iifname "veth*" ip6 daddr ff3e::2 drop
//       udp dport @blocked drop
//       tcp dport 5001 drop
//       meta l4proto udp th dport 5002 jump video
//     }
//     chain video { ip saddr 10.1.0.0/16 return; drop }
//     chain pre {
//       type filter hook prerouting priority -150; policy accept;
//       ip saddr != 10.9.0.0/24 udp dport 5003 ct state new drop
//       fib saddr . iif oif missing udp dport 5004 drop
//       limit rate 10/second udp dport 5005 drop
//     }
//   }
//   table ip strict {
//     chain input { type filter hook input priority 10; policy drop; ip daddr 224.0.0.0/4 udp dport != 5006 accept }
//   }
//   table netdev nd {
//     chain ingress { type filter hook ingress device "veth0" priority 0; policy accept; ip protocol udp udp dport 9999 drop }
//   }

import assert from "node:assert/strict";
import { firewallFindings } from "../../../lib/diagnosis/firewall_check.ts";
import { judgeNft, parseNftJson, parseNftText } from "../../../lib/diagnosis/nft_rules.ts";
import type { Probe } from "../../../lib/diagnosis/_probe.ts";
import { probe } from "./_probe_fixture.ts";

const RULESET = parseNftJson(
  Deno.readTextFileSync(new URL("../../fixtures/nft_ruleset.json", import.meta.url)),
);
const TEXT = parseNftText(
  Deno.readTextFileSync(new URL("../../fixtures/nft_ruleset.txt", import.meta.url)),
);
const IPTABLES_NFT = new Set(["ip filter", "ip raw", "ip mangle", "ip6 filter"]);

function judge(p: Probe, withText = true) {
  return judgeNft(RULESET, p, { text: withText ? TEXT : undefined, skipTables: IPTABLES_NFT });
}

function outcome(p: Probe, chain: string, withText = true) {
  const found = judge(p, withText).find((j) => j.chain.startsWith(chain));
  assert.ok(found, `no judgement for ${chain}: ${judge(p).map((j) => j.chain)}`);
  return found.outcome;
}

Deno.test("parseNftJson and parseNftText read chains, rules, sets, texts and devices", () => {
  assert.equal(RULESET.chains.filter((c) => c.hook !== null).length, 8);
  assert.deepEqual(RULESET.sets.get("inet fw blocked"), [4000, 4001]);
  assert.equal(TEXT.rules.get("inet fw input 5"), "udp dport 19779 drop");
  assert.equal(TEXT.rules.get("inet fw video 13"), "drop");
  assert.equal(TEXT.devices.get("netdev nd ingress"), "veth0");
  assert.equal(TEXT.rules.has("inet fw blocked 4"), false, "a set is not a chain");
  assert.deepEqual(parseNftJson("not json").rules, []);
});

Deno.test("the base chains on the path, by hook and priority; iptables-nft tables left out", () => {
  assert.deepEqual(judge(probe("239.1.1.1", 1)).map((j) => j.chain), [
    "nft netdev nd ingress (hook ingress veth0)",
    "nft inet fw pre (hook prerouting)",
    "nft inet fw input (hook input)",
    "nft ip strict input (hook input)",
  ]);
  const all = judgeNft(RULESET, probe("239.1.1.1", 1)).map((j) => j.chain);
  assert.ok(all.includes("nft ip filter INPUT (hook input)"), all.join(", "));
  // Another device's ingress chain is not on the path.
  assert.ok(!judge(probe("239.1.1.1", 1, null, "veth1")).some((j) => j.chain.includes("ingress")));
  // IPv6: ip6 and inet tables; ip strict is not.
  assert.deepEqual(judge(probe("ff3e::1", 1)).map((j) => j.chain.split(" (")[0]), [
    "nft netdev nd ingress",
    "nft inet fw pre",
    "nft inet fw input",
  ]);
});

Deno.test("a drop of the port is certain and names the rule with its delete command", () => {
  const input = judge(probe("239.1.1.1", 19779)).find((j) =>
    j.chain.startsWith("nft inet fw input")
  )!;
  assert.deepEqual(firewallFindings([input], "239.1.1.1 port 19779"), [{
    id: "firewall",
    severity: "error",
    message: "nft inet fw input (hook input) drops UDP to 239.1.1.1 port 19779: udp dport 19779 " +
      "drop (chain input, handle 5)",
    fix: "nft delete rule inet fw input handle 5",
  }]);
  assert.equal(outcome(probe("239.1.1.1", 19779), "nft inet fw input").certain, true);
});

Deno.test("anonymous and named sets, prefixes, ranges, reject, implied protocols", () => {
  assert.equal(
    outcome(probe("232.1.1.1", 1500), "nft inet fw input").decisive?.deleteCommand,
    "nft delete rule inet fw input handle 7",
  );
  assert.equal(outcome(probe("232.1.1.1", 3000), "nft inet fw input").verdict, "drop");
  assert.equal(outcome(probe("239.1.1.1", 1500), "nft inet fw input").verdict, "accept");
  assert.equal(
    outcome(probe("239.1.1.1", 4001), "nft inet fw input").decisive?.deleteCommand,
    "nft delete rule inet fw input handle 9",
  );
  const tcp = outcome(probe("239.1.1.1", 5001), "nft inet fw input");
  assert.deepEqual([tcp.verdict, tcp.doubtful], ["accept", []]);
  // iifname "veth*" with ip6 daddr: IPv6 only, on veth interfaces only.
  assert.equal(outcome(probe("ff3e::2", 7), "nft inet fw input").verdict, "drop");
  assert.equal(outcome(probe("ff3e::2", 7, null, "eth0"), "nft inet fw input").verdict, "accept");
});

Deno.test("a jump to a chain that returns for some senders: the drop depends on the source", () => {
  const any = outcome(probe("239.1.1.1", 5002), "nft inet fw input");
  assert.deepEqual([any.verdict, any.certain], ["drop", false]);
  assert.equal(any.decisive?.label, "drop (chain video, handle 13)");
  const returned = outcome(probe("239.1.1.1", 5002, ["10.1.2.3"]), "nft inet fw input");
  assert.equal(returned.verdict, "accept");
  const dropped = outcome(probe("239.1.1.1", 5002, ["10.2.0.1"]), "nft inet fw input");
  assert.deepEqual([dropped.verdict, dropped.certain], ["drop", true]);
});

Deno.test("source tests, fib and limit are doubtful; ct state new holds", () => {
  const any = outcome(probe("239.1.1.1", 5003), "nft inet fw pre");
  assert.equal(any.verdict, "accept");
  assert.deepEqual(any.doubtful.map((d) => d.why), ["it matches some senders only"]);
  assert.equal(
    outcome(probe("239.1.1.1", 5003, ["10.9.0.1"]), "nft inet fw pre").doubtful.length,
    0,
  );
  assert.equal(outcome(probe("239.1.1.1", 5003, ["10.5.0.1"]), "nft inet fw pre").certain, true);
  assert.equal(outcome(probe("239.1.1.1", 5003, ["10.5.0.1"]), "nft inet fw pre").verdict, "drop");
  assert.deepEqual(
    outcome(probe("239.1.1.1", 5004), "nft inet fw pre").doubtful.map((d) => d.why),
    [
      "it uses fib (a reverse-path lookup)",
    ],
  );
  assert.deepEqual(
    outcome(probe("239.1.1.1", 5005), "nft inet fw pre").doubtful.map((d) => d.why),
    [
      "it applies only within a limit",
    ],
  );
});

Deno.test("a DROP policy: the fix inserts an accept rule for the group and port", () => {
  const strict = judge(probe("239.1.1.1", 5006)).find((j) => j.chain.startsWith("nft ip strict"))!;
  assert.deepEqual([strict.outcome.verdict, strict.outcome.certain], ["drop", true]);
  assert.equal(
    firewallFindings([strict], "239.1.1.1 port 5006")[0].fix,
    "nft insert rule ip strict input ip daddr 239.1.1.1 udp dport 5006 accept",
  );
  assert.equal(outcome(probe("239.1.1.1", 5007), "nft ip strict").verdict, "accept");
});

Deno.test("netdev ingress: certain on the chain's device, a possibility when the device is unknown", () => {
  const known = outcome(probe("239.1.1.1", 9999), "nft netdev nd ingress");
  assert.deepEqual([known.verdict, known.certain], ["drop", true]);
  const unknown = outcome(probe("239.1.1.1", 9999), "nft netdev nd ingress", false);
  assert.deepEqual([unknown.verdict, unknown.certain], ["drop", false]);
  assert.equal(unknown.decisive?.label, "a rule (chain ingress, handle 2)");
});
