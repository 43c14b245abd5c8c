// Private test helper: runs a Deno tool inside a namespace as the user nobody, with its own Deno
// cache (the npm packages copied from ours, so nothing is downloaded).

import type { CommandResult, Namespace } from "../lab/mod.ts";

/**
 * Runs `deno run FLAGS… SCRIPT ARGS…` as nobody in `ns`.
 *
 * @param ns The namespace.
 * @param runArgs What follows `deno run` (permission flags, the script, its arguments).
 * @param options Working directory and extra environment variables.
 * @returns The result.
 */
export async function runDenoAsNobody(
  ns: Namespace,
  runArgs: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CommandResult> {
  const denoDir = await Deno.makeTempDir({ prefix: "mcast-nobody-" });
  try {
    const info = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
      ),
    );
    await ns.run(["cp", "-r", info.npmCache, `${denoDir}/npm`], { check: true });
    await ns.run(["chmod", "-R", "a+rwX", denoDir], { check: true });
    const env = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
    return await ns.run([
      "runuser",
      "-u",
      "nobody",
      "--",
      "env",
      `DENO_DIR=${denoDir}`,
      `HOME=${denoDir}`,
      ...env,
      Deno.execPath(),
      "run",
      "--cached-only",
      ...runArgs,
    ], { cwd: options.cwd, timeoutMs: 30_000 });
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}
