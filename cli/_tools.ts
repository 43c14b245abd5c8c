// The four tools, their entry points and the least permissions each needs — one table for
// `deno task compile` and `deno task install`. /proc and /sys are read and written through libc
// (ffi/procfs.ts); the read permission covers /sys/class/net for the MTU warning.

/** One tool: its command name, entry point and permission flags. */
export interface ToolEntry {
  /** The command name. */
  readonly name: string;
  /** The entry point, relative to the repository root. */
  readonly entry: string;
  /** Deno permission flags. */
  readonly permissions: readonly string[];
}

/** Every tool of the project. */
export const TOOLS: readonly ToolEntry[] = [
  {
    name: "mcast-send",
    entry: "cli/mcast_send.ts",
    permissions: ["--allow-ffi", "--allow-env", "--allow-read=/proc,/sys"],
  },
  {
    name: "mcast-receive",
    entry: "cli/mcast_receive.ts",
    permissions: ["--allow-ffi", "--allow-env", "--allow-read=/proc,/sys"],
  },
  {
    name: "mcast-status",
    entry: "cli/mcast_status.ts",
    // --check runs ip, iptables-save and nft (read-only).
    permissions: ["--allow-ffi", "--allow-env", "--allow-read=/proc,/sys", "--allow-run"],
  },
  {
    name: "mctx-send",
    entry: "cli/mctx_send.ts",
    permissions: ["--allow-ffi", "--allow-env", "--allow-read", "--allow-write"],
  },
];
