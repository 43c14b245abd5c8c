/**
 * The shared record of a forced IGMP / MLD version: one small JSON file per network namespace,
 * protocol and interface (under `/run/mcast/force` by default), holding the value the sysctl had
 * before anybody forced it and the receivers that hold it forced now (pid and start time). Every
 * change happens under one lock file of the directory, so receivers starting and stopping at the
 * same time see each other's changes in order.
 *
 * The rule it serves (CONTRACT "mcast-receive"): a forced value stays while any holder lives and
 * goes back to the original after the last one; a holder that died without restoring (SIGKILL)
 * is pruned by the next receiver, which then restores the original first.
 *
 * @module
 */

import type { MembershipProtocol } from "./version_in_force.ts";
import { isAlive, type ProcessIdentity } from "./host_identity.ts";

/** Where the records live unless told otherwise. */
export const DEFAULT_FORCE_RECORD_DIR = "/run/mcast/force";

/** One receiver holding a forced version. */
export interface ForceHolder extends ProcessIdentity {
  /** Which hold of that process (a process may hold an interface more than once). */
  handle: string;
  /** The version it asked for. */
  requested: number;
  /** When it started holding (ISO-8601). */
  since: string;
}

/** What a record says about one interface. */
export interface ForceRecord {
  /** The network namespace (`networkNamespaceId()`). */
  netns: string;
  /** IGMP or MLD. */
  protocol: MembershipProtocol;
  /** The interface name. */
  interface: string;
  /** The interface index when the record was made (a recreated interface has another one). */
  ifindex: number;
  /** The sysctl file. */
  sysctl: string;
  /** The value before anybody forced it: what the last holder restores. */
  original: number;
  /** The value the holders keep forced. */
  forced: number;
  /** The receivers holding it. */
  holders: ForceHolder[];
}

/** The key of one record. */
export interface ForceRecordKey {
  /** The network namespace. */
  netns: string;
  /** IGMP or MLD. */
  protocol: MembershipProtocol;
  /** The interface name. */
  interface: string;
}

/**
 * Runs `change` with the current record of `key` (or null) under the directory's lock, and
 * stores what it returns: a record to keep, or null to delete it.
 *
 * @example
 * ```ts
 * import { updateForceRecord } from "./force_record.ts";
 * const dir = Deno.makeTempDirSync();
 * const key = { netns: "netns-1", protocol: "igmp", interface: "eth1" } as const;
 * updateForceRecord(dir, key, () => ({
 *   record: { ...key, ifindex: 3, sysctl: "/proc/x", original: 0, forced: 2, holders: [] },
 *   result: undefined,
 * }));
 * updateForceRecord(dir, key, (record) => ({ record: null, result: record?.forced })); // 2
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param dir The record directory (created when missing).
 * @param key Which record.
 * @param change Gets the record, returns the new one and a result.
 * @returns The result of `change`.
 * @throws {Deno.errors.PermissionDenied} When the directory cannot be written (not root).
 */
export function updateForceRecord<T>(
  dir: string,
  key: ForceRecordKey,
  change: (record: ForceRecord | null) => { record: ForceRecord | null; result: T },
): T {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  using lock = Deno.openSync(`${dir}/.lock`, { read: true, write: true, create: true });
  lock.lockSync(true);
  try {
    const path = recordPath(dir, key);
    const { record, result } = change(readRecord(path));
    if (record === null) {
      try {
        Deno.removeSync(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    } else {
      const temporary = `${path}.${Deno.pid}.tmp`;
      Deno.writeTextFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
      Deno.renameSync(temporary, path);
    }
    return result;
  } finally {
    lock.unlockSync();
  }
}

/**
 * Every record of the directory (of one network namespace, when given), for `mcast-status`.
 * Unreadable or malformed files are skipped; without read permission for the directory there is
 * nothing to list.
 *
 * @example
 * ```ts
 * import { listForceRecords } from "./force_record.ts";
 * listForceRecords("/nonexistent"); // []
 * ```
 *
 * @param dir The record directory.
 * @param netns Only this namespace's records.
 * @returns The records, by interface then protocol.
 */
export function listForceRecords(dir: string, netns?: string): ForceRecord[] {
  const records: ForceRecord[] = [];
  // No permission prompt in the middle of a tool's output: without the grant, nothing to list.
  if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") return [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const record = readRecord(`${dir}/${entry.name}`);
      if (record !== null && (netns === undefined || record.netns === netns)) records.push(record);
    }
  } catch {
    return [];
  }
  return records.sort((a, b) =>
    a.interface.localeCompare(b.interface) || a.protocol.localeCompare(b.protocol)
  );
}

/**
 * Splits a record's holders into the live ones and those that died (pid gone, or reused by a
 * process with another start time).
 *
 * @example
 * ```ts
 * import { splitHolders } from "./force_record.ts";
 * splitHolders([{ pid: 0, startTime: "1", handle: "a", requested: 2, since: "" }]).dead.length;
 * // 1 (no process has pid 0)
 * ```
 *
 * @param holders The recorded holders.
 * @returns Live and dead holders.
 */
export function splitHolders(holders: readonly ForceHolder[]): {
  live: ForceHolder[];
  dead: ForceHolder[];
} {
  const live: ForceHolder[] = [];
  const dead: ForceHolder[] = [];
  for (const holder of holders) (isAlive(holder) ? live : dead).push(holder);
  return { live, dead };
}

function recordPath(dir: string, key: ForceRecordKey): string {
  return `${dir}/${key.netns}-${key.protocol}-${key.interface}.json`;
}

function readRecord(path: string): ForceRecord | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as ForceRecord;
    const valid = typeof value.netns === "string" && typeof value.interface === "string" &&
      (value.protocol === "igmp" || value.protocol === "mld") &&
      Number.isInteger(value.original) && Number.isInteger(value.forced) &&
      Number.isInteger(value.ifindex) && Array.isArray(value.holders) &&
      value.holders.every((h) =>
        Number.isInteger(h.pid) && typeof h.startTime === "string" &&
        typeof h.handle === "string" && Number.isInteger(h.requested)
      );
    return valid ? value : null;
  } catch {
    return null;
  }
}
