/**
 * Membership limits (`max-memberships`): sources per socket filter (`net.ipv4.igmp_max_msf`,
 * `net.ipv6.mld_max_msf`: a join with more fails with ENOBUFS), groups per socket
 * (`net.ipv4.igmp_max_memberships`, for a receiver that joins every group on one socket) and the
 * open-file limit (for a receiver with one socket per group).
 *
 * `net.ipv6.mld_max_msf` exists only in the first network namespace; elsewhere it cannot be
 * read, and a join with several IPv6 sources gets a warning saying so.
 *
 * @module
 */

import { readKernelFile } from "../../ffi/procfs.ts";
import { readSysctl } from "../sysctl.ts";
import type { Finding } from "./finding.ts";
import { describeJoin, type Reception } from "./reception.ts";

/** Descriptors a receiver holds besides its group sockets (stdio, the runtime's own). */
const OWN_DESCRIPTORS = 16;

/** Options of {@linkcode checkLimits}. */
export interface CheckLimitsOptions {
  /**
   * How many groups the receiver joins.
   *
   * @default {1}
   */
  groups?: number;
  /**
   * Whether it joins them all on one socket (else one socket per group).
   *
   * @default {false}
   */
  sharedSocket?: boolean;
  /** Where procfs is mounted. @default {"/proc"} */
  procRoot?: string;
}

/**
 * The soft and hard open-file limits of this process (`Max open files` of `/proc/self/limits`),
 * or null when unreadable; `Infinity` for unlimited.
 *
 * @example
 * ```ts
 * import { parseOpenFileLimit } from "./limits_check.ts";
 * parseOpenFileLimit("Max open files            1024                 524288               files\n");
 * // { soft: 1024, hard: 524288 }
 * ```
 *
 * @param text The file's contents.
 * @returns The limits, or null.
 */
export function parseOpenFileLimit(text: string): { soft: number; hard: number } | null {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (match === null) return null;
  const value = (v: string) => v === "unlimited" ? Infinity : Number(v);
  return { soft: value(match[1]), hard: value(match[2]) };
}

/**
 * Checks the join against the membership limits.
 *
 * @example
 * ```ts ignore
 * import { resolveReception } from "./reception.ts";
 * import { checkLimits } from "./limits_check.ts";
 * checkLimits(resolveReception({ group: "239.1.1.1" }), { groups: 64, sharedSocket: true });
 * ```
 *
 * @param reception The checked request.
 * @param options Group count, socket use, procfs root.
 * @returns The findings (`max-memberships`).
 */
export function checkLimits(reception: Reception, options: CheckLimitsOptions = {}): Finding[] {
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  const groups = options.groups ?? 1;
  const findings: Finding[] = [];
  const ipv4 = reception.family === "IPv4";
  const count = reception.sources.length + reception.exclude.length;
  const key = ipv4 ? "net.ipv4.igmp_max_msf" : "net.ipv6.mld_max_msf";
  if (count > 1) {
    const max = readSysctl(`${root}/sys/${key.replaceAll(".", "/")}`);
    if (max === null) {
      findings.push({
        id: "max-memberships",
        severity: "warning",
        message: `Cannot read ${key} here: ${describeJoin(reception)} lists ${count} sources, ` +
          `which fails (ENOBUFS) if ${key} is below ${count} (the kernel's default is ${
            ipv4 ? 10 : 64
          })`,
        fix: `sysctl ${key}`,
      });
    } else if (count > max) {
      findings.push({
        id: "max-memberships",
        severity: "error",
        message: `${describeJoin(reception)} lists ${count} sources and ${key} = ${max}: the ` +
          "join fails with ENOBUFS",
        fix: `sysctl -w ${key}=${count}`,
      });
    }
  }
  if (options.sharedSocket === true && ipv4 && groups > 1) {
    const max = readSysctl(`${root}/sys/net/ipv4/igmp_max_memberships`);
    if (max !== null && groups > max) {
      findings.push({
        id: "max-memberships",
        severity: "error",
        message: `${groups} groups on one socket and net.ipv4.igmp_max_memberships = ${max}: ` +
          `joins beyond the ${max}th fail with ENOBUFS`,
        fix: `sysctl -w net.ipv4.igmp_max_memberships=${groups}`,
      });
    }
  } else if (options.sharedSocket !== true && groups > 1) {
    let limits: { soft: number; hard: number } | null = null;
    try {
      limits = parseOpenFileLimit(readKernelFile(`${root}/self/limits`));
    } catch {
      limits = null;
    }
    const needed = groups + OWN_DESCRIPTORS;
    if (limits !== null && needed > limits.soft) {
      findings.push({
        id: "max-memberships",
        severity: "error",
        message:
          `${groups} groups need ${groups} sockets and the open-file limit is ${limits.soft}`,
        fix: needed <= limits.hard
          ? `ulimit -n ${needed}`
          : `ulimit -Hn ${needed} && ulimit -n ${needed} (as root)`,
      });
    }
  }
  return findings;
}
