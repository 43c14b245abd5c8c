/**
 * The state of every classroom lab (`mcast-lab status`): from the records, checked against the
 * namespaces that exist and the locks that are held — `up`, `building` (an `up` is at work),
 * `incomplete` (an `up` was killed halfway) or `damaged` (a recorded namespace is gone, or the
 * record cannot be read) — and the contract's `--json` shape.
 *
 * @example
 * ```ts ignore
 * import { labStatuses, statusJson } from "./status.ts";
 * console.log(JSON.stringify(statusJson(await labStatuses())));
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { listNamespaces } from "../lab/cleanup.ts";
import { stripPrefixLength } from "../lab/lan.ts";
import { LabLock } from "./lock.ts";
import { type LabRecord, listRecordNames, readRecord } from "./record.ts";
import type { HostRole } from "./topology.ts";

/** What a lab is now. */
export type LabState = "up" | "building" | "incomplete" | "damaged";

/** One lab's state. */
export interface LabStatus {
  /** The lab's name. */
  name: string;
  /** Its state. */
  state: LabState;
  /** Its record, or null when it cannot be read. */
  record: LabRecord | null;
  /** Recorded namespaces that do not exist. */
  missing: string[];
  /** Why it is damaged, or null. */
  problem: string | null;
}

/** `mcast-lab status --json` (CONTRACT "mcast-lab"). */
export interface StatusJson {
  /** One entry per lab. */
  labs: Array<{
    name: string;
    topology: string | null;
    hosts: Array<{
      name: string;
      role: HostRole;
      interfaces: Array<{ name: string; ipv4: string | null; ipv6: string | null }>;
    }>;
  }>;
}

/**
 * The state of every lab that has a record.
 *
 * @example
 * ```ts ignore
 * import { labStatuses } from "./status.ts";
 * for (const lab of await labStatuses()) console.log(lab.name, lab.state);
 * ```
 *
 * @returns One entry per lab, by name.
 */
export async function labStatuses(): Promise<LabStatus[]> {
  const existing = new Set(await listNamespaces());
  const statuses: LabStatus[] = [];
  for (const name of await listRecordNames()) {
    let record: LabRecord | null;
    try {
      record = await readRecord(name);
    } catch (error) {
      if (!(error instanceof LabError)) throw error;
      statuses.push({ name, state: "damaged", record: null, missing: [], problem: error.message });
      continue;
    }
    if (record === null) continue; // removed meanwhile
    const missing = record.namespaces.filter((ns) => !existing.has(ns));
    let state: LabState;
    let problem: string | null = null;
    if (record.state === "building") {
      state = LabLock.held(name) ? "building" : "incomplete";
    } else if (missing.length > 0) {
      state = "damaged";
      problem = `namespaces gone: ${missing.join(", ")}`;
    } else {
      state = "up";
    }
    statuses.push({ name, state, record, missing, problem });
  }
  return statuses;
}

/**
 * The contract's `--json` shape of lab states: addresses without prefix length, null where an
 * interface has none.
 *
 * @example
 * ```ts
 * import { statusJson } from "./status.ts";
 * statusJson([]); // { labs: [] }
 * ```
 *
 * @param statuses From {@linkcode labStatuses}.
 * @returns The object to print.
 */
export function statusJson(statuses: readonly LabStatus[]): StatusJson {
  return {
    labs: statuses.map(({ name, record }) => ({
      name,
      topology: record?.topology ?? null,
      hosts: (record?.plan.hosts ?? []).map((host) => ({
        name: host.name,
        role: host.role,
        interfaces: host.interfaces.map((iface) => ({
          name: iface.name,
          ipv4: iface.ipv4 === null ? null : stripPrefixLength(iface.ipv4),
          ipv6: iface.ipv6 === null ? null : stripPrefixLength(iface.ipv6),
        })),
      })),
    })),
  };
}
