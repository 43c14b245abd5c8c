/**
 * What the network path did to one sender's packets, over every packet (duplicates included):
 * the received TTL / hop limit (smallest, largest, how often it changed from one packet to the
 * next), the hop count (original minus received TTL, smallest and largest), a histogram of the
 * received DSCP (64 counters: a DSCP is 6 bits, so the memory is fixed) and how many packets
 * arrived with another DSCP than the one their sender set. Packets the kernel reported no TTL or
 * no TOS for are counted apart, so that a verdict over "every packet" can tell it does not know.
 *
 * Private to the receiver statistics (`_sender_state.ts` owns one per sender id).
 *
 * @module
 */

/**
 * TTL and DSCP figures of one sender's stream.
 *
 * @example
 * ```ts
 * import { PathStats } from "./_path_stats.ts";
 * const path = new PathStats();
 * path.add(64, 58, 46, 10);
 * path.add(64, 63, 46, 46);
 * path.ttlMin; // 58
 * path.ttlChanges; // 1
 * path.hopsMax; // 6
 * path.remarkedPackets; // 1
 * ```
 */
export class PathStats {
  /** Packets with a received TTL. */
  ttlPackets = 0;
  /** Smallest received TTL (valid when `ttlPackets` > 0). */
  ttlMin = 0;
  /** Largest received TTL. */
  ttlMax = 0;
  /** Times a packet's received TTL differed from the previous packet's (with one). */
  ttlChanges = 0;
  /** Smallest hop count, original minus received TTL. */
  hopsMin = 0;
  /** Largest hop count. */
  hopsMax = 0;
  /** Packets with a received DSCP. */
  dscpPackets = 0;
  /** Packets whose received DSCP differs from the DSCP their sender set. */
  remarkedPackets = 0;
  /** Packets per received DSCP value (index 0 to 63). */
  readonly dscpSeen: Uint32Array = new Uint32Array(64);
  #lastTtl = -1;

  /** Forgets everything (the entry is reused for another sender id). */
  reset(): void {
    this.ttlPackets = 0;
    this.ttlMin = 0;
    this.ttlMax = 0;
    this.ttlChanges = 0;
    this.hopsMin = 0;
    this.hopsMax = 0;
    this.dscpPackets = 0;
    this.remarkedPackets = 0;
    this.dscpSeen.fill(0);
    this.#lastTtl = -1;
  }

  /**
   * Takes in one packet.
   *
   * @param originalTtl The TTL its sender set (MCAS header).
   * @param receivedTtl The TTL it arrived with, or null when the kernel did not say.
   * @param originalDscp The DSCP its sender set (MCAS header; any byte).
   * @param receivedDscp The DSCP it arrived with (0 to 63), or null when unknown.
   */
  add(
    originalTtl: number,
    receivedTtl: number | null,
    originalDscp: number,
    receivedDscp: number | null,
  ): void {
    if (receivedTtl !== null) {
      const hops = originalTtl - receivedTtl;
      if (this.ttlPackets === 0) {
        this.ttlMin = this.ttlMax = receivedTtl;
        this.hopsMin = this.hopsMax = hops;
      } else {
        if (receivedTtl !== this.#lastTtl) this.ttlChanges++;
        if (receivedTtl < this.ttlMin) this.ttlMin = receivedTtl;
        else if (receivedTtl > this.ttlMax) this.ttlMax = receivedTtl;
        if (hops < this.hopsMin) this.hopsMin = hops;
        else if (hops > this.hopsMax) this.hopsMax = hops;
      }
      this.#lastTtl = receivedTtl;
      this.ttlPackets++;
    }
    if (receivedDscp !== null) {
      this.dscpSeen[receivedDscp & 63]++;
      this.dscpPackets++;
      if (receivedDscp !== originalDscp) this.remarkedPackets++;
    }
  }

  /**
   * The received DSCP values and their packet counts, most packets first (then by value).
   *
   * @returns `[dscp, packets]` pairs of the values seen.
   */
  dscpHistogram(): [dscp: number, packets: number][] {
    const result: [number, number][] = [];
    for (let dscp = 0; dscp < 64; dscp++) {
      if (this.dscpSeen[dscp] > 0) result.push([dscp, this.dscpSeen[dscp]]);
    }
    return result.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }
}
