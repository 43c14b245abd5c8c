/**
 * Finding and deleting lab namespaces — those of this process's labs, and those that crashed or
 * interrupted runs left behind. Only names with a lab prefix (`mcl-` unless a lab was given
 * another) are ever touched by the stale clean-up; {@linkcode deleteNamespace} deletes one
 * namespace by name, killing what still runs inside it first.
 *
 * @example
 * ```ts ignore
 * import { cleanupStaleLabs, listLabNamespaces } from "./cleanup.ts";
 * console.log(await cleanupStaleLabs(), await listLabNamespaces());
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { formatArgv, runCommand, runCommandSync, signalProcess } from "./command.ts";
import { IP, IP_TIMEOUT_MS } from "./programs.ts";
import { liveNamespaceNames } from "./live_labs.ts";

/**
 * The default prefix of the namespaces a lab creates. {@linkcode cleanupStaleLabs} only touches
 * namespaces with its prefix.
 */
export const LAB_PREFIX = "mcl-";

/** Options of {@linkcode cleanupStaleLabs}. */
export interface CleanupOptions {
  /**
   * Delete every namespace with the prefix, including those of processes that are still running
   * (use only when no other lab run can be active, for example at the start of CI).
   *
   * @default {false}
   */
  all?: boolean;
  /**
   * The prefix of the labs to clean up (see {@linkcode LabOptions.prefix}).
   *
   * @default {"mcl-"}
   */
  prefix?: string;
}

/**
 * Check a lab prefix: letters and digits, then one `-` (so that no prefix's namespaces can start
 * with another prefix).
 *
 * @example
 * ```ts
 * import { checkPrefix } from "./cleanup.ts";
 * checkPrefix("mlab-"); // "mlab-"
 * ```
 *
 * @param prefix The prefix, for example `mcl-`.
 * @returns The prefix.
 * @throws {LabError} When it has another form.
 */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9]{1,16}-$/.test(prefix)) {
    throw new LabError(
      `Invalid lab prefix: ${JSON.stringify(prefix)} (1 to 16 letters or digits, then "-")`,
    );
  }
  return prefix;
}

/**
 * Every network namespace on this host that `ip netns` knows (named under /run/netns).
 *
 * @example
 * ```ts ignore
 * import { listNamespaces } from "./cleanup.ts";
 * console.log(await listNamespaces());
 * ```
 *
 * @returns Namespace names.
 * @throws {LabError} When `ip netns list` fails.
 */
export async function listNamespaces(): Promise<string[]> {
  const result = await runCommand([IP, "netns", "list"], { timeoutMs: IP_TIMEOUT_MS });
  if (!result.success) {
    throw new LabError(
      `Command failed: ${formatArgv([IP, "netns", "list"])}: ${result.stderr.trim()}`,
    );
  }
  return parseNetnsList(result.stdout);
}

function parseNetnsList(stdout: string): string[] {
  return stdout.split("\n").map((line) => line.trim().split(/\s+/)[0]).filter((n) => n);
}

function parsePids(stdout: string): number[] {
  return stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
}

function killAll(pids: number[]): void {
  for (const pid of pids) signalProcess(pid, "SIGKILL");
}

/**
 * The processes running in a namespace (`ip netns pids`); none when it does not exist.
 *
 * @example
 * ```ts ignore
 * import { namespacePids } from "./cleanup.ts";
 * console.log(await namespacePids("mlab-lab-rt1"));
 * ```
 *
 * @param name The namespace name.
 * @returns Process ids.
 */
export async function namespacePids(name: string): Promise<number[]> {
  const result = await runCommand([IP, "netns", "pids", name], { timeoutMs: IP_TIMEOUT_MS });
  return result.success ? parsePids(result.stdout) : [];
}

/**
 * Kill what still runs in a namespace, then delete it. A namespace that is already gone is not
 * an error.
 *
 * @example
 * ```ts ignore
 * import { deleteNamespace } from "./cleanup.ts";
 * await deleteNamespace("mcl-1234-1-a");
 * ```
 *
 * @param name The namespace name.
 * @throws {LabError} When `ip netns del` fails otherwise.
 */
export async function deleteNamespace(name: string): Promise<void> {
  // Processes left inside (daemons that forked away) would keep the namespace alive.
  killAll(await namespacePids(name));
  const result = await runCommand([IP, "netns", "del", name], { timeoutMs: IP_TIMEOUT_MS });
  if (!result.success && !/No such file|Invalid netns|does not exist/i.test(result.stderr)) {
    throw new LabError(
      `Command failed: ${formatArgv([IP, "netns", "del", name])}: ${result.stderr.trim()}`,
    );
  }
}

/**
 * {@linkcode deleteNamespace}, synchronously and best effort (for signal and unload handlers).
 *
 * @example
 * ```ts ignore
 * import { deleteNamespaceSync } from "./cleanup.ts";
 * deleteNamespaceSync("mcl-1234-1-a");
 * ```
 *
 * @param name The namespace name.
 */
export function deleteNamespaceSync(name: string): void {
  killAll(parsePids(runCommandSync([IP, "netns", "pids", name]) ?? ""));
  runCommandSync([IP, "netns", "del", name]);
}

/**
 * Delete namespaces left behind by crashed lab runs: `<prefix><pid>-…` whose process is gone
 * (and, with `all`, every namespace with the prefix). Never touches namespaces without the prefix,
 * nor those of labs that are alive in this process.
 *
 * @param options `all` to ignore whether the owner is alive; the prefix (default `mcl-`).
 * @returns The names deleted.
 * @example
 * ```ts ignore
 * import { cleanupStaleLabs } from "./mod.ts";
 * console.log(await cleanupStaleLabs());
 * console.log(await cleanupStaleLabs({ prefix: "mcb-" }));
 * ```
 */
export async function cleanupStaleLabs(options: CleanupOptions = {}): Promise<string[]> {
  const prefix = checkPrefix(options.prefix ?? LAB_PREFIX);
  const mine = liveNamespaceNames();
  const deleted: string[] = [];
  for (const name of await listNamespaces()) {
    if (!name.startsWith(prefix) || mine.has(name)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1] ?? NaN);
    const ownerAlive = Number.isInteger(pid) && pid !== Deno.pid && processAlive(pid);
    if (ownerAlive && !options.all) continue;
    await deleteNamespace(name);
    deleted.push(name);
  }
  return deleted;
}

/**
 * The lab namespaces (with the prefix) that currently exist on this host.
 *
 * @example
 * ```ts ignore
 * import { listLabNamespaces } from "./cleanup.ts";
 * console.log(await listLabNamespaces("mcl-"));
 * ```
 *
 * @param prefix The lab prefix.
 * @returns Namespace names.
 */
export async function listLabNamespaces(prefix: string = LAB_PREFIX): Promise<string[]> {
  checkPrefix(prefix);
  return (await listNamespaces()).filter((n) => n.startsWith(prefix));
}

// Only a missing /proc entry proves a process gone; without the permission to look (Deno refuses
// /proc short of --allow-all) the owner counts as alive, so its lab is left alone.
function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}
