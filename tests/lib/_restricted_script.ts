// Private helper of the tests that need a Deno without --allow-ffi (igmp_version_test.ts,
// sysctl_test.ts): runs a script that may read only itself, so every kernel file read through
// libc is refused with NotCapable, and returns what it printed, as JSON.

import assert from "node:assert/strict";

/**
 * Writes `source` to `dir/script.ts`, runs it with `--allow-read` for that file alone and parses
 * its stdout.
 *
 * @param dir A scratch directory.
 * @param source TypeScript that prints one JSON value.
 * @returns The value printed.
 */
export async function runRestricted(dir: string, source: string): Promise<unknown> {
  const script = `${dir}/script.ts`;
  await Deno.writeTextFile(script, source);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", "--no-prompt", `--allow-read=${script}`, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}
