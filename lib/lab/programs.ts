/**
 * Finding programs: on PATH (and in the sbin directories) without a permission prompt, or, where
 * this process may not look (its `--allow-read` leaves the directories out), by asking `sh`.
 *
 * @example
 * ```ts ignore
 * import { IP, programAvailable } from "./programs.ts";
 * console.log(IP, await programAvailable("smcrouted"));
 * ```
 *
 * @module
 */

import { runCommand } from "./command.ts";

/**
 * Find a program on PATH (like `which`), also in the sbin directories. Directories that this
 * process may not read (its `--allow-read` leaves them out) are skipped without a permission
 * prompt.
 *
 * @example
 * ```ts ignore
 * import { findOnPath } from "./command.ts";
 * findOnPath("ip"); // "/usr/sbin/ip"
 * ```
 *
 * @param program The program name.
 * @returns Its full path, or undefined.
 */
export function findOnPath(program: string): string | undefined {
  if (program.includes("/")) return isExecutable(program) ? program : undefined;
  let path = "";
  if (Deno.permissions.querySync({ name: "env", variable: "PATH" }).state === "granted") {
    path = Deno.env.get("PATH") ?? "";
  }
  const dirs = path.split(":");
  for (const extra of ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    if (!dir) continue;
    const full = `${dir}/${program}`;
    if (isExecutable(full)) return full;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The `ip` program (iproute2): its path on PATH or in an sbin directory, else plain `ip`. */
export const IP: string = findOnPath("ip") ?? "ip";

/** The time limit of one `ip` call (and of other short set-up steps), in milliseconds. */
export const IP_TIMEOUT_MS = 15_000;

/**
 * Whether a program can be run: found by {@linkcode findOnPath}, or by `sh -c 'command -v …'`
 * when this process may not read the PATH directories itself.
 *
 * @example
 * ```ts ignore
 * import { programAvailable } from "./programs.ts";
 * if (!(await programAvailable("nft"))) console.log("apt-get install nftables");
 * ```
 *
 * @param program The program name.
 * @returns True when it is there.
 */
export async function programAvailable(program: string): Promise<boolean> {
  if (findOnPath(program) !== undefined) return true;
  const result = await runCommand(["sh", "-c", 'command -v "$1" >/dev/null', "sh", program], {
    timeoutMs: IP_TIMEOUT_MS,
  });
  return result.success;
}
