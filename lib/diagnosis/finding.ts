/**
 * Findings: what stops (an error) or may stop (a warning) a host from receiving a group, each
 * with the command that fixes it. The ids are stable for scripts (`mcast-status --check --json`
 * and the `diagnosis` of `mcast-receive --json`).
 *
 * @module
 */

/** Every finding id, in the order the checks run. */
export const FINDING_IDS = [
  "no-route",
  "wrong-interface",
  "interface-down",
  "no-multicast",
  "rp-filter",
  "version-forced",
  "querier-version",
  "no-querier",
  "firewall",
  "max-memberships",
  "not-joined",
  "ssm-range",
  "other-port",
  "other-source",
] as const;

/** A finding id. */
export type FindingId = (typeof FINDING_IDS)[number];

/** `"error"`: reception is blocked. `"warning"`: it may be, or the tool could not tell. */
export type Severity = "error" | "warning";

/** One finding. */
export interface Finding {
  /** The stable id. */
  id: FindingId;
  /** Whether it blocks reception. */
  severity: Severity;
  /** What was found, naming the interface, address, rule or setting. */
  message: string;
  /** The command that fixes it (or, where no command on this host can, what to do). */
  fix: string;
}

/**
 * Whether nothing in the findings blocks reception (no error; warnings allowed).
 *
 * @example
 * ```ts
 * import { receptionReady } from "./finding.ts";
 * receptionReady([{ id: "no-querier", severity: "warning", message: "…", fix: "…" }]); // true
 * receptionReady([{ id: "no-route", severity: "error", message: "…", fix: "…" }]); // false
 * ```
 *
 * @param findings The findings.
 * @returns True when there is no error.
 */
export function receptionReady(findings: readonly Finding[]): boolean {
  return !findings.some((finding) => finding.severity === "error");
}

/**
 * The finding to show first: the first error, else the first warning, else null.
 *
 * @example
 * ```ts
 * import { topFinding } from "./finding.ts";
 * topFinding([
 *   { id: "no-querier", severity: "warning", message: "a", fix: "b" },
 *   { id: "firewall", severity: "error", message: "c", fix: "d" },
 * ])?.id; // "firewall"
 * ```
 *
 * @param findings The findings, in check order.
 * @returns The top finding, or null.
 */
export function topFinding(findings: readonly Finding[]): Finding | null {
  return findings.find((f) => f.severity === "error") ?? findings[0] ?? null;
}

/**
 * The findings with duplicates (same id and message) dropped, in order.
 *
 * @example
 * ```ts
 * import { uniqueFindings } from "./finding.ts";
 * const f = { id: "rp-filter", severity: "error", message: "m", fix: "x" } as const;
 * uniqueFindings([f, { ...f }]).length; // 1
 * ```
 *
 * @param findings The findings.
 * @returns The distinct ones.
 */
export function uniqueFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}\n${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
