/**
 * What reaches the receiving interface but not the socket: a packet socket filtered to UDP for
 * the group (`ffi/packet_socket.ts`, root only) watches the interface for a bounded time, and
 * what it saw becomes findings — datagrams for the group on another port (`other-port`, naming
 * the port), from sources the join does not accept (`other-source`, naming them), or from a
 * source that reverse-path filtering drops (`rp-filter`, naming it).
 *
 * The packet socket exists only while {@linkcode watchWire} runs: a receiver opens it when it
 * has been waiting or stalled, never while datagrams flow, so its receive path pays nothing.
 *
 * @module
 */

import { udpToGroupProgram } from "../../ffi/bpf.ts";
import { PacketSocket } from "../../ffi/packet_socket.ts";
import { PLATFORM } from "../../ffi/constants.ts";
import { PermissionError, SocketError } from "../errors.ts";
import type { NetworkInterface } from "../interfaces.ts";
import { readReversePathDrops } from "../proc_counters.ts";
import type { Finding } from "./finding.ts";
import { receiveCommand, type Reception } from "./reception.ts";
import { parseUdpHeaders } from "./packet_headers.ts";
import { checkReversePath } from "./reverse_path.ts";

/** At most this many distinct (source, port) pairs are kept. */
const MAX_SENDERS = 64;

/** Options of {@linkcode watchWire}. */
export interface WatchWireOptions {
  /**
   * How long to watch, in milliseconds (100 to 30000).
   *
   * @default {2000}
   */
  durationMs?: number;
  /**
   * Stop after this many datagrams.
   *
   * @default {5000}
   */
  maxDatagrams?: number;
  /** Stops the watch early. */
  signal?: AbortSignal;
}

/** Datagrams from one source to one port. */
export interface WireSender {
  /** The source address. */
  source: string;
  /** The destination port. */
  port: number;
  /** How many arrived. */
  datagrams: number;
}

/** What reached the interface during a watch. */
export interface WireObservation {
  /** The interface watched. */
  interface: string;
  /** How long it was watched, in seconds. */
  durationS: number;
  /** Datagrams for the group that arrived (not those this host sent). */
  datagrams: number;
  /** By source and port, most datagrams first. */
  senders: WireSender[];
  /** How much the kernel's reverse-path drop counter grew meanwhile, or null when unreadable. */
  reversePathDrops: number | null;
}

/**
 * Watches what arrives on `iface` for the group, for a bounded time.
 *
 * @example
 * ```ts ignore
 * import { resolveInterface } from "../interfaces.ts";
 * import { resolveReception } from "./reception.ts";
 * import { watchWire } from "./wire_tap.ts";
 * const seen = await watchWire(resolveReception({ group: "239.1.1.1" }), resolveInterface("eth1"));
 * console.log(seen.senders);
 * ```
 *
 * @param reception The checked request (its group and family).
 * @param iface The interface.
 * @param options Duration, datagram limit, abort signal.
 * @returns What arrived.
 * @throws {PermissionError} Without root (CAP_NET_RAW).
 * @throws {SocketError} When the packet socket cannot be opened for another reason.
 */
export async function watchWire(
  reception: Reception,
  iface: NetworkInterface,
  options: WatchWireOptions = {},
): Promise<WireObservation> {
  const durationMs = Math.min(30_000, Math.max(100, options.durationMs ?? 2_000));
  const maxDatagrams = options.maxDatagrams ?? 5_000;
  let socket: PacketSocket;
  try {
    socket = PacketSocket.open({
      ifindex: iface.index,
      family: reception.family,
      program: udpToGroupProgram({ family: reception.family, bytes: reception.groupBytes }),
      label: `${reception.group} on ${iface.name}`,
    });
  } catch (error) {
    if (error instanceof SocketError && error.errno === PLATFORM.errno.EPERM) {
      throw new PermissionError(
        `watch what reaches ${iface.name} (a packet socket needs root)`,
        { cause: error },
      );
    }
    throw error;
  }
  const before = readReversePathDrops();
  const started = performance.now();
  const senders = new Map<string, WireSender>();
  const buffer = new Uint8Array(128);
  let datagrams = 0;
  try {
    for (;;) {
      const left = started + durationMs - performance.now();
      if (left <= 0 || datagrams >= maxDatagrams || options.signal?.aborted) break;
      if (!await socket.wait(Math.min(left, 200))) continue;
      for (let frame = socket.receive(buffer); frame !== null; frame = socket.receive(buffer)) {
        if (frame.outgoing) continue;
        const headers = parseUdpHeaders(buffer.subarray(0, frame.length));
        if (headers === null || headers.destination !== reception.group) continue;
        datagrams++;
        const key = `${headers.source} ${headers.destinationPort}`;
        const sender = senders.get(key);
        if (sender !== undefined) sender.datagrams++;
        else if (senders.size < MAX_SENDERS) {
          senders.set(key, { source: headers.source, port: headers.destinationPort, datagrams: 1 });
        }
        if (datagrams >= maxDatagrams) break;
      }
    }
  } finally {
    socket.close();
  }
  const after = readReversePathDrops();
  return {
    interface: iface.name,
    durationS: Math.round(performance.now() - started) / 1000,
    datagrams,
    senders: [...senders.values()].sort((a, b) => b.datagrams - a.datagrams),
    reversePathDrops: before === null || after === null ? null : after - before,
  };
}

