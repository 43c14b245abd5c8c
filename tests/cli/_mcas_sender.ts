/**
 * Private test helper for the `mcast-receive` tests: sends a scripted MCAS stream with known
 * truth to a group, out of one interface from one source address and socket, then exits. Built
 * on `lib/mcas.ts` and the socket seam only (through `../ffi/_sockets.ts`), so the receiver tests
 * do not depend on `mcast-send`.
 *
 * ```
 * deno run --allow-all _mcas_sender.ts <group> [--interface lo] [--source A] [--port 19779]
 *     [--ttl 64] [--dscp 0|ef] [--size 200] [--interval-ms 2]
 *     [--count N | --plan "id=1:0-4,6,5,7,7,8;foreign=3;pause=500;id=2:0-9"]
 * ```
 *
 * A plan is `;`-separated steps, sent in order with `--interval-ms` between datagrams:
 *
 * - `id=<hex|random>:<sequences>`: MCAS datagrams of that sender id with the listed sequence
 *   numbers (`a-b` ranges and single numbers, comma-separated, in the order given: repeat a
 *   number for a duplicate, swap two for a reordering, leave one out for a loss);
 * - `foreign=<n>`: n datagrams that are not MCAS (no magic);
 * - `pause=<ms>`: silence.
 *
 * Without a plan, `--count N` sends sequences 0..N-1 of one random sender id. Prints one JSON
 * line `{ "mcas", "foreign", "sender_ids" }` at the end and exits 0; a failure exits 1.
 *
 * Traffic goes only where the caller points it: `lo` or an interface of a lab namespace.
 *
 * @module
 */

import { parseAddress } from "../../lib/address.ts";
import { parseDscp } from "../../lib/dscp.ts";
import { formatSenderId, McasEncoder, parseSenderId, randomSenderId } from "../../lib/mcas.ts";
import { resolveInterface } from "../../lib/interfaces.ts";
import { monotonicNs } from "../../ffi/clock.ts";
import { openMulticastSender } from "../ffi/_sockets.ts";

/** One step of a plan. */
export type PlanStep =
  | { kind: "mcas"; senderId: bigint; sequences: bigint[] }
  | { kind: "foreign"; count: number }
  | { kind: "pause"; ms: number };

/**
 * Parses a plan (see the module doc).
 *
 * @param text The plan.
 * @returns Its steps.
 */
export function parsePlan(text: string): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const part of text.split(";").map((p) => p.trim()).filter((p) => p !== "")) {
    const [key, value = ""] = part.split("=", 2);
    if (key === "foreign") steps.push({ kind: "foreign", count: Number(value) });
    else if (key === "pause") steps.push({ kind: "pause", ms: Number(value) });
    else if (key === "id") {
      const [id, list = ""] = value.split(":", 2);
      const sequences: bigint[] = [];
      for (const item of list.split(",").filter((i) => i !== "")) {
        const range = /^(\d+)-(\d+)$/.exec(item);
        if (range === null) sequences.push(BigInt(item));
        else for (let s = BigInt(range[1]); s <= BigInt(range[2]); s++) sequences.push(s);
      }
      steps.push({
        kind: "mcas",
        senderId: id === "random" ? randomSenderId() : parseSenderId(id),
        sequences,
      });
    } else throw new Error(`Bad plan step: ${part}`);
  }
  return steps;
}

async function run(): Promise<void> {
  const [group, ...rest] = Deno.args;
  const options = new Map<string, string>();
  for (let i = 0; i + 1 < rest.length; i += 2) {
    options.set(rest[i].replace(/^--/, ""), rest[i + 1]);
  }
  if (!group) throw new Error("usage: _mcas_sender.ts <group> [--interface I] [--plan P] …");
  const iface = resolveInterface(options.get("interface") ?? "lo");
  const v6 = parseAddress(group).family === "IPv6";
  const source = options.get("source") ??
    iface.addresses.find((a) => a.family === (v6 ? "IPv6" : "IPv4"))?.address;
  if (source === undefined) throw new Error(`No source address on ${iface.name}`);
  const port = Number(options.get("port") ?? 19779);
  const ttl = Number(options.get("ttl") ?? 64);
  const dscp = parseDscp(options.get("dscp") ?? "0");
  const size = Number(options.get("size") ?? 200);
  const intervalMs = Number(options.get("interval-ms") ?? 2);
  const count = Number(options.get("count") ?? 10);
  const steps = parsePlan(options.get("plan") ?? `id=random:0-${count - 1}`);

  using socket = openMulticastSender({
    group,
    port,
    source,
    ifindex: iface.index,
    ttl,
    tos: dscp << 2,
  });
  const foreignDatagram = new TextEncoder().encode("not an MCAS datagram, just noise".repeat(4));
  const encoders = new Map<bigint, McasEncoder>();
  let mcas = 0;
  let foreign = 0;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (const step of steps) {
    if (step.kind === "pause") {
      await pause(step.ms);
      continue;
    }
    if (step.kind === "foreign") {
      for (let i = 0; i < step.count; i++) {
        if (socket.send(foreignDatagram) !== foreignDatagram.length) {
          throw new Error("Short");
        }
        foreign++;
        if (intervalMs > 0) await pause(intervalMs);
      }
      continue;
    }
    let encoder = encoders.get(step.senderId);
    if (encoder === undefined) {
      encoder = new McasEncoder(size, { ttl, dscp, senderId: step.senderId });
      encoders.set(step.senderId, encoder);
    }
    for (const sequence of step.sequences) {
      const datagram = encoder.encode(sequence, monotonicNs());
      if (socket.send(datagram) !== datagram.length) throw new Error("Short send");
      mcas++;
      if (intervalMs > 0) await pause(intervalMs);
    }
  }
  console.log(JSON.stringify({
    mcas,
    foreign,
    sender_ids: [...encoders.keys()].map(formatSenderId),
  }));
}

if (import.meta.main) {
  try {
    await run();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
