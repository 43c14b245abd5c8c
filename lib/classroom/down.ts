/**
 * Removing classroom labs: every daemon, namespace and file a lab's record names, plus any
 * namespace with the lab's prefix (`mlab-<name>-`) that a killed `up` created before it could
 * record more — and nothing else. A namespace with the prefix but no record is never touched:
 * mcast-lab did not make it (or lost its record), and says so.
 *
 * @example
 * ```ts ignore
 * import { downLab } from "./down.ts";
 * const report = await downLab("lab");
 * console.log(report.namespaces); // ["mlab-lab-r3", …, "mlab-lab-sender"]
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { deleteNamespace, listNamespaces } from "../lab/cleanup.ts";
import { LabLock } from "./lock.ts";
import { labPrefix, NAMESPACE_PREFIX } from "./options.ts";
import {
  type LabRecord,
  listRecordNames,
  readRecord,
  removeRecord,
  unknownLabError,
} from "./record.ts";
import { stopDaemon } from "./smcroute.ts";

/** What removing a lab removed. */
export interface DownReport {
  /** The lab's name. */
  name: string;
  /** The namespaces deleted, in deletion order. */
  namespaces: string[];
  /** The daemons stopped. */
  daemons: number;
}

/** What `down --all` removed, and what it left alone. */
export interface DownAllReport {
  /** One report per lab removed. */
  labs: DownReport[];
  /** Namespaces with the mcast-lab prefix that no record names: left alone. */
  strays: string[];
}

/**
 * Remove a lab (under its lock): stop its daemons, delete its namespaces, remove its record
 * directory and its lock file.
 *
 * @example
 * ```ts ignore
 * import { downLab } from "./down.ts";
 * await downLab("lab");
 * ```
 *
 * @param name The lab's name.
 * @returns What was removed.
 * @throws {InvalidValueError} When there is no lab of that name.
 * @throws {LabError} When namespaces with its prefix exist without a record, or a step fails.
 */
export async function downLab(name: string): Promise<DownReport> {
  using lock = await LabLock.acquire(name);
  let record: LabRecord | null;
  try {
    record = await readRecord(name);
  } catch (error) {
    // A missing or unreadable lab.json in an existing record directory: the prefix still finds
    // the namespaces.
    if (!(error instanceof LabError)) throw error;
    record = null;
  }
  if (record === null && !(await listRecordNames()).includes(name)) {
    lock.removeFile();
    throw await unknownLab(name);
  }
  const report = await teardownLab(name, record);
  lock.removeFile();
  return report;
}

/**
 * Remove every lab that has a record; report the prefixed namespaces that none names.
 *
 * @example
 * ```ts ignore
 * import { downAllLabs } from "./down.ts";
 * const { labs, strays } = await downAllLabs();
 * ```
 *
 * @returns What was removed and what was left alone.
 */
export async function downAllLabs(): Promise<DownAllReport> {
  const labs: DownReport[] = [];
  for (const name of await listRecordNames()) labs.push(await downLab(name));
  return { labs, strays: await strayNamespaces() };
}

/**
 * Namespaces with the mcast-lab prefix that belong to no recorded lab.
 *
 * @example
 * ```ts ignore
 * import { strayNamespaces } from "./down.ts";
 * console.log(await strayNamespaces()); // []
 * ```
 *
 * @returns Their names.
 */
export async function strayNamespaces(): Promise<string[]> {
  const recorded = (await listRecordNames()).map(labPrefix);
  return (await listNamespaces()).filter((ns) =>
    ns.startsWith(NAMESPACE_PREFIX) && !recorded.some((prefix) => ns.startsWith(prefix))
  );
}

/**
 * Internal (the caller holds the lab's lock): stop the recorded daemons, delete the recorded
 * and the prefixed namespaces, remove the record directory.
 *
 * @example
 * ```ts ignore
 * import { teardownLab } from "./down.ts";
 * await teardownLab("lab", record);
 * ```
 *
 * @param name The lab's name.
 * @param record Its record, or null when it could not be read.
 * @returns What was removed.
 */
export async function teardownLab(name: string, record: LabRecord | null): Promise<DownReport> {
  const prefix = labPrefix(name);
  const existing = await listNamespaces();
  let daemons = 0;
  for (const daemon of record?.daemons ?? []) {
    if (daemon.pid === null) continue;
    await stopDaemon(`${prefix}${daemon.host}`, daemon.pid);
    daemons++;
  }
  const names = [...record?.namespaces ?? []];
  for (const ns of existing) if (ns.startsWith(prefix) && !names.includes(ns)) names.push(ns);
  const deleted: string[] = [];
  const failures: string[] = [];
  for (const ns of names.reverse()) {
    if (!existing.includes(ns)) continue;
    try {
      await deleteNamespace(ns);
      deleted.push(ns);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  if (failures.length > 0) {
    throw new LabError(`Failed to remove lab ${name}: ${failures.join("; ")}`);
  }
  await removeRecord(name);
  return { name, namespaces: deleted, daemons };
}

async function unknownLab(name: string): Promise<Error> {
  const strays = (await listNamespaces()).filter((ns) => ns.startsWith(labPrefix(name)));
  if (strays.length > 0) {
    return new LabError(
      `No record of lab ${name}, but namespaces ${strays.join(", ")} exist: mcast-lab did not ` +
        `make them (or lost its record) and leaves them alone (ip netns del NAME removes one)`,
    );
  }
  return await unknownLabError(name);
}
