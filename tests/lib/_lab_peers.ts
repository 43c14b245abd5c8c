// Private test helpers for lab tests that run peers (Deno subprocesses) inside namespaces:
// start and read `_receiver.ts`, look up interface facts with `ip -j`, build a link whose egress
// is held back so a small socket send buffer fills and stays full, and read the JSON step lines
// that `_peer_report.ts` makes the peers print.

import assert from "node:assert/strict";
import type { Lab, LabProcess, Link, Namespace } from "../lab/mod.ts";

/** The multicast receiver / async sender peer run by the publication lab tests. */
export const RECEIVER = new URL("./_receiver.ts", import.meta.url).pathname;

/** One datagram as `_receiver.ts` prints it. */
export interface Received {
  source: string;
  port: number;
  ttl: number;
  tos: number;
  ifindex: number;
  bytes: number;
  payloadHex: string;
}

/** The final line of `_receiver.ts`. */
export interface Summary {
  count: number;
  unique: number;
  bytes: number;
  sources: Record<string, number>;
  ttls: number[];
}

/** Starts a receiver in `ns` and waits until it has joined. */
export async function startReceiver(ns: Namespace, args: string[]): Promise<LabProcess> {
  const process = ns.spawnDeno(RECEIVER, { args });
  await process.waitForOutput(/READY/, 20_000);
  return process;
}

/** Waits for a receiver to stop (count reached, idle or time limit) and parses its output. */
export async function results(
  process: LabProcess,
): Promise<{ datagrams: Received[]; summary: Summary }> {
  const result = await process.wait();
  assert.equal(result.code, 0, `receiver failed: ${result.stderr}`);
  const datagrams: Received[] = [];
  let summary: Summary | undefined;
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const value = JSON.parse(line);
    if (value.summary) summary = value.summary;
    else datagrams.push(value);
  }
  assert.ok(summary, `no summary in ${result.stdout}`);
  return { datagrams, summary };
}

/** The kernel's index of `iface` in `ns`. */
export async function ifindex(ns: Namespace, iface: string): Promise<number> {
  return JSON.parse(await ns.ip(["-j", "link", "show", "dev", iface]))[0].ifindex;
}

/** The fe80:: address of `iface` in `ns`, waiting (bounded) until the kernel has made it. */
export async function linkLocal(ns: Namespace, iface: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const info = JSON.parse(
      await ns.ip(["-j", "-6", "addr", "show", "dev", iface, "scope", "link"]),
    );
    // `ip -j` leaves an empty object for each address the scope filter dropped.
    const address = (info[0]?.addr_info ?? []).find((a: { local?: string }) =>
      a.local?.startsWith("fe80:")
    )?.local;
    if (address) return address;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`No link-local address on ${iface}`);
}

/** A veth link whose sending end is held back; see {@linkcode blockedEgress}. */
export interface BlockedEgress {
  /** The namespace whose egress is held back (run the sender here). */
  sender: Namespace;
  /** The link; `link.a` is the held-back end in {@linkcode BlockedEgress.sender}. */
  link: Link;
}

/**
 * Two namespaces on a veth link whose `a` end has a token bucket that passes a 200-byte burst
 * and then one byte per second (`tbf rate 8bit burst 200`, queue limit 1 MB). Datagrams of at
 * most 200 bytes on the wire (UDP payloads up to 150 bytes) wait in the qdisc, still charged to
 * their socket, so a small SO_SNDBUF fills after a handful of sends and does not drain during a
 * test: send() then fails with EAGAIN and poll() never reports POLLOUT. Larger datagrams would
 * be dropped by tbf (freeing their buffer), so the socket would never fill.
 * {@linkcode unblockEgress} deletes the qdisc, which frees the queue: the socket is writable again.
 *
 * The sender namespace has the lab's `224.0.0.0/4` route out of the link, so multicast needs no
 * ARP (unicast would park datagrams in the neighbour queue instead of the qdisc).
 *
 * @param lab The test's lab.
 * @returns The sender namespace and the link.
 */
export async function blockedEgress(lab: Lab): Promise<BlockedEgress> {
  const sender = await lab.addNamespace("sender");
  const peer = await lab.addNamespace("peer");
  const link = await lab.link(sender, peer);
  await addTokenBucket(sender, link.a.name, ["rate", "8bit", "burst", "200", "limit", "1000000"]);
  return { sender, link };
}

/**
 * Adds a token bucket filter as the root qdisc of `iface` (`tc qdisc add dev <iface> root tbf
 * <params…>`).
 *
 * @param ns The namespace.
 * @param iface The interface.
 * @param params The tbf parameters, for example `["rate", "20mbit", "burst", "16kbit", …]`.
 */
export async function addTokenBucket(
  ns: Namespace,
  iface: string,
  params: string[],
): Promise<void> {
  await ns.run(["tc", "qdisc", "add", "dev", iface, "root", "tbf", ...params], {
    check: true,
    timeoutMs: 15_000,
  });
}

/**
 * Deletes the qdisc of {@linkcode blockedEgress}: the queued datagrams are freed and their
 * sockets become writable.
 *
 * @param blocked What {@linkcode blockedEgress} returned.
 */
export async function unblockEgress(blocked: BlockedEgress): Promise<void> {
  await blocked.sender.run(["tc", "qdisc", "del", "dev", blocked.link.a.name, "root"], {
    check: true,
    timeoutMs: 15_000,
  });
}

/** One line a peer printed with `_peer_report.ts`'s `emit`. */
export type Step = Record<string, unknown>;

/**
 * Waits for a peer to exit 0 and returns its `emit`ted lines by step name.
 *
 * @param process The peer.
 * @returns The steps.
 */
export async function peerSteps(process: LabProcess): Promise<Record<string, Step>> {
  const result = await process.wait();
  assert.equal(result.code, 0, `peer failed: ${result.stderr}\n${result.stdout}`);
  const steps: Record<string, Step> = {};
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const { step, ...fields } = JSON.parse(line);
    steps[step] = fields;
  }
  return steps;
}
