// mcast-receive's side of "why am I receiving nothing?": the library's SelfDiagnosis (querier
// watch from the join, checks and a wire watch for a group WAITING for --stall-timeout or newly
// STALLED) fed from the receiver's groups, and its results in the shapes the views and the JSON
// summary take; in plain output each finished diagnosis is one line on stderr.

import type { DiagnosisView, QuerierView } from "./_receive_view.ts";
import type { FindingJson, QuerierJson } from "./_receive_summary.ts";
import type { AddressFamily } from "../lib/address.ts";
import { SelfDiagnosis } from "../lib/diagnosis/self_diagnosis.ts";
import type { ReceiverStats } from "../lib/receiver_stats.ts";

/** What the receiver diagnoses: its join, and where a finished diagnosis is printed. */
export interface ReceiveDiagnosisOptions {
  family: AddressFamily;
  interface: string | null;
  sources: readonly string[];
  exclude: readonly string[];
  port: number;
  stallTimeoutS: number;
  groups: number;
  /** Print each finished diagnosis (plain output). */
  print: ((line: string) => void) | null;
  /** Say once that no diagnosis can run. */
  warn: (message: string) => void;
}

/** The diagnosis of one mcast-receive run. */
export class ReceiveDiagnosis {
  readonly #doctor: SelfDiagnosis;
  readonly #protocol: "IGMP" | "MLD";

  constructor(options: ReceiveDiagnosisOptions) {
    this.#protocol = options.family === "IPv4" ? "IGMP" : "MLD";
    const print = options.print;
    this.#doctor = SelfDiagnosis.start({
      family: options.family,
      interface: options.interface,
      sources: options.sources,
      exclude: options.exclude,
      port: options.port,
      stallTimeoutS: options.stallTimeoutS,
      groups: options.groups,
      onDiagnosis: print === null ? undefined : (group, diagnosis) => {
        const errors = diagnosis.findings.filter((f) => f.severity === "error");
        const shown = errors.length > 0 ? errors : diagnosis.top === null ? [] : [diagnosis.top];
        if (shown.length === 0) {
          print(`${group}: nothing arrives, and no check found why`);
        }
        for (const f of shown) {
          print(`${group}: ${f.severity} ${f.id}: ${f.message} (fix: ${f.fix})`);
        }
      },
      onFailure: options.warn,
    });
  }

  /**
   * Feeds the groups' statuses (every tick).
   *
   * @param groups Each group and its statistics.
   */
  observe(groups: readonly { group: string; stats: ReceiverStats }[]): void {
    this.#doctor.observe(
      groups.map((g) => ({ group: g.group, status: g.stats.status, stalls: g.stats.stalls })),
    );
  }

  /** The querier line's facts. */
  querierView(): QuerierView {
    const d = this.#doctor;
    return {
      protocol: this.#protocol,
      watched: d.watchingQuerier,
      skipped: d.querierSkipped,
      querier: d.querier,
      listenedS: d.listenedS,
    };
  }

  /** The diagnosis lines' facts, or undefined while there is nothing to show. */
  diagnosisView(): DiagnosisView | undefined {
    const d = this.#doctor;
    const findings = d.findings;
    if (!d.running && findings.length === 0) return undefined;
    return { running: d.running, top: d.top, count: findings.length };
  }

  /** The summary's `querier`. */
  querierJson(): QuerierJson | null {
    return this.#doctor.querier;
  }

  /** The summary's `diagnosis`: the findings of the groups silent at the end. */
  diagnosisJson(): FindingJson[] {
    return this.#doctor.findings.map((f) => ({ ...f }));
  }

  /** Stops the querier watch and the diagnosis under way (keeping what it found). */
  stop(): Promise<void> {
    return this.#doctor.stop();
  }
}
