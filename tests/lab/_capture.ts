/**
 * Private: packet capture with tcpdump inside a namespace, and tshark field extraction as an
 * independent decoder.
 *
 * @module
 */

import { LabError } from "../../lib/errors.ts";
import { type LabProcess, runCommand } from "../../lib/lab/command.ts";
import { findOnPath } from "../../lib/lab/programs.ts";
import { type CapturedPacket, readPcap } from "./_pcap.ts";

/**
 * A running tcpdump. Created by `Namespace.capture()`, which returns only once tcpdump reports
 * that it is listening, so packets sent afterwards are in the file.
 */
export class Capture {
  /** The pcap file tcpdump writes (libpcap format, packet-buffered). */
  readonly path: string;
  /** The interface captured on. */
  readonly iface: string;
  #process: LabProcess;
  #stopped: Promise<string> | undefined;

  /**
   * Wrap a tcpdump process (internal: use `Namespace.capture()`).
   *
   * @param process The tcpdump process.
   * @param path The file it writes.
   * @param iface The interface.
   */
  constructor(process: LabProcess, path: string, iface: string) {
    this.#process = process;
    this.path = path;
    this.iface = iface;
  }

  /** tcpdump's own output (its stderr holds the "N packets captured" lines after stop). */
  get stderr(): string {
    return this.#process.stderr;
  }

  /**
   * Stop tcpdump (SIGINT, so it flushes and closes the file) and wait for it. Safe to call twice.
   *
   * tcpdump drops what is still in its kernel ring when interrupted, and on a loaded machine it
   * can lag behind the traffic; so first wait until the file has stopped growing for `settleMs`
   * (at most 5 s), then interrupt it.
   *
   * @param settleMs How long the file must stay the same size before tcpdump is stopped.
   * @returns The pcap file path.
   */
  stop(settleMs = 300): Promise<string> {
    this.#stopped ??= (async () => {
      if (settleMs > 0) await this.#waitForQuiet(settleMs, 5_000);
      this.#process.kill("SIGINT");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#process.kill("SIGKILL");
          resolve();
        }, 3_000);
      });
      try {
        await Promise.race([this.#process.wait(), forced]);
        await this.#process.wait();
      } finally {
        clearTimeout(timer);
      }
      return this.path;
    })();
    return this.#stopped;
  }

  async #waitForQuiet(settleMs: number, limitMs: number): Promise<void> {
    const step = 50;
    let lastSize = -1;
    let quietFor = 0;
    for (let waited = 0; waited < limitMs && quietFor < settleMs; waited += step) {
      await new Promise((r) => setTimeout(r, step));
      let size = 0;
      try {
        size = (await Deno.stat(this.path)).size;
      } catch {
        size = 0;
      }
      quietFor = size === lastSize ? quietFor + step : 0;
      lastSize = size;
    }
  }

  /**
   * Stop the capture and decode the file with the built-in libpcap reader.
   *
   * @returns The IP packets in capture order.
   */
  async packets(): Promise<CapturedPacket[]> {
    return await readPcap(await this.stop());
  }

  /**
   * Waits until the packets captured so far satisfy `done` (the file is re-read every 50 ms, at
   * most `limitMs`), then stops the capture and returns all its packets. For a test that knows
   * how many packets must arrive: a loaded machine can leave tcpdump behind for longer than
   * {@linkcode Capture.prototype.stop}'s quiet period, and what is still in its ring when it is
   * interrupted is lost. When `done` never holds, the capture is stopped as usual.
   *
   * @param done Whether the packets so far are all the test waits for.
   * @param limitMs The longest wait.
   * @returns The IP packets in capture order.
   */
  async packetsWhen(
    done: (packets: CapturedPacket[]) => boolean,
    limitMs = 10_000,
  ): Promise<CapturedPacket[]> {
    for (let waited = 0; waited < limitMs; waited += 50) {
      const sofar = await readPcap(this.path).catch(() => []);
      if (done(sofar)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return await this.packets();
  }
}

/** Build the tcpdump command line for a capture. */
export function tcpdumpArgv(
  iface: string,
  path: string,
  options: { filter?: string; snaplen?: number; promiscuous?: boolean },
): string[] {
  const tcpdump = findOnPath("tcpdump");
  if (!tcpdump) throw new LabError("Cannot capture: tcpdump is not installed");
  const argv = [tcpdump, "-i", iface, "-n", "-U", "--immediate-mode", "-Z", "root", "-w", path];
  argv.push("-s", String(options.snaplen ?? 0));
  if (options.promiscuous === false) argv.push("-p");
  if (options.filter) argv.push(options.filter);
  return argv;
}

const TSHARK_FIELDS = [
  "frame.time_epoch",
  "frame.len",
  "ip.src",
  "ip.dst",
  "ip.ttl",
  "ip.dsfield",
  "ip.proto",
  "ipv6.src",
  "ipv6.dst",
  "ipv6.hlim",
  "ipv6.tclass",
  "ipv6.nxt",
  "udp.srcport",
  "udp.dstport",
  "udp.payload",
] as const;

/** True when `tshark` is on PATH. */
export function hasTshark(): boolean {
  return findOnPath("tshark") !== undefined;
}

/**
 * Decode a pcap file with tshark (an independent cross-check of the built-in reader). Returns
 * the same shape as the built-in reader; `protocol` of an IPv6 packet is tshark's last next header.
 *
 * @param path The pcap file.
 * @returns The IP packets in capture order.
 * @throws {LabError} When tshark is missing or fails.
 */
export async function tsharkPackets(path: string): Promise<CapturedPacket[]> {
  const tshark = findOnPath("tshark");
  if (!tshark) throw new LabError("Cannot decode with tshark: tshark is not installed");
  const argv = [tshark, "-r", path, "-n", "-Y", "ip or ipv6", "-T", "fields"];
  argv.push("-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,");
  for (const field of TSHARK_FIELDS) argv.push("-e", field);
  const result = await runCommand(argv, { check: true, timeoutMs: 30_000 });
  const packets: CapturedPacket[] = [];
  for (const line of result.stdout.split("\n")) {
    if (!line.trim()) continue;
    const cols = line.split("\t");
    // First occurrence is the outer header (inner ones belong to ICMP error quotes or tunnels).
    const get = (name: (typeof TSHARK_FIELDS)[number]) =>
      (cols[TSHARK_FIELDS.indexOf(name)] ?? "").split(",")[0];
    const last = (name: (typeof TSHARK_FIELDS)[number]) =>
      (cols[TSHARK_FIELDS.indexOf(name)] ?? "").split(",").at(-1) ?? "";
    const v4 = get("ip.src") !== "";
    const tos = Number(v4 ? get("ip.dsfield") : get("ipv6.tclass"));
    const packet: CapturedPacket = {
      time: Number(get("frame.time_epoch")),
      family: v4 ? 4 : 6,
      src: v4 ? get("ip.src") : get("ipv6.src"),
      dst: v4 ? get("ip.dst") : get("ipv6.dst"),
      ttl: Number(v4 ? get("ip.ttl") : get("ipv6.hlim")),
      tos,
      dscp: tos >> 2,
      ecn: tos & 3,
      protocol: Number(v4 ? get("ip.proto") : last("ipv6.nxt")),
      wireLength: Number(get("frame.len")),
    };
    if (get("udp.dstport") !== "") {
      packet.srcPort = Number(get("udp.srcport"));
      packet.dstPort = Number(get("udp.dstport"));
      packet.payload = hexToBytes(get("udp.payload"));
    }
    packets.push(packet);
  }
  return packets;
}

function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replaceAll(":", "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
