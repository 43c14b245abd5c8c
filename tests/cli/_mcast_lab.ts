// Private: running mcast-lab from the tests — with exactly the permissions `deno task mcast-lab`
// and the installed command get (cli/_tools.ts), a fresh lab name per test, and the check that a
// lab left nothing behind: no namespace with its prefix, no process started from its record
// directory, no record directory and no lock file.

import assert from "node:assert/strict";
import { type CommandResult, LabProcess } from "../lab/mod.ts";
import { TOOLS } from "../../cli/_tools.ts";
import { RECORDS_DIR } from "../../lib/classroom/record.ts";
import { listNamespaces } from "../../lib/lab/cleanup.ts";

/** The entry point. */
export const TOOL = new URL("../../cli/mcast_lab.ts", import.meta.url).pathname;

/** mcast-lab's permission flags, from the one tool table. */
export const FLAGS: readonly string[] = TOOLS.find((t) => t.name === "mcast-lab")!.permissions;

let labs = 0;

/** A lab name no user lab and no other test has: `t<pid><n>`. */
export function uniqueLabName(): string {
  return `t${Deno.pid}x${++labs}`;
}

/** What follows `deno run` to run mcast-lab with `args`. */
export function labRunArgs(args: readonly string[]): string[] {
  return ["--quiet", ...FLAGS, TOOL, ...args];
}

/** The command line that runs mcast-lab with `args`. */
export function labArgv(args: readonly string[]): string[] {
  return [Deno.execPath(), "run", ...labRunArgs(args)];
}

/** Starts mcast-lab (output collected; killed after `timeoutMs`). */
export function spawnLab(
  args: readonly string[],
  options: { timeoutMs?: number; stdin?: "piped" | "null" } = {},
): LabProcess {
  return new LabProcess(labArgv(args), {
    env: { NO_COLOR: "1" },
    timeoutMs: options.timeoutMs ?? 60_000,
    stdin: options.stdin,
  });
}

/** Runs mcast-lab to completion. */
export async function runLab(
  args: readonly string[],
  options: { timeoutMs?: number; stdin?: string } = {},
): Promise<CommandResult> {
  const process = spawnLab(args, {
    timeoutMs: options.timeoutMs,
    stdin: options.stdin === undefined ? "null" : "piped",
  });
  if (options.stdin !== undefined) {
    await process.write(options.stdin);
    await process.closeStdin();
  }
  return await process.wait();
}

/** Runs mcast-lab and asserts exit 0; returns stdout. */
export async function runLabOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await runLab(args, { timeoutMs });
  assert.equal(
    result.code,
    0,
    `mcast-lab ${args.join(" ")}: exit ${result.code}: ${result.stderr}`,
  );
  return result.stdout;
}

/** Processes whose command line names the lab's record directory (smcrouted, wrappers). */
export async function processesOf(name: string): Promise<string[]> {
  const dir = `${RECORDS_DIR}/${name}/`;
  const found: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).replaceAll(
        "\0",
        " ",
      );
      if (cmdline.includes(dir)) found.push(`${entry.name}: ${cmdline.trim()}`);
    } catch { /* gone, or a zombie */ }
  }
  return found;
}

/**
 * Waits (bounded) until a running `up` has created at least `count` of the lab's namespaces.
 *
 * @throws When `up` ends first or 20 s pass.
 */
export async function waitForNamespaces(name: string, count: number, up: LabProcess) {
  const deadline = Date.now() + 20_000;
  while ((await namespacesOf(name)).length < count) {
    assert.ok(!up.exited, `up ended before ${count} namespaces existed: ${up.stderr}`);
    assert.ok(Date.now() < deadline, `up created fewer than ${count} namespaces within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The lab's namespaces that exist. */
export async function namespacesOf(name: string): Promise<string[]> {
  return (await listNamespaces()).filter((ns) => ns.startsWith(`mlab-${name}-`));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Asserts that nothing of lab `name` is left: namespaces, processes, record, lock. */
export async function assertLabGone(name: string): Promise<void> {
  assert.deepEqual(await namespacesOf(name), [], `namespaces of lab ${name} left behind`);
  assert.deepEqual(await processesOf(name), [], `processes of lab ${name} left behind`);
  assert.equal(await exists(`${RECORDS_DIR}/${name}`), false, `record of lab ${name} left behind`);
  assert.equal(await exists(`${RECORDS_DIR}/${name}.lock`), false, `lock of lab ${name} left`);
}

/**
 * Runs `body` with lab `name` built by `mcast-lab up …args`, then `down` (also when the body
 * throws) and the check that nothing is left. Returns what `up` printed.
 */
export async function withLab(
  name: string,
  upArgs: readonly string[],
  body: (map: string) => Promise<void>,
): Promise<void> {
  try {
    const map = await runLabOk(["up", ...upArgs, "--name", name]);
    await body(map);
  } finally {
    // A failed up removes what it built itself; then there is nothing to take down.
    if (await exists(`${RECORDS_DIR}/${name}`)) {
      const down = await runLab(["down", name]);
      assert.equal(down.code, 0, `down ${name}: ${down.stderr}`);
    }
    await assertLabGone(name);
  }
}

/** The loss percent of a receiver summary: `totals.loss_pct` where it exists, else computed. */
export function lossPercent(summary: {
  totals: { packets: number; lost: number; duplicates: number; loss_pct?: number };
}): number {
  const { totals } = summary;
  if (typeof totals.loss_pct === "number") return totals.loss_pct;
  const unique = totals.packets - totals.duplicates;
  return totals.lost + unique === 0 ? 0 : 100 * totals.lost / (totals.lost + unique);
}
