// The five tools, their entry points and the least permissions each needs — one table for
// `deno task compile`, `deno task install` and the tool wrappers inside mcast-lab's labs. /proc
// and /sys are read and written through libc (ffi/procfs.ts); the read permission covers
// /sys/class/net for the MTU warning. mcast-lab runs `ip` (and through it smcroute, nft and the
// commands of `exec`), signals the daemons it started (Deno.kill needs all of --allow-run),
// checks that it is root (uid) and keeps its records in /run/mcast.

/** One tool: its command name, entry point and permission flags. */
export interface ToolEntry {
  /** The command name. */
  readonly name: string;
  /** The entry point, relative to the repository root. */
  readonly entry: string;
  /** Deno permission flags. */
  readonly permissions: readonly string[];
  /** Only for Linux (network namespaces): not compiled for or installed on other systems. */
  readonly linuxOnly?: boolean;
}

/** Every tool of the project (mcast-lab last: the other four run inside its labs). */
export const TOOLS: readonly ToolEntry[] = [
  {
    name: "mcast-send",
    entry: "cli/mcast_send.ts",
    permissions: ["--allow-ffi", "--allow-env", "--allow-read=/proc,/sys"],
  },
  {
    name: "mcast-receive",
    entry: "cli/mcast_receive.ts",
    // /run/mcast: the shared records of forced IGMP/MLD versions (root only writes them); the
    // diagnosis of a silent stream runs ip, iptables-save and nft (read-only).
    permissions: [
      "--allow-ffi",
      "--allow-env",
      "--allow-read=/proc,/sys,/run/mcast",
      "--allow-write=/run/mcast",
      "--allow-run",
    ],
  },
  {
    name: "mcast-status",
    entry: "cli/mcast_status.ts",
    // --check runs ip, iptables-save and nft (read-only).
    permissions: [
      "--allow-ffi",
      "--allow-env",
      "--allow-read=/proc,/sys,/run/mcast",
      "--allow-run",
    ],
  },
  {
    name: "mctx-send",
    entry: "cli/mctx_send.ts",
    permissions: ["--allow-ffi", "--allow-env", "--allow-read", "--allow-write"],
  },
  {
    name: "mcast-lab",
    entry: "cli/mcast_lab.ts",
    permissions: [
      "--allow-run",
      "--allow-env",
      "--allow-sys=uid",
      "--allow-read=/run/mcast",
      "--allow-write=/run/mcast",
    ],
    linuxOnly: true,
  },
];
