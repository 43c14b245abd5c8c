// mcast-receive's `--json` summary (CONTRACT "mcast-receive"), keys in the contract's order: the
// run's facts, then one group's statistics — or, with several groups, their sums on top and each
// group in `groups`.

import type { ExpectationResult } from "../lib/expectations.ts";
import type { ReceiverStatus } from "../lib/receiver_stats.ts";
import type {
  GapJson,
  ReceiverSummaryJson,
  SenderJson,
  TotalsJson,
} from "../lib/receiver_summary.ts";
import { round } from "../lib/_numbers.ts";

/** A finding of the diagnosis (CONTRACT "mcast-status --check"). */
export interface FindingJson {
  /** The stable id (`rp-filter`, `no-route` …). */
  id: string;
  /** `error` (it blocks reception) or `warning`. */
  severity: "error" | "warning";
  /** What was found. */
  message: string;
  /** The command that fixes it. */
  fix: string;
}

/** The querier heard on the interface. */
export interface QuerierJson {
  /** Its address. */
  address: string;
  /** Its IGMP / MLD version. */
  version: number;
  /** Seconds since its last query. */
  last_seen_s: number;
}

/** One element of `groups`, with several groups. */
export interface GroupJson {
  /** The group. */
  group: string;
  /** Its source(s), as at the top. */
  source: string | string[] | null;
  /** Its status. */
  status: ReceiverStatus;
  /** Its totals. */
  totals: TotalsJson;
  /** Its senders. */
  senders: SenderJson[];
  /** Its gap log. */
  gaps: GapJson[];
}

/** The summary object. */
export interface ReceiveSummaryJson {
  tool: "mcast-receive";
  version: string;
  group: string;
  source: string | string[] | null;
  exclude: string[];
  port: number;
  interface: string | null;
  igmp_version?: number | null;
  mld_version?: number | null;
  duration_s: number;
  status: ReceiverStatus;
  totals: TotalsJson;
  senders: SenderJson[];
  gaps: GapJson[];
  groups?: GroupJson[];
  querier: QuerierJson | null;
  diagnosis: FindingJson[];
  expectations?: ExpectationResult[];
}

/** The run's facts the summary carries beside the statistics. */
export interface RunFacts {
  version: string;
  sources: readonly string[];
  exclude: readonly string[];
  port: number;
  interface: string | null;
  protocol: "igmp" | "mld";
  membershipVersion: number | null;
  elapsedS: number;
  querier: QuerierJson | null;
  diagnosis: readonly FindingJson[];
  expectations: readonly ExpectationResult[] | null;
}

/** One group's summary, with its group address. */
export interface GroupSummary {
  group: string;
  summary: ReceiverSummaryJson;
}

/**
 * The overall status of several groups: STALLED when any is, else WAITING when any still is,
 * else RECEIVING.
 */
export function overallStatus(statuses: readonly ReceiverStatus[]): ReceiverStatus {
  if (statuses.includes("STALLED")) return "STALLED";
  if (statuses.includes("WAITING")) return "WAITING";
  return "RECEIVING";
}

/** The sums of several groups' totals (loss percent over all of them). */
export function sumTotals(totals: readonly TotalsJson[]): TotalsJson {
  const sum: TotalsJson = {
    packets: 0,
    bytes: 0,
    lost: 0,
    loss_pct: 0,
    duplicates: 0,
    reordered: 0,
    restarts: 0,
    foreign: 0,
    stalls: 0,
    senders_evicted: 0,
  };
  for (const t of totals) {
    sum.packets += t.packets;
    sum.bytes += t.bytes;
    sum.lost += t.lost;
    sum.duplicates += t.duplicates;
    sum.reordered += t.reordered;
    sum.restarts += t.restarts;
    sum.foreign += t.foreign;
    sum.stalls += t.stalls;
    sum.senders_evicted += t.senders_evicted;
  }
  const expected = sum.lost + sum.packets - sum.duplicates;
  sum.loss_pct = expected === 0 ? 0 : round((sum.lost / expected) * 100, 3);
  return sum;
}

/** The `--json` object. */
export function receiveSummary(
  facts: RunFacts,
  groups: readonly GroupSummary[],
): ReceiveSummaryJson {
  const source = facts.sources.length === 0
    ? null
    : facts.sources.length === 1
    ? facts.sources[0]
    : [...facts.sources];
  const several = groups.length > 1;
  const one = groups[0].summary;
  return {
    tool: "mcast-receive",
    version: facts.version,
    group: groups[0].group,
    source,
    exclude: [...facts.exclude],
    port: facts.port,
    interface: facts.interface,
    ...(facts.protocol === "igmp"
      ? { igmp_version: facts.membershipVersion }
      : { mld_version: facts.membershipVersion }),
    duration_s: round(facts.elapsedS, 3),
    status: several ? overallStatus(groups.map((g) => g.summary.status)) : one.status,
    totals: several ? sumTotals(groups.map((g) => g.summary.totals)) : one.totals,
    senders: several ? groups.flatMap((g) => g.summary.senders) : one.senders,
    gaps: several ? groups.flatMap((g) => g.summary.gaps) : one.gaps,
    ...(several
      ? {
        groups: groups.map((g) => ({
          group: g.group,
          source,
          status: g.summary.status,
          totals: g.summary.totals,
          senders: g.summary.senders,
          gaps: g.summary.gaps,
        })),
      }
      : {}),
    querier: facts.querier,
    diagnosis: [...facts.diagnosis],
    ...(facts.expectations === null ? {} : { expectations: [...facts.expectations] }),
  };
}
