/**
 * Private: finding and deleting lab namespaces — those of this process's labs, and those that
 * crashed or interrupted runs left behind. Only names with a lab prefix (`mcl-` unless a lab was
 * given another) are ever touched.
 *
 * @module
 */

import { formatArgv, IP, IP_TIMEOUT_MS, LabError, runCommand } from "./_command.ts";
import { liveNamespaceNames } from "./_live_labs.ts";

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

async function listNamespaces(): Promise<string[]> {
  const result = await runCommand([IP, "netns", "list"], { timeoutMs: IP_TIMEOUT_MS });
  return parseNetnsList(result.stdout);
}

function parseNetnsList(stdout: string): string[] {
  return stdout.split("\n").map((line) => line.trim().split(/\s+/)[0]).filter((n) => n);
}

function parsePids(stdout: string): number[] {
  return stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

/**
 * Kill what still runs in a namespace, then delete it. A namespace that is already gone is not
 * an error.
 *
 * @param name The namespace name.
 * @throws {LabError} When `ip netns del` fails otherwise.
 */
export async function deleteNamespace(name: string): Promise<void> {
  // Processes left inside (daemons that forked away) would keep the namespace alive.
  const pids = await runCommand([IP, "netns", "pids", name], { timeoutMs: IP_TIMEOUT_MS });
  killAll(parsePids(pids.stdout));
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
 * @param name The namespace name.
 */
export function deleteNamespaceSync(name: string): void {
  try {
    const pids = new Deno.Command(IP, { args: ["netns", "pids", name], stderr: "null" })
      .outputSync();
    killAll(parsePids(new TextDecoder().decode(pids.stdout)));
    new Deno.Command(IP, { args: ["netns", "del", name], stdout: "null", stderr: "null" })
      .outputSync();
  } catch { /* best effort */ }
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
 * @param prefix The lab prefix.
 * @returns Namespace names.
 */
export async function listLabNamespaces(prefix: string = LAB_PREFIX): Promise<string[]> {
  checkPrefix(prefix);
  return (await listNamespaces()).filter((n) => n.startsWith(prefix));
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
