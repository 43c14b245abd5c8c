/**
 * The diagnosis a receiver runs about itself when it has been WAITING (or STALLED) for its stall
 * timeout: the checks of `mcast-status --check` (its own membership expected), the querier its
 * {@linkcode QuerierWatcher} heard since the join, and — as root — a bounded look at what reaches
 * the interface but not the socket (`wire_tap.ts`: other ports, other sources, sources that
 * reverse-path filtering drops). The packet socket exists only during that look.
 *
 * @module
 */

import { resolveInterface } from "../interfaces.ts";
import { PermissionError } from "../errors.ts";
import { checkReception } from "./check_reception.ts";
import { type Finding, topFinding, uniqueFindings } from "./finding.ts";
import type { QuerierWatcher } from "./querier_watcher.ts";
import { type ReceptionRequest, resolveReception } from "./reception.ts";
import { watchWire, wireFindings, type WireObservation } from "./wire_tap.ts";

/** Options of {@linkcode diagnoseReceiver}. */
export interface DiagnoseReceiverOptions {
  /** The receiver's querier watcher (started at the join), if it runs one. */
  querier?: QuerierWatcher | null;
  /**
   * How long to watch the wire, in milliseconds (root only; 0: not at all).
   *
   * @default {2000}
   */
  wireMs?: number;
  /**
   * How many groups the receiver joins.
   *
   * @default {1}
   */
  groups?: number;
  /**
   * Whether it joins them all on one socket.
   *
   * @default {false}
   */
  sharedSocket?: boolean;
  /** Stops the wire watch early. */
  signal?: AbortSignal;
}

/** The diagnosis. */
export interface ReceiverDiagnosis {
  /** Every finding: the checks', then the wire's. */
  findings: Finding[];
  /** The one to show first (first error, else first warning), or null. */
  top: Finding | null;
  /** What reached the interface, or null when the wire was not watched. */
  wire: WireObservation | null;
  /** Why the wire was not watched (no root, no interface, `wireMs` 0), or null. */
  wireSkipped: string | null;
}

/**
 * Diagnoses why a receiver that holds its join receives nothing.
 *
 * @example
 * ```ts ignore
 * import { diagnoseReceiver } from "./receiver_diagnosis.ts";
 * import { QuerierWatcher } from "./querier_watcher.ts";
 * const watcher = QuerierWatcher.start("eth1", "IPv4"); // at the join (root)
 * // … WAITING for --stall-timeout …
 * const diagnosis = await diagnoseReceiver(
 *   { group: "232.1.1.1", sources: ["10.0.0.1"], interface: "eth1", port: 19779 },
 *   { querier: watcher },
 * );
 * console.log(diagnosis.top?.message, diagnosis.top?.fix);
 * ```
 *
 * @param request The receiver's group, sources, interface and port.
 * @param options Its querier watcher, the wire watch's length, its group count.
 * @returns The findings, the top one and what reached the interface.
 * @throws {InvalidValueError} When a value of the request is not acceptable.
 */
export async function diagnoseReceiver(
  request: ReceptionRequest,
  options: DiagnoseReceiverOptions = {},
): Promise<ReceiverDiagnosis> {
  const reception = resolveReception(request);
  const wireMs = options.wireMs ?? 2_000;
  const watch = async (name: string | null): Promise<[WireObservation | null, string | null]> => {
    if (wireMs <= 0) return [null, "not asked to watch the wire"];
    if (name === null) return [null, "there is no receiving interface"];
    try {
      const iface = resolveInterface(name);
      return [
        await watchWire(reception, iface, { durationMs: wireMs, signal: options.signal }),
        null,
      ];
    } catch (error) {
      if (error instanceof PermissionError) return [null, error.message];
      throw error;
    }
  };
  const checked = checkReception(reception, {
    expectJoined: true,
    groups: options.groups,
    sharedSocket: options.sharedSocket,
    querier: options.querier?.observation(),
  });
  // Both at once when the interface is known; else the check finds it (the route's) first.
  const named = reception.interface?.name ?? null;
  const [report, [wire, wireSkipped]] = named !== null
    ? await Promise.all([checked, watch(named)])
    : await checked.then(async (r) => [r, await watch(r.interface)] as const);
  const findings = [...report.findings];
  if (wire !== null) {
    findings.push(...await wireFindings(reception, resolveInterface(wire.interface), wire));
  }
  const unique = dropRepeatedSources(uniqueFindings(findings));
  return { findings: unique, top: topFinding(unique), wire, wireSkipped };
}

// The wire's rp-filter finding repeats the check's for the same source: keep the wire's (it
// says the datagrams do arrive).
function dropRepeatedSources(findings: Finding[]): Finding[] {
  const seen = new Set(
    findings
      .map((f) => f.id === "rp-filter" ? /^Datagrams from (\S+) reach /.exec(f.message)?.[1] : null)
      .filter((source) => source != null),
  );
  return findings.filter((f) => {
    const source = f.id === "rp-filter"
      ? /^Reverse-path filtering drops (\S+) on /.exec(f.message)?.[1]
      : null;
    return source == null || !seen.has(source);
  });
}
