/**
 * smcroute inside a lab router: its configuration (every listed interface forwards IPv4 and
 * IPv6 multicast to every other one, by (*,G) rules over the whole ranges, which smcrouted turns
 * into (S,G) routes as traffic arrives), started as a daemon inside the router's namespace with
 * its configuration, IPC socket and pid file in the lab's record directory, and stopped again.
 *
 * The kernel forwards only datagrams whose TTL (hop limit) is above the interfaces' threshold,
 * 1 by default, and decrements it: a sender's TTL 1 never leaves its LAN, and every router is
 * one hop.
 *
 * @example
 * ```ts
 * import { smcrouteConfig } from "./smcroute.ts";
 * smcrouteConfig(["eth0", "eth1"]).split("\n")[2]; // "mroute from eth0 group 224.0.0.0/4 to eth1"
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { signalProcess } from "../lab/command.ts";
import { namespacePids } from "../lab/cleanup.ts";
import type { Namespace } from "../lab/namespace.ts";

/** The files of one smcrouted. */
export interface SmcrouteFiles {
  /** Its configuration. */
  config: string;
  /** Its IPC socket (for `smcroutectl -u`). */
  socket: string;
  /** Its pid file. */
  pidFile: string;
}

/**
 * The file names of a router's smcrouted in a lab directory.
 *
 * @example
 * ```ts
 * import { smcrouteFiles } from "./smcroute.ts";
 * smcrouteFiles("/run/mcast/labs/lab", "rt1").socket; // "/run/mcast/labs/lab/smcroute-rt1.sock"
 * ```
 *
 * @param dir The lab's directory.
 * @param host The router's name.
 * @returns The paths.
 */
export function smcrouteFiles(dir: string, host: string): SmcrouteFiles {
  const base = `${dir}/smcroute-${host}`;
  return { config: `${base}.conf`, socket: `${base}.sock`, pidFile: `${base}.pid` };
}

/**
 * The smcroute configuration that forwards multicast between all `interfaces`, in every
 * direction, IPv4 (224.0.0.0/4) and IPv6 (ff00::/8). Link-local groups (224.0.0.0/24,
 * ff02::/16) are never routed by the kernel, whatever the rules say.
 *
 * @example
 * ```ts
 * import { smcrouteConfig } from "./smcroute.ts";
 * smcrouteConfig(["eth0", "eth1"]).includes("mroute from eth1 group ff00::/8 to eth0"); // true
 * ```
 *
 * @param interfaces The router's interfaces.
 * @returns The configuration text.
 */
export function smcrouteConfig(interfaces: readonly string[]): string {
  const lines = interfaces.map((iface) => `phyint ${iface} enable`);
  for (const range of ["224.0.0.0/4", "ff00::/8"]) {
    for (const from of interfaces) {
      const to = interfaces.filter((iface) => iface !== from);
      lines.push(`mroute from ${from} group ${range} to ${to.join(" ")}`);
    }
  }
  return `# mcast-lab: forward multicast between ${interfaces.join(", ")}\n${lines.join("\n")}\n`;
}

/**
 * Write the configuration and start smcrouted inside `router` (it detaches once it is ready
 * and writes its pid file).
 *
 * @example
 * ```ts ignore
 * import { smcrouteFiles, startSmcroute } from "./smcroute.ts";
 * const pid = await startSmcroute(rt1, ["eth0", "eth1"], smcrouteFiles(dir, "rt1"));
 * ```
 *
 * @param router The router's namespace.
 * @param interfaces Its interfaces that forward.
 * @param files Where its configuration, socket and pid file go.
 * @returns The daemon's process id.
 * @throws {LabError} When it does not start or write its pid file within 10 s.
 */
export async function startSmcroute(
  router: Namespace,
  interfaces: readonly string[],
  files: SmcrouteFiles,
): Promise<number> {
  await Deno.writeTextFile(files.config, smcrouteConfig(interfaces), { mode: 0o600 });
  await router.run([
    "smcrouted",
    "-N",
    "-f",
    files.config,
    "-u",
    files.socket,
    "-P",
    files.pidFile,
    "-l",
    "notice",
  ], { check: true, timeoutMs: 10_000 });
  const deadline = Date.now() + 10_000;
  while (true) {
    const pid = await readPid(files.pidFile);
    if (pid !== null && (await namespacePids(router.name)).includes(pid)) return pid;
    if (Date.now() > deadline) {
      throw new LabError(`smcrouted did not start in ${router.name}: no pid in ${files.pidFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Stop a daemon of a lab namespace: SIGTERM (so that smcrouted removes its routes), then SIGKILL
 * after `graceMs`. Only a process that really runs in that namespace is signalled: a recorded
 * pid that has gone (and may belong to someone else by now) is left alone.
 *
 * @example
 * ```ts ignore
 * import { stopDaemon } from "./smcroute.ts";
 * await stopDaemon("mlab-lab-rt1", 4242);
 * ```
 *
 * @param namespace The namespace's name.
 * @param pid The daemon's process id.
 * @param graceMs Milliseconds between SIGTERM and SIGKILL.
 */
export async function stopDaemon(namespace: string, pid: number, graceMs = 2_000): Promise<void> {
  if (!(await namespacePids(namespace)).includes(pid)) return;
  signalProcess(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while ((await namespacePids(namespace)).includes(pid)) {
    if (Date.now() > deadline) {
      signalProcess(pid, "SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function readPid(path: string): Promise<number | null> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}
