/**
 * Reading the one-number kernel files the tools consult: sysctls under `/proc/sys`
 * (`force_igmp_version`, `force_mld_version` …) and interface attributes under `/sys/class/net`
 * (`mtu`). One reader for all of them, through libc (`ffi/procfs.ts`: Deno's file API refuses
 * `/proc` short of `--allow-all`).
 *
 * A value is a non-negative decimal integer (surrounding whitespace allowed, up to 15 digits so it
 * stays exact); anything else reads as missing.
 *
 * @module
 */

import { readKernelFile } from "../ffi/procfs.ts";

/**
 * Why a kernel number could not be read: `"missing"` (no such file, or not a number),
 * `"denied"` (the kernel refused: not root), `"not-capable"` (Deno refused: files under `/proc`
 * need `--allow-all` or, through libc, `--allow-ffi`).
 */
export type SysctlFailure = "missing" | "denied" | "not-capable";

/** Options for {@linkcode interfaceMtu}. */
export interface InterfaceMtuOptions {
  /** Where sysfs is mounted; tests point it at a temporary directory. @default {"/sys"} */
  sysRoot?: string;
}

/**
 * Reads a kernel number, telling why it could not be read.
 *
 * @example
 * ```ts
 * import { readSysctlStatus } from "./sysctl.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/value`, "2\n");
 * readSysctlStatus(`${dir}/value`); // 2
 * readSysctlStatus(`${dir}/absent`); // "missing"
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param path The file.
 * @returns The number, or the reason it could not be read.
 */
export function readSysctlStatus(path: string): number | SysctlFailure {
  try {
    const text = readKernelFile(path).trim();
    return /^\d{1,15}$/.test(text) ? Number(text) : "missing";
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return "not-capable";
    if (error instanceof Deno.errors.PermissionDenied) return "denied";
    return "missing";
  }
}

/**
 * Reads a kernel number, or null when it cannot be read for any reason.
 *
 * @example
 * ```ts
 * import { readSysctl } from "./sysctl.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/value`, "junk\n");
 * readSysctl(`${dir}/value`); // null
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param path The file.
 * @returns The number, or null.
 */
export function readSysctl(path: string): number | null {
  const value = readSysctlStatus(path);
  return typeof value === "number" ? value : null;
}

/**
 * Whether a name is one the kernel could give an interface (1 to 15 characters, no `/`, `:` or
 * whitespace, not `.` or `..`), and so safe to put in a `/proc/sys` or `/sys` path.
 *
 * @example
 * ```ts
 * import { validInterfaceName } from "./sysctl.ts";
 * validInterfaceName("eth0"); // true
 * validInterfaceName("../etc"); // false
 * ```
 *
 * @param name The name.
 * @returns True when it can be an interface name.
 */
export function validInterfaceName(name: string): boolean {
  return typeof name === "string" && /^[^/\s:]{1,15}$/.test(name) && name !== "." &&
    name !== "..";
}

/**
 * The MTU of an interface, from `/sys/class/net/<name>/mtu`.
 *
 * @example
 * ```ts
 * import { interfaceMtu } from "./sysctl.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/class/net/eth0`, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/class/net/eth0/mtu`, "1500\n");
 * interfaceMtu("eth0", { sysRoot: dir }); // 1500
 * interfaceMtu("eth9", { sysRoot: dir }); // null
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param name The interface name.
 * @param options Where sysfs is.
 * @returns The MTU in bytes, or null when it cannot be read (no sysfs, no such interface, not a
 *   positive number, not an interface name).
 */
export function interfaceMtu(name: string, options: InterfaceMtuOptions = {}): number | null {
  if (!validInterfaceName(name)) return null;
  const root = (options.sysRoot ?? "/sys").replace(/\/+$/, "");
  const mtu = readSysctl(`${root}/class/net/${name}/mtu`);
  return mtu !== null && mtu > 0 ? mtu : null;
}

/**
 * One of an interface's kernel counters, from `/sys/class/net/<name>/statistics/<counter>`
 * (`tx_dropped`: datagrams the kernel dropped on their way out, for example through a veth
 * whose peer is down).
 *
 * @example
 * ```ts
 * import { interfaceStatistic } from "./sysctl.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/class/net/eth0/statistics`, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/class/net/eth0/statistics/tx_dropped`, "12\n");
 * interfaceStatistic("eth0", "tx_dropped", { sysRoot: dir }); // 12
 * interfaceStatistic("eth0", "rx_dropped", { sysRoot: dir }); // null
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param name The interface name.
 * @param counter The counter's file name (`tx_dropped`, `tx_packets`, `rx_dropped` …).
 * @param options Where sysfs is.
 * @returns The count, or null when it cannot be read.
 */
export function interfaceStatistic(
  name: string,
  counter: string,
  options: InterfaceMtuOptions = {},
): number | null {
  if (!validInterfaceName(name) || !/^[a-z_]{1,32}$/.test(counter)) return null;
  const root = (options.sysRoot ?? "/sys").replace(/\/+$/, "");
  return readSysctl(`${root}/class/net/${name}/statistics/${counter}`);
}

/**
 * Whether an interface has a carrier now, from `/sys/class/net/<name>/carrier`. The kernel
 * updates that file at once, while the IFF_RUNNING flag follows the carrier only after its
 * link-watch delay (a few milliseconds after a veth's peer went down).
 *
 * @example
 * ```ts
 * import { interfaceCarrier } from "./sysctl.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/class/net/veth0`, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/class/net/veth0/carrier`, "0\n");
 * interfaceCarrier("veth0", { sysRoot: dir }); // false
 * interfaceCarrier("veth9", { sysRoot: dir }); // null
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param name The interface name.
 * @param options Where sysfs is, and the interface's index: when given, a sysfs that lists
 *   another interface under that name (mounted for another network namespace) is not believed.
 * @returns True or false, or null when it cannot be read (no sysfs; an interface that is
 *   administratively down refuses the read; another interface of that name).
 */
export function interfaceCarrier(
  name: string,
  options: InterfaceMtuOptions & { index?: number } = {},
): boolean | null {
  if (!validInterfaceName(name)) return null;
  const root = (options.sysRoot ?? "/sys").replace(/\/+$/, "");
  if (
    options.index !== undefined &&
    readSysctl(`${root}/class/net/${name}/ifindex`) !== options.index
  ) return null;
  const carrier = readSysctl(`${root}/class/net/${name}/carrier`);
  return carrier === null ? null : carrier !== 0;
}
