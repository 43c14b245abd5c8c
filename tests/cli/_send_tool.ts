// What the mcast-send tests share: where the tool is, how it is started, and its --json keys.

import { taskFlags } from "../_task_flags.ts";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;
/** The tool's entry point. */
export const SCRIPT = new URL("../../cli/mcast_send.ts", import.meta.url).pathname;
/** The permissions of `deno task mcast-send`. */
export const FLAGS = taskFlags("mcast-send");

/** The `--json` keys, in the contract's order. */
export const SUMMARY_KEYS = [
  "tool",
  "version",
  "group",
  "groups",
  "port",
  "source",
  "interface",
  "sender_id",
  "ttl",
  "dscp",
  "size",
  "rate_pps",
  "duration_s",
  "packets_sent",
  "bytes_sent",
  "send_errors",
  "achieved_pps",
  "interface_tx_dropped",
];

/** The argv that runs mcast-send with `args`, as the task does. */
export function sendArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", ...FLAGS, SCRIPT, ...args];
}
