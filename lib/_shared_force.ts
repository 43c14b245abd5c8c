// The coordinated half of forcing an IGMP / MLD version (`ForcedMembershipVersion` in
// igmp_version.ts): joining the holders of an interface's record, or making the record; and
// leaving it, restoring the original value after the last live holder. Every step runs under the
// record directory's lock (force_record.ts), sysctl writes included, so two receivers never
// interleave their read-decide-write.

import { writeKernelFile } from "../ffi/procfs.ts";
import {
  type ForceHolder,
  type ForceRecord,
  type ForceRecordKey,
  splitHolders,
  updateForceRecord,
} from "./force_record.ts";
import type { ProcessIdentity } from "./host_identity.ts";
import { readSysctlStatus } from "./sysctl.ts";

/** A sysctl write that failed inside the record's lock (its `cause` is the file API's error). */
export class SysctlWriteError extends Error {
  /** The sysctl file. */
  readonly path: string;

  /**
   * Constructs a new instance.
   *
   * @param path The sysctl file.
   * @param cause The error of the write.
   */
  constructor(path: string, cause: unknown) {
    super(`Failed to write ${path}`, { cause });
    this.path = path;
  }
}

function writeSysctl(path: string, value: number): void {
  try {
    writeKernelFile(path, `${value}\n`);
  } catch (error) {
    throw new SysctlWriteError(path, error);
  }
}

/** How a receiver came to run with the version in force. */
export type SharedForceStatus = "forced" | "shared" | "held" | "unchanged";

/** What joining the record did. */
export interface AcquiredForce {
  /** forced: this run wrote the value; shared: it was already forced to what this run wants;
   * held: others keep another value forced, which this run uses; unchanged: no force needed. */
  status: SharedForceStatus;
  /** The sysctl value found before this run (after any restore of a dead holder's value). */
  previous: number;
  /** The sysctl value in force now. */
  value: number;
  /** The other live holders (pids), for the label. */
  others: number[];
  /** Lines worth telling the user: dead holders pruned, a leftover value restored. */
  notes: string[];
}

/** What the force is about. */
export interface ForceTarget {
  /** The record's key. */
  key: ForceRecordKey;
  /** The interface index now. */
  ifindex: number;
  /** The sysctl file. */
  path: string;
  /** The version asked for. */
  requested: number;
  /** Whether a sysctl value gives the version asked for. */
  satisfies: (value: number) => boolean;
  /** This process, and which of its holds. */
  self: ProcessIdentity & { handle: string };
}

/**
 * Joins (or makes) the record of the target's interface; writes the sysctl when nobody holds it.
 *
 * @throws {SysctlWriteError} When the sysctl cannot be written.
 * @throws {Deno.errors.PermissionDenied} When the record directory cannot be written.
 */
export function acquireForce(dir: string, target: ForceTarget): AcquiredForce {
  return updateForceRecord<AcquiredForce>(dir, target.key, (found) => {
    const notes: string[] = [];
    let record = current(found, target, notes);
    const holder: ForceHolder = {
      ...target.self,
      requested: target.requested,
      since: new Date().toISOString(),
    };
    if (record !== null) {
      const others = record.holders.map((h) => h.pid);
      record = { ...record, holders: [...record.holders, holder] };
      const status: SharedForceStatus = target.satisfies(record.forced) ? "shared" : "held";
      return {
        record,
        result: { status, previous: record.original, value: record.forced, others, notes },
      };
    }
    const read = readSysctlStatus(target.path);
    if (typeof read !== "number") {
      throw new Deno.errors.NotFound(`${target.path}: ${read}`);
    }
    if (target.satisfies(read)) {
      return {
        record: null,
        result: { status: "unchanged", previous: read, value: read, others: [], notes },
      };
    }
    writeSysctl(target.path, target.requested);
    return {
      record: {
        ...target.key,
        ifindex: target.ifindex,
        sysctl: target.path,
        original: read,
        forced: target.requested,
        holders: [holder],
      },
      result: { status: "forced", previous: read, value: target.requested, others: [], notes },
    };
  });
}

/**
 * Leaves the record; the last live holder writes the original value back and deletes it.
 *
 * @returns What happened, in lines worth telling (empty when others still hold it).
 */
export function releaseForce(dir: string, target: ForceTarget): string[] {
  return updateForceRecord(dir, target.key, (found) => {
    const notes: string[] = [];
    if (found === null || found.ifindex !== target.ifindex) return { record: found, result: notes };
    const remaining = found.holders.filter((h) => h.handle !== target.self.handle);
    const { live, dead } = splitHolders(remaining);
    for (const holder of dead) notes.push(prunedNote(found, holder));
    if (live.length > 0) return { record: { ...found, holders: live }, result: notes };
    writeSysctl(found.sysctl, found.original);
    return { record: null, result: notes };
  });
}

// The record as it stands once dead holders are pruned; a record left by dead holders only is
// restored (its original written back) and dropped, so the run starts from the original value.
function current(found: ForceRecord | null, target: ForceTarget, notes: string[]) {
  if (found === null) return null;
  if (found.ifindex !== target.ifindex) {
    notes.push(
      `dropped the forcing record of a former ${found.interface} (index ${found.ifindex}, now ` +
        `${target.ifindex}): the interface was made anew`,
    );
    return null;
  }
  const { live, dead } = splitHolders(found.holders);
  for (const holder of dead) notes.push(prunedNote(found, holder));
  if (live.length > 0) return { ...found, holders: live };
  writeSysctl(found.sysctl, found.original);
  notes.push(
    `restored ${sysctlName(found)} to ${found.original}: it was left at ${found.forced} by a ` +
      "receiver that did not exit normally",
  );
  return null;
}

function prunedNote(record: ForceRecord, holder: ForceHolder): string {
  return `pruned pid ${holder.pid} from the ${sysctlName(record)} record: it died (started ` +
    `${holder.since}) without restoring ${record.forced}`;
}

function sysctlName(record: ForceRecord): string {
  const family = record.protocol === "igmp" ? "ipv4" : "ipv6";
  const key = record.protocol === "igmp" ? "force_igmp_version" : "force_mld_version";
  return `net.${family}.conf.${record.interface}.${key}`;
}
