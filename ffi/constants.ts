/**
 * Socket constants, errno numbers and struct layouts of the running OS, chosen once from the
 * per-OS tables (`_constants_linux.ts`, `_constants_darwin.ts`). Code asks {@linkcode PLATFORM}
 * and {@linkcode CAPABILITIES} instead of testing `Deno.build.os` itself.
 *
 * @module
 */

import { DARWIN } from "./_constants_darwin.ts";
import { LINUX } from "./_constants_linux.ts";
import type { PlatformTable } from "./_platform.ts";

export type { PlatformTable, StructLayout } from "./_platform.ts";

function selectPlatform(os: string): PlatformTable {
  switch (os) {
    case "darwin":
      return DARWIN;
    default:
      // Linux is the verified platform; others get its table and fail loudly at dlopen.
      return { ...LINUX, os };
  }
}

/**
 * The constant table of the running OS.
 *
 * @example
 * ```ts
 * import { PLATFORM } from "./constants.ts";
 * const family = PLATFORM.AF_INET6; // 10 on Linux, 30 on macOS
 * ```
 */
export const PLATFORM: PlatformTable = selectPlatform(Deno.build.os);

/**
 * Whether this host is little-endian: the byte order of every host-order field of a C structure
 * (sockaddr families, scope ids, lengths) and of the host-order columns the kernel prints in
 * `/proc` (`/proc/net/igmp` groups, `/proc/net/route` destinations and masks).
 *
 * @example
 * ```ts
 * import { LITTLE_ENDIAN } from "./constants.ts";
 * new DataView(new ArrayBuffer(4)).getUint32(0, LITTLE_ENDIAN); // host order
 * ```
 */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What the running OS can do, so callers branch on a capability rather than on an OS name. */
export interface Capabilities {
  /** sendmmsg/recvmmsg exist (batches of datagrams per system call). */
  batchedMessages: boolean;
  /** SO_RCVBUFFORCE exists (root may exceed net.core.rmem_max). */
  forcedReceiveBuffer: boolean;
  /** SO_TIMESTAMPNS exists (kernel receive time in nanoseconds). */
  nanosecondReceiveTimestamps: boolean;
  /** The IGMP/MLD version can be forced through /proc/sys. */
  procMembershipVersion: boolean;
  /** Packet sockets with classic BPF filters exist (what reaches an interface can be watched). */
  packetSockets: boolean;
}

/**
 * What the running OS supports.
 *
 * @example
 * ```ts
 * import { CAPABILITIES } from "./constants.ts";
 * if (!CAPABILITIES.batchedMessages) console.log("one datagram per system call");
 * ```
 */
export const CAPABILITIES: Capabilities = {
  batchedMessages: PLATFORM.layout.mmsghdrSize > 0,
  forcedReceiveBuffer: PLATFORM.SO_RCVBUFFORCE >= 0,
  nanosecondReceiveTimestamps: PLATFORM.SO_TIMESTAMPNS >= 0,
  procMembershipVersion: PLATFORM.os === "linux",
  packetSockets: PLATFORM.AF_PACKET >= 0 && PLATFORM.SO_ATTACH_FILTER >= 0,
};
