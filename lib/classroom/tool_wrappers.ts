/**
 * The mcast tools on PATH inside a lab: one small `sh` wrapper per tool in the lab's record
 * directory (`/run/mcast/labs/<name>/bin/`), which `mcast-lab exec` and `shell` put first on
 * PATH. Each wrapper runs the command line it was given — this checkout's tool with its least
 * permissions, or a compiled binary next to a compiled mcast-lab — and says so when that is gone.
 *
 * @example
 * ```ts
 * import { wrapperScript } from "./tool_wrappers.ts";
 * wrapperScript({ name: "mcast-status", argv: ["/opt/mcast/mcast-status"] }).split("\n")[3];
 * // "exec /opt/mcast/mcast-status \"$@\""
 * ```
 *
 * @module
 */

import { formatArgv } from "../lab/command.ts";

/** One tool and the command line that runs it (its arguments are appended). */
export interface LabTool {
  /** The command name (`mcast-send`). */
  name: string;
  /** The command line, program first. */
  argv: readonly string[];
}

/** The tools a lab offers, and what to run once before the lab is built. */
export interface LabTools {
  /** The tools. */
  tools: readonly LabTool[];
  /**
   * A command run once by `up`, on this host before any namespace exists (where the network is
   * still reachable), for example fetching the tools' modules into Deno's cache.
   */
  prepare?: readonly string[];
}

/**
 * The wrapper script of a tool.
 *
 * @example
 * ```ts
 * import { wrapperScript } from "./tool_wrappers.ts";
 * wrapperScript({ name: "t", argv: ["/bin/echo", "a b"] }).includes("exec /bin/echo 'a b' \"$@\"");
 * // true
 * ```
 *
 * @param tool The tool.
 * @returns The script text.
 */
export function wrapperScript(tool: LabTool): string {
  const program = formatArgv([tool.argv[0]]);
  return [
    "#!/bin/sh",
    `# ${tool.name} inside an mcast-lab lab`,
    `[ -x ${program} ] || { echo "${tool.name}: not found: "${program} >&2; exit 127; }`,
    `exec ${formatArgv(tool.argv)} "$@"`,
    "",
  ].join("\n");
}

/**
 * Write one wrapper per tool into `<dir>/bin` (mode 0755).
 *
 * @example
 * ```ts ignore
 * import { writeToolWrappers } from "./tool_wrappers.ts";
 * const bin = await writeToolWrappers("/run/mcast/labs/lab", tools.tools);
 * ```
 *
 * @param dir The lab's directory.
 * @param tools The tools.
 * @returns The `bin` directory.
 */
export async function writeToolWrappers(dir: string, tools: readonly LabTool[]): Promise<string> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true, mode: 0o755 });
  for (const tool of tools) {
    const path = `${bin}/${tool.name}`;
    await Deno.writeTextFile(path, wrapperScript(tool));
    await Deno.chmod(path, 0o755);
  }
  return bin;
}
