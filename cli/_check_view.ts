// The view of `mcast-status --check`: the report as CONTRACT's JSON (`group`, `source`,
// `interface`, `ready`, `findings`), or as text — one block per finding with the command that
// fixes it, then a verdict line. Colour only on a terminal without NO_COLOR.

import type { ReceptionReport } from "../lib/diagnosis/check_reception.ts";
import type { Finding } from "../lib/diagnosis/finding.ts";
import { describeJoin } from "../lib/diagnosis/reception.ts";
import { colors } from "./_dashboard.ts";

/** The JSON of CONTRACT "mcast-status --check", keys in its order. */
export interface CheckJson {
  group: string;
  source: string | string[] | null;
  interface: string | null;
  ready: boolean;
  findings: Finding[];
}

/** The report in the contract's shape: `source` is null, one address, or a list when several. */
export function checkJson(report: ReceptionReport): CheckJson {
  const sources = report.sources;
  return {
    group: report.group,
    source: sources.length === 0 ? null : sources.length === 1 ? sources[0] : [...sources],
    interface: report.interface,
    ready: report.ready,
    findings: report.findings.map((f) => ({
      id: f.id,
      severity: f.severity,
      message: f.message,
      fix: f.fix,
    })),
  };
}

/** The text view. */
export function renderCheck(report: ReceptionReport): string {
  const join = describeJoin(report);
  const where = report.interface === null ? "no interface" : report.interface;
  const lines = [colors.bold(`Receiving ${join} port ${report.port} on ${where}`)];
  const width = Math.max(0, ...report.findings.map((f) => f.id.length));
  for (const finding of report.findings) {
    const severity = finding.severity === "error"
      ? colors.red("error  ")
      : colors.yellow("warning");
    lines.push(`  ${severity} ${colors.bold(finding.id.padEnd(width))}  ${finding.message}`);
    lines.push(`  ${" ".repeat(7)} ${" ".repeat(width)}  ${colors.dim("fix:")} ${finding.fix}`);
  }
  const errors = report.findings.filter((f) => f.severity === "error").length;
  const warnings = report.findings.length - errors;
  const counts = `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
  lines.push(
    report.ready
      ? colors.green(`Ready: nothing blocks reception (${counts})`)
      : colors.red(`Not ready: reception is blocked (${counts})`),
  );
  return `${lines.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
