/**
 * The network-namespace lab harness: builds throw-away topologies of Linux network namespaces
 * (veth links, bridged LANs, routers), runs commands and Deno scripts inside them, captures
 * packets with tcpdump and decodes them, and deletes everything afterwards — also when the test
 * throws or times out, and on SIGTERM/SIGHUP/unload as a safety net. (`deno test` exits on SIGINT
 * without running JS handlers; what that leaves behind is removed by the next run's first
 * `Lab.create()`, see {@linkcode cleanupStaleLabs}.)
 *
 * All traffic stays inside namespaces the lab creates; the host's own interfaces are never
 * touched (veth pairs are created directly inside their namespaces with `ip -n A link add …
 * peer … netns B`, so nothing ever appears in the root namespace).
 *
 * Namespace names are `mcl-<pid>-<lab>-<label>` (another prefix with `Lab.create({ prefix })`);
 * interface names are short (`veth0`, `p1`, `br0`), which only have to be unique inside their own
 * namespace.
 *
 * This module only re-exports; one concept per file: `_namespace.ts` (a namespace), `_lan.ts`
 * (bridged LANs), `_lab.ts` (the lab), `_live_labs.ts` (the labs alive and the signal safety net),
 * `_cleanup.ts` (deleting namespaces, stale ones included), `_command.ts` (running programs),
 * `_capture.ts` and `_pcap.ts` (captures). None of these registers a test, so the benchmark uses
 * them too; `labTest()` is in `_lab_testing.ts`.
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
} from "./_cleanup.ts";
export {
  type CommandResult,
  findOnPath,
  LabError,
  LabProcess,
  type RunOptions,
  type SpawnOptions,
} from "./_command.ts";
export {
  Lab,
  type LabOptions,
  type Link,
  type LinkOptions,
  type NamespaceOptions,
} from "./_lab.ts";
export { labTest, type LabTestOptions, missingLabRequirements } from "./_lab_testing.ts";
export { Lan, type LanOptions } from "./_lan.ts";
export {
  type CaptureOptions,
  type DenoOptions,
  type LabInterface,
  Namespace,
} from "./_namespace.ts";
export { type CapturedPacket, formatIpv6, parsePcap, readPcap } from "./_pcap.ts";
