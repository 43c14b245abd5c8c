/**
 * The network-namespace lab harness of the tests: builds throw-away topologies of Linux network
 * namespaces (veth links, bridged LANs, routers), runs commands and Deno scripts inside them,
 * captures packets with tcpdump and decodes them, and deletes everything afterwards — also when
 * the test throws or times out, and on SIGTERM/SIGHUP/unload as a safety net. (`deno test` exits
 * on SIGINT without running JS handlers; what that leaves behind is removed by the next run's
 * first `Lab.create()`, see {@linkcode cleanupStaleLabs}.)
 *
 * All traffic stays inside namespaces the lab creates; the host's own interfaces are never
 * touched (veth pairs are created directly inside their namespaces with `ip -n A link add …
 * peer … netns B`, so nothing ever appears in the root namespace).
 *
 * Namespace names are `mcl-<pid>-<lab>-<label>` (another prefix with `Lab.create({ prefix })`);
 * interface names are short (`veth0`, `p1`, `br0`), which only have to be unique inside their own
 * namespace.
 *
 * This module only re-exports. The building blocks are the library's (`lib/lab/`: `command.ts`
 * running programs, `programs.ts` finding them, `namespace.ts`, `lan.ts`, `network.ts`, `lab.ts` the throw-away lab,
 * `live_labs.ts` the signal safety net, `cleanup.ts` deleting namespaces, stale ones included);
 * what only tests need is here: `_namespace.ts` and `_lab.ts` (namespaces that capture),
 * `_capture.ts` and `_pcap.ts` (captures), and `labTest()` in `_lab_testing.ts`, the only part
 * that registers Deno tests — so the benchmark uses this module too.
 *
 * @example Two hosts on a veth link
 * ```ts ignore
 * import { labTest } from "./mod.ts";
 *
 * labTest("hosts talk", async (lab) => {
 *   const a = await lab.addNamespace("a");
 *   const b = await lab.addNamespace("b");
 *   const link = await lab.link(a, b); // 10.100.1.1/24 + fd00:100:1::1/64 ⇄ .2 / ::2
 *   await a.run(["bash", "-c", `echo hi > /dev/udp/${link.b.ipv4}/9000`], { check: true });
 * }, { requires: ["bash"] });
 * ```
 *
 * @module
 */

export { Capture, hasTshark, tsharkPackets } from "./_capture.ts";
export {
  type CleanupOptions,
  cleanupStaleLabs,
  LAB_PREFIX,
  listLabNamespaces,
} from "../../lib/lab/cleanup.ts";
export {
  type CommandResult,
  LabProcess,
  type RunOptions,
  type SpawnOptions,
} from "../../lib/lab/command.ts";
export { findOnPath } from "../../lib/lab/programs.ts";
export { LabError } from "../../lib/errors.ts";
export { type LabOptions } from "../../lib/lab/lab.ts";
export { Lab } from "./_lab.ts";
export { type Link, type LinkOptions, type NamespaceOptions } from "../../lib/lab/network.ts";
export { labTest, type LabTestOptions, missingLabRequirements } from "./_lab_testing.ts";
export { type AttachOptions, Lan, type LanOptions } from "../../lib/lab/lan.ts";
export { type DenoOptions, type LabInterface } from "../../lib/lab/namespace.ts";
export { type CaptureOptions, Namespace } from "./_namespace.ts";
export { type CapturedPacket, formatIpv6, parsePcap, readPcap } from "./_pcap.ts";
