/**
 * The lab's policy box: an nft table that drops a share of the forwarded multicast UDP datagrams
 * at random (`numgen random`: there is no netem on every kernel) and remarks the DSCP of the
 * rest — on a router's forward hook (`inet`), or on a switch's bridge (`bridge`). IGMP and MLD
 * are never touched, so memberships keep working.
 *
 * @example
 * ```ts
 * import { nftPolicyScript } from "./nft_policy.ts";
 * const script = nftPolicyScript({ host: "rt1", family: "inet", remark: 10, dropPercent: 5 });
 * script.includes("numgen random mod 10000 < 500 drop"); // true
 * ```
 *
 * @module
 */

import type { Namespace } from "../lab/namespace.ts";
import type { PlannedPolicy } from "./topology.ts";

/** The name of the nft table the policy lives in. */
export const POLICY_TABLE = "mcast_lab";

/**
 * The nft script of a policy.
 *
 * @example
 * ```ts
 * import { nftPolicyScript } from "./nft_policy.ts";
 * nftPolicyScript({ host: "sw", family: "bridge", remark: 46, dropPercent: null })
 *   .includes("ip6 daddr ff00::/8 meta l4proto udp ip6 dscp set 46"); // true
 * ```
 *
 * @param policy The planned policy.
 * @returns The script for `nft -f -`.
 */
export function nftPolicyScript(policy: PlannedPolicy): string {
  const hook = policy.family === "inet"
    ? "type filter hook forward priority mangle; policy accept;"
    : "type filter hook forward priority 0; policy accept;";
  const rules: string[] = [];
  const v4 = "ip daddr 224.0.0.0/4 meta l4proto udp";
  const v6 = "ip6 daddr ff00::/8 meta l4proto udp";
  if (policy.dropPercent !== null && policy.dropPercent > 0) {
    const threshold = Math.round(policy.dropPercent * 100);
    rules.push(`${v4} numgen random mod 10000 < ${threshold} drop`);
    rules.push(`${v6} numgen random mod 10000 < ${threshold} drop`);
  }
  if (policy.remark !== null) {
    rules.push(`${v4} ip dscp set ${policy.remark}`);
    rules.push(`${v6} ip6 dscp set ${policy.remark}`);
  }
  return [
    `table ${policy.family} ${POLICY_TABLE} {`,
    "  chain forward {",
    `    ${hook}`,
    ...rules.map((rule) => `    ${rule}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * Load a policy into a namespace (`nft -f -`).
 *
 * @example
 * ```ts ignore
 * import { applyNftPolicy } from "./nft_policy.ts";
 * await applyNftPolicy(rt2, plan.policy!);
 * ```
 *
 * @param ns The policy box's namespace.
 * @param policy The planned policy.
 * @throws {LabError} When nft refuses it.
 */
export async function applyNftPolicy(ns: Namespace, policy: PlannedPolicy): Promise<void> {
  await ns.run(["nft", "-f", "-"], { stdin: nftPolicyScript(policy), check: true });
}
