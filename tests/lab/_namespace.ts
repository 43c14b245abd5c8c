/**
 * Private: the test harness's namespace — the library's lab namespace (`lib/lab/namespace.ts`)
 * plus tcpdump captures into its lab's scratch directory, which only tests need.
 *
 * @module
 */

import { Namespace as LabNamespace } from "../../lib/lab/namespace.ts";
import { Capture, tcpdumpArgv } from "./_capture.ts";
import type { Lab } from "./_lab.ts";

/** Options of {@linkcode Namespace.capture}. */
export interface CaptureOptions {
  /** A pcap filter expression, for example `"udp port 19779"`. */
  filter?: string;
  /**
   * Snapshot length (0 = whole packet).
   *
   * @default {0}
   */
  snaplen?: number;
  /**
   * Put the interface into promiscuous mode.
   *
   * @default {true}
   */
  promiscuous?: boolean;
  /**
   * How long to wait for tcpdump to report "listening on".
   *
   * @default {10000}
   */
  timeoutMs?: number;
}

let captureCounter = 0;

/** A lab namespace that can also capture packets. Created by the test {@linkcode Lab}. */
export class Namespace extends LabNamespace {
  /** The lab that owns it. */
  readonly lab: Lab;

  /**
   * Internal: use `Lab.addNamespace`.
   *
   * @param lab The owning lab.
   * @param label The short name.
   * @param name The full namespace name.
   */
  constructor(lab: Lab, label: string, name: string) {
    super(lab, label, name);
    this.lab = lab;
  }

  /**
   * Start tcpdump on an interface of this namespace and wait until it is listening.
   *
   * @param iface Interface name (or `any`: the file then uses Linux cooked framing).
   * @param options Filter, snaplen, promiscuous mode.
   * @returns The running capture; `stop()` gives the pcap path, `packets()` decodes it.
   */
  async capture(iface: string, options: CaptureOptions = {}): Promise<Capture> {
    const dir = await this.lab.scratchDir();
    const path = `${dir}/${this.label}-${iface}-${++captureCounter}.pcap`;
    const process = this.spawn(tcpdumpArgv(iface, path, options));
    try {
      await process.waitForOutput(/listening on/, options.timeoutMs ?? 10_000);
    } catch (error) {
      await process.stop(500);
      throw error;
    }
    return new Capture(process, path, iface);
  }
}
