/**
 * Running things on a lab host (`mcast-lab exec` and `shell`): the host is found through the
 * lab's record, the command runs in its namespace with this terminal, the lab's tool wrappers
 * first on PATH, and `MCAST_LAB` / `MCAST_LAB_HOST` set; the shell's prompt names the host.
 *
 * @example
 * ```ts ignore
 * import { execOnHost, resolveHost } from "./host_exec.ts";
 * import { parseHostRef } from "./options.ts";
 * const host = await resolveHost(parseHostRef("r1"));
 * const code = await execOnHost(host, ["mcast-receive", "232.1.1.1", "10.0.1.10"]);
 * ```
 *
 * @module
 */

import { InvalidValueError, LabError } from "../errors.ts";
import { runInteractive } from "../lab/command.ts";
import { listNamespaces } from "../lab/cleanup.ts";
import { IP } from "../lab/programs.ts";
import { type HostRef, labPrefix } from "./options.ts";
import { labDir, readRecord, unknownLabError } from "./record.ts";
import type { HostRole } from "./topology.ts";

/** A host of a lab that is up, ready to run things in. */
export interface LabHost {
  /** The lab's name. */
  lab: string;
  /** The host's name. */
  host: string;
  /** Its role. */
  role: HostRole;
  /** Its network namespace. */
  namespace: string;
  /** The lab's tool wrappers, or null. */
  toolsDir: string | null;
}

/**
 * Find a host of a lab that is up.
 *
 * @example
 * ```ts ignore
 * import { resolveHost } from "./host_exec.ts";
 * const host = await resolveHost({ lab: "lab", host: "rt1" });
 * host.namespace; // "mlab-lab-rt1"
 * ```
 *
 * @param ref The lab and host names.
 * @returns The host.
 * @throws {InvalidValueError} When the lab or the host does not exist.
 * @throws {LabError} When the lab is not completely up (half-built, or its namespace is gone).
 */
export async function resolveHost(ref: HostRef): Promise<LabHost> {
  const record = await readRecord(ref.lab);
  if (record === null) throw await unknownLabError(ref.lab);
  const host = record.plan.hosts.find((h) => h.name === ref.host);
  if (host === undefined) {
    throw new InvalidValueError(
      "host",
      ref.host,
      `a host of lab ${ref.lab}: ${record.plan.hosts.map((h) => h.name).join(", ")}`,
    );
  }
  const namespace = `${labPrefix(ref.lab)}${host.name}`;
  if (record.state !== "up" || !(await listNamespaces()).includes(namespace)) {
    throw new LabError(
      `Lab ${ref.lab} is not up completely (${namespace} missing): mcast-lab down ${ref.lab}, ` +
        `then up again`,
    );
  }
  return { lab: ref.lab, host: host.name, role: host.role, namespace, toolsDir: record.tools_dir };
}

/**
 * The environment of commands on a lab host.
 *
 * @example
 * ```ts
 * import { hostEnv } from "./host_exec.ts";
 * const host = { lab: "lab", host: "r1", role: "receiver" as const, namespace: "mlab-lab-r1" };
 * hostEnv({ ...host, toolsDir: "/run/mcast/labs/lab/bin" }, "/usr/bin").PATH;
 * // "/run/mcast/labs/lab/bin:/usr/bin"
 * ```
 *
 * @param host The host.
 * @param path The PATH to extend (default: this process's).
 * @returns `PATH` (tool wrappers first), `MCAST_LAB`, `MCAST_LAB_HOST` and `PS1`.
 */
export function hostEnv(host: LabHost, path?: string): Record<string, string> {
  const base = path ?? Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  const label = `${host.lab}/${host.host}`;
  return {
    PATH: host.toolsDir === null ? base : `${host.toolsDir}:${base}`,
    MCAST_LAB: host.lab,
    MCAST_LAB_HOST: label,
    PS1: `[mcast-lab ${label}] # `,
  };
}

/**
 * Run a command on a lab host with this terminal, and wait for it.
 *
 * @example
 * ```ts ignore
 * import { execOnHost } from "./host_exec.ts";
 * const code = await execOnHost(host, ["ip", "-br", "addr"]);
 * ```
 *
 * @param host The host.
 * @param argv Program and arguments.
 * @returns Its exit code.
 */
export function execOnHost(host: LabHost, argv: readonly string[]): Promise<number> {
  return runInteractive([IP, "netns", "exec", host.namespace, ...argv], { env: hostEnv(host) });
}

/**
 * Open a shell on a lab host (bash with the lab's start-up file, else sh), its prompt naming
 * the host.
 *
 * @example
 * ```ts ignore
 * import { shellOnHost } from "./host_exec.ts";
 * await shellOnHost(host);
 * ```
 *
 * @param host The host.
 * @returns The shell's exit code.
 */
export function shellOnHost(host: LabHost): Promise<number> {
  const script = 'command -v bash >/dev/null 2>&1 && exec bash --rcfile "$1" -i; exec sh -i';
  return execOnHost(host, ["sh", "-c", script, "sh", shellRcPath(labDir(host.lab))]);
}

/**
 * Write the lab's bash start-up file: the usual start-up files, then the lab's PATH and a
 * prompt that names the host (both of which those files may have changed).
 *
 * @example
 * ```ts ignore
 * import { writeShellRc } from "./host_exec.ts";
 * await writeShellRc("/run/mcast/labs/lab");
 * ```
 *
 * @param dir The lab's directory.
 */
export async function writeShellRc(dir: string): Promise<void> {
  await Deno.writeTextFile(
    shellRcPath(dir),
    [
      "# mcast-lab: a shell on a lab host",
      "MCAST_LAB_PATH=$PATH",
      "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc",
      "[ -f ~/.bashrc ] && . ~/.bashrc",
      'export PATH="$MCAST_LAB_PATH"',
      "unset MCAST_LAB_PATH",
      'PS1="[mcast-lab $MCAST_LAB_HOST] \\w\\$ "',
      "",
    ].join("\n"),
  );
}

function shellRcPath(dir: string): string {
  return `${dir}/shellrc`;
}