/**
 * Turns what reached the interface into findings: other ports, other sources, and sources that
 * reverse-path filtering drops (judged as `checkReversePath` does).
 *
 * @example
 * ```ts
 * import { resolveReception } from "./reception.ts";
 * import { wireFindings } from "./wire_tap.ts";
 * const reception = resolveReception({ group: "239.1.1.1", port: 19779 });
 * const iface = { name: "eth1", index: 2, flags: 0, addresses: [] };
 * const findings = await wireFindings(reception, iface, {
 *   interface: "eth1",
 *   durationS: 2,
 *   datagrams: 40,
 *   senders: [{ source: "10.0.0.1", port: 5001, datagrams: 40 }],
 *   reversePathDrops: 0,
 * });
 * findings[0].id; // "other-port"
 * findings[0].fix; // "mcast-receive 239.1.1.1 --port 5001 -i eth1"
 * ```
 *
 * @param reception The checked request.
 * @param iface The interface watched.
 * @param seen What {@linkcode watchWire} saw.
 * @returns The findings.
 */
export async function wireFindings(
  reception: Reception,
  iface: NetworkInterface,
  seen: WireObservation,
): Promise<Finding[]> {
  const accepts = (source: string) =>
    reception.sources.length > 0
      ? reception.sources.includes(source)
      : !reception.exclude.includes(source);
  const onPort = seen.senders.filter((s) => s.port === reception.port);
  const wanted = onPort.filter((s) => accepts(s.source));
  const findings: Finding[] = [];
  const where = `${seen.datagrams} datagrams for ${reception.group} reached ${iface.name} in ` +
    `${seen.durationS} s`;
  const ports = [...new Set(seen.senders.map((s) => s.port))].filter((p) => p !== reception.port);
  for (const port of ports) {
    const from = seen.senders.filter((s) => s.port === port);
    const count = from.reduce((sum, s) => sum + s.datagrams, 0);
    findings.push({
      id: "other-port",
      severity: onPort.length === 0 ? "error" : "warning",
      message: `${where}: ${count} for port ${port} (from ${
        from.map((s) => s.source).join(", ")
      }), ${onPort.length === 0 ? "none" : "others"} for port ${reception.port}`,
      fix: receiveCommand({ ...reception, port }, iface.name),
    });
  }
  const others = onPort.filter((s) => !accepts(s.source));
  if (others.length > 0) {
    const names = others.map((s) => s.source);
    const count = others.reduce((sum, s) => sum + s.datagrams, 0);
    const filter = reception.sources.length > 0
      ? `only ${reception.sources.join(", ")}`
      : `any source but ${reception.exclude.join(", ")}`;
    findings.push({
      id: "other-source",
      severity: wanted.length === 0 ? "error" : "warning",
      message: `${where}: ${count} on port ${reception.port} from ${names.join(", ")}, which the ` +
        `join does not accept (it takes ${filter})`,
      fix: reception.sources.length > 0
        ? receiveCommand({ ...reception, sources: [...reception.sources, ...names] }, iface.name)
        : receiveCommand({ ...reception, exclude: [] }, iface.name),
    });
  }
  const judged = wanted.slice(0, 8).map((s) => s.source);
  const dropped = await checkReversePath(reception, iface, judged, {
    counterGrowth: seen.reversePathDrops,
  });
  findings.push(...dropped.filter((f) => f.severity === "error"));
  return findings;
}
