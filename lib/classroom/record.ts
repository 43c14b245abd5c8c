/**
 * The record of a classroom lab: one directory per lab under `/run/mcast/labs/<name>/` (root
 * only), holding `lab.json` — the plan, the namespaces, the daemons and the state — and the
 * lab's own files (smcroute configuration, IPC socket and pid file, the tool wrappers, the shell
 * start-up file). The record is written before the first namespace is created and replaced
 * atomically at every step (write, then rename), so that `mcast-lab down` finds everything even
 * after `up` was killed halfway.
 *
 * @example
 * ```ts ignore
 * import { listRecordNames, readRecord } from "./record.ts";
 * for (const name of await listRecordNames()) console.log(name, (await readRecord(name))?.state);
 * ```
 *
 * @module
 */

import { InvalidValueError, LabError } from "../errors.ts";
import type { TopologyName } from "./options.ts";
import type { LabPlan } from "./topology.ts";

/** The directory that holds every lab's record directory. */
export const RECORDS_DIR = "/run/mcast/labs";

/** The `format` of a record this version writes and reads. */
export const RECORD_FORMAT = "mcast-lab-record/1";

/** A daemon mcast-lab started inside a lab host. */
export interface DaemonRecord {
  /** The host it runs in. */
  host: string;
  /** The program (`smcrouted`). */
  program: string;
  /** Its process id once known, else null. */
  pid: number | null;
  /** Its files in the lab's directory (configuration, IPC socket, pid file). */
  files: string[];
}

/** The options a lab was built with, as the user gave them. */
export interface RecordedOptions {
  /** `--querier`. */
  querier: string;
  /** `--remark` as a DSCP name, or null. */
  remark: string | null;
  /** `--drop` percent, or null. */
  drop_pct: number | null;
  /** `--rp-filter`, or null. */
  rp_filter: string | null;
}

/** `lab.json`. */
export interface LabRecord {
  /** {@linkcode RECORD_FORMAT}. */
  format: string;
  /** The lab's name. */
  name: string;
  /** The topology. */
  topology: TopologyName;
  /** `building` until `up` has finished, then `up`. */
  state: "building" | "up";
  /** When `up` began (ISO 8601). */
  created_at: string;
  /** The process id of the `mcast-lab up` that built it. */
  pid: number;
  /** The options. */
  options: RecordedOptions;
  /** Every namespace the lab has or will have, in creation order. */
  namespaces: string[];
  /** The daemons started so far. */
  daemons: DaemonRecord[];
  /** The directory of the tool wrappers put first on PATH inside the lab, or null. */
  tools_dir: string | null;
  /** The plan that was (or is being) built. */
  plan: LabPlan;
}

/**
 * The record directory of a lab.
 *
 * @example
 * ```ts
 * import { labDir } from "./record.ts";
 * labDir("lab"); // "/run/mcast/labs/lab"
 * ```
 *
 * @param name The lab's name.
 * @returns Its directory.
 */
export function labDir(name: string): string {
  return `${RECORDS_DIR}/${name}`;
}

/**
 * Read a lab's record.
 *
 * @example
 * ```ts ignore
 * import { readRecord } from "./record.ts";
 * const record = await readRecord("lab");
 * ```
 *
 * @param name The lab's name.
 * @returns The record, or null when the lab has no record directory.
 * @throws {LabError} When the directory exists but `lab.json` is missing or unreadable (the
 * lab's namespaces are then found by their prefix alone).
 */
export async function readRecord(name: string): Promise<LabRecord | null> {
  const path = `${labDir(name)}/lab.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    if (await exists(labDir(name))) {
      throw new LabError(`Lab record is missing: ${path}`);
    }
    return null;
  }
  try {
    const record = JSON.parse(text) as LabRecord;
    if (record.format !== RECORD_FORMAT || record.name !== name) throw new Error(record.format);
    return record;
  } catch (error) {
    throw new LabError(`Lab record is unreadable: ${path}: ${(error as Error).message}`);
  }
}

/**
 * Write a lab's record atomically (a temporary file renamed over `lab.json`), creating the
 * record directories (mode 0700) when needed.
 *
 * @example
 * ```ts ignore
 * import { writeRecord } from "./record.ts";
 * await writeRecord({ ...record, state: "up" });
 * ```
 *
 * @param record The record.
 */
export async function writeRecord(record: LabRecord): Promise<void> {
  const dir = labDir(record.name);
  await ensureRecordsDir();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${dir}/.lab.json.${Deno.pid}`;
  await Deno.writeTextFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await Deno.rename(temporary, `${dir}/lab.json`);
}

/**
 * The names of the labs that have a record directory.
 *
 * @example
 * ```ts ignore
 * import { listRecordNames } from "./record.ts";
 * console.log(await listRecordNames()); // ["lab", "class2"]
 * ```
 *
 * @returns Lab names, sorted.
 */
export async function listRecordNames(): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(RECORDS_DIR)) {
      if (entry.isDirectory && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

/**
 * The error for a lab name that has no record: it lists the labs there are.
 *
 * @example
 * ```ts ignore
 * import { unknownLabError } from "./record.ts";
 * throw await unknownLabError("lab9"); // Invalid lab: "lab9" (expected one of lab, class2)
 * ```
 *
 * @param name The name.
 * @returns The error to throw.
 */
export async function unknownLabError(name: string): Promise<InvalidValueError> {
  const labs = await listRecordNames();
  const expected = labs.length > 0 ? `one of ${labs.join(", ")}` : "a lab's name; there is none";
  return new InvalidValueError("lab", name, expected);
}

/**
 * Remove a lab's record directory and everything in it.
 *
 * @example
 * ```ts ignore
 * import { removeRecord } from "./record.ts";
 * await removeRecord("lab");
 * ```
 *
 * @param name The lab's name.
 */
export async function removeRecord(name: string): Promise<void> {
  await Deno.remove(labDir(name), { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/**
 * Create `/run/mcast` (0755) and `/run/mcast/labs` (0700) when they do not exist.
 *
 * @example
 * ```ts ignore
 * import { ensureRecordsDir } from "./record.ts";
 * await ensureRecordsDir();
 * ```
 */
export async function ensureRecordsDir(): Promise<void> {
  await Deno.mkdir(RECORDS_DIR.slice(0, RECORDS_DIR.lastIndexOf("/")), {
    recursive: true,
    mode: 0o755,
  });
  await Deno.mkdir(RECORDS_DIR, { recursive: true, mode: 0o700 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
