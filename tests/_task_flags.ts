// Private helper of the tests: the permission flags of a tool's `deno task` in deno.json, so that
// the tests run each tool with exactly what its users run it with (one place to change them).

import denoJson from "../deno.json" with { type: "json" };

/**
 * The `--allow-…` flags of `deno task <name>`.
 *
 * @param name The task (`mcast-receive`, `mcast-status` …).
 * @returns The flags, in the task's order.
 */
export function taskFlags(name: string): string[] {
  const task = (denoJson.tasks as Record<string, string>)[name];
  if (task === undefined) throw new Error(`deno.json has no task ${name}`);
  return task.split(/\s+/).filter((word) => word.startsWith("--allow-"));
}
