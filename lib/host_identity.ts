/**
 * Who and where this process is, in a form that outlives it and is never reused: the network
 * namespace's cookie (`SO_NETNS_COOKIE`, unique for the boot, unlike a namespace's inode number,
 * which the kernel hands out again once a namespace is gone), and a process's identity as its pid
 * and start time (`/proc/PID/stat` field 22), so a pid that was reused is not taken for the
 * process that held it.
 *
 * @module
 */

import { PLATFORM } from "../ffi/constants.ts";
import { readKernelFile } from "../ffi/procfs.ts";
import { UdpSocket } from "../ffi/socket.ts";

/** A process that can be told apart from a later one with the same pid. */
export interface ProcessIdentity {
  /** The pid. */
  pid: number;
  /** Its start time in clock ticks since boot (`/proc/PID/stat` field 22), as text. */
  startTime: string;
}

let namespaceId: string | undefined;

/**
 * The network namespace this process lives in: `netns-<cookie>`, or `netns-unknown` where the
 * kernel has no cookie (before Linux 5.14).
 *
 * @example
 * ```ts ignore
 * import { networkNamespaceId } from "./host_identity.ts";
 * networkNamespaceId(); // "netns-4097"
 * ```
 *
 * @returns The id.
 */
export function networkNamespaceId(): string {
  if (namespaceId !== undefined) return namespaceId;
  if (PLATFORM.SO_NETNS_COOKIE < 0) return namespaceId = "netns-unknown";
  try {
    using socket = UdpSocket.open("IPv4");
    const cookie = socket.getU64(PLATFORM.SOL_SOCKET, PLATFORM.SO_NETNS_COOKIE, "SO_NETNS_COOKIE");
    return namespaceId = `netns-${cookie}`;
  } catch {
    return namespaceId = "netns-unknown";
  }
}

/**
 * The identity of a live process, or null when there is no such process (or /proc cannot be
 * read).
 *
 * @example
 * ```ts ignore
 * import { processIdentity } from "./host_identity.ts";
 * processIdentity(Deno.pid); // { pid: 1234, startTime: "8812345" }
 * ```
 *
 * @param pid The pid.
 * @returns Pid and start time, or null.
 */
export function processIdentity(pid: number): ProcessIdentity | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let stat: string;
  try {
    stat = readKernelFile(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ')': split after the
  // last one. Field 22 is then the 20th of the rest (fields 3, 4, …).
  const rest = stat.slice(stat.lastIndexOf(")") + 1).trim().split(/\s+/);
  const startTime = rest[19];
  return startTime !== undefined && /^\d+$/.test(startTime) ? { pid, startTime } : null;
}

/**
 * Whether the process that had this identity is still running (same pid, same start time).
 *
 * @example
 * ```ts ignore
 * import { isAlive, processIdentity } from "./host_identity.ts";
 * isAlive(processIdentity(Deno.pid)!); // true
 * ```
 *
 * @param identity The identity recorded earlier.
 * @returns True while it runs.
 */
export function isAlive(identity: ProcessIdentity): boolean {
  return processIdentity(identity.pid)?.startTime === identity.startTime;
}
