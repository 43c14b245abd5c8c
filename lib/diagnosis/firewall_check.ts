/**
 * Firewall rules that drop or reject the group's datagrams on their way to the socket
 * (`firewall`), read-only: `iptables-save` / `ip6tables-save` and `nft -j list ruleset` (with
 * `nft -a list ruleset` for the rule texts). Reading them needs root; what cannot be read is a
 * warning saying so.
 *
 * iptables-nft keeps its rules in nftables tables (`ip filter`, `ip raw` …), which `nft` lists
 * too: when `iptables-save` says its backend is nf_tables, the tables it printed are judged from
 * its output (its rule syntax, `iptables -D` to delete) and left out of the nft ruleset.
 *
 * @module
 */

import { describeFailure, isFailure, runProgram } from "../_command.ts";
import type { Finding } from "./finding.ts";
import { type BaseChainJudgement, judgeIptables, parseIptablesSave } from "./iptables_rules.ts";
import { judgeNft, parseNftJson, parseNftText } from "./nft_rules.ts";
import type { Probe } from "./_probe.ts";

/**
 * The findings of the judgements of every base chain: a certain drop is an error naming the
 * rule (or the DROP policy) and the command that removes it; a possible drop is a warning.
 *
 * @example
 * ```ts
 * import { firewallFindings } from "./firewall_check.ts";
 * import { judgeIptables, parseIptablesSave } from "./iptables_rules.ts";
 * const probe = {
 *   family: "IPv4",
 *   group: Uint8Array.of(239, 1, 1, 1),
 *   sources: null,
 *   port: 5000,
 *   iface: "eth1",
 * } as const;
 * const judged = judgeIptables(
 *   parseIptablesSave("*filter\n:INPUT DROP [0:0]\nCOMMIT\n"),
 *   probe,
 * );
 * const [finding] = firewallFindings(judged, "239.1.1.1 port 5000");
 * finding.fix; // "iptables -t filter -I INPUT -d 239.1.1.1 -p udp --dport 5000 -j ACCEPT"
 * ```
 *
 * @param judgements What each base chain does with the probe.
 * @param what The datagrams, for the messages (`239.1.1.1 port 19779`).
 * @returns The findings.
 */
export function firewallFindings(
  judgements: readonly BaseChainJudgement[],
  what: string,
): Finding[] {
  const findings: Finding[] = [];
  for (const { chain, outcome, acceptCommand } of judgements) {
    for (const doubt of outcome.doubtful) {
      findings.push({
        id: "firewall",
        severity: "warning",
        message: `${chain} may drop UDP to ${what}: ${doubt.ref.label} (cannot tell whether it ` +
          `applies: ${doubt.why})`,
        fix: doubt.ref.deleteCommand,
      });
    }
    if (outcome.verdict !== "drop") continue;
    const decisive = outcome.decisive;
    const severity = outcome.certain ? "error" : "warning";
    const verb = outcome.certain ? "drops" : "may drop";
    findings.push({
      id: "firewall",
      severity,
      message: decisive === null
        ? `${chain} ${verb} UDP to ${what}: its policy is DROP and no rule accepts it`
        : `${chain} ${verb} UDP to ${what}: ${decisive.label}`,
      fix: decisive === null ? acceptCommand : decisive.deleteCommand,
    });
  }
  return findings;
}

/**
 * Reads the host's firewall rules and judges UDP to the probe's group and port.
 *
 * @example
 * ```ts ignore
 * import { checkFirewall } from "./firewall_check.ts";
 * const findings = await checkFirewall({
 *   family: "IPv4",
 *   group: Uint8Array.of(239, 1, 1, 1),
 *   sources: null,
 *   port: 19779,
 *   iface: "eth1",
 * }, "239.1.1.1 port 19779");
 * ```
 *
 * @param probe The datagram.
 * @param what The datagrams, for the messages.
 * @returns The findings (`firewall`).
 */
export async function checkFirewall(probe: Probe, what: string): Promise<Finding[]> {
  const save = probe.family === "IPv4" ? "iptables-save" : "ip6tables-save";
  const [saved, json, text] = await Promise.all([
    runProgram([save]),
    runProgram(["nft", "-j", "list", "ruleset"]),
    runProgram(["nft", "-a", "list", "ruleset"]),
  ]);
  const unreadable: string[] = [];
  const judgements: BaseChainJudgement[] = [];
  let skipTables = new Set<string>();
  const savedText = readable(saved, save, unreadable);
  if (savedText !== null) {
    const ruleset = parseIptablesSave(savedText);
    judgements.push(...judgeIptables(ruleset, probe));
    if (ruleset.backend === "nf_tables") {
      const family = probe.family === "IPv4" ? "ip" : "ip6";
      skipTables = new Set([...ruleset.tables.keys()].map((name) => `${family} ${name}`));
    }
  }
  const jsonText = readable(json, "nft", unreadable);
  if (jsonText !== null) {
    const nftText = isFailure(text) || text.code !== 0 ? undefined : parseNftText(text.stdout);
    judgements.push(...judgeNft(parseNftJson(jsonText), probe, { text: nftText, skipTables }));
  }
  const findings = firewallFindings(judgements, what);
  if (unreadable.length > 0) {
    findings.push({
      id: "firewall",
      severity: "warning",
      message: `Cannot read all firewall rules (${unreadable.join("; ")}): whether a rule drops ` +
        `UDP to ${what} is unknown`,
      fix: "run the check as root (reading firewall rules needs CAP_NET_ADMIN)",
    });
  }
  return findings;
}

// The output of a reader that worked, or null after noting why it did not.
function readable(
  result: Awaited<ReturnType<typeof runProgram>>,
  program: string,
  unreadable: string[],
): string | null {
  if (isFailure(result)) {
    unreadable.push(describeFailure(result));
    return null;
  }
  if (result.code !== 0) {
    const detail = result.stderr.trim().split("\n")[0] || `exit code ${result.code}`;
    unreadable.push(describeFailure({ failure: "failed", program, detail }));
    return null;
  }
  return result.stdout;
}
