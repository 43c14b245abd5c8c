/**
 * The bounded table of sender ids of `ReceiverStats`: restart detection (a new id from a known
 * source), least-recently-active eviction once full, and the fast lookup by the id's two 32-bit
 * halves that the batch recorder's path uses. Private to `receiver_stats.ts`.
 *
 * @module
 */

import { SenderState } from "./_sender_state.ts";

/**
 * The sender ids in the table, at most `maxSenders`: a new one at a full table evicts the least
 * recently active and reuses its entry. Counts restarts (a new sender id from a source address
 * that already had one) and evictions.
 *
 * @example
 * ```ts
 * import { SenderTable } from "./_sender_table.ts";
 * const table = new SenderTable(1, 64);
 * table.add(1n, "10.0.0.1");
 * table.add(2n, "10.0.0.1");
 * table.restarts; // 1
 * table.evicted; // 1
 * table.size; // 1
 * ```
 */
export class SenderTable {
  readonly #maxSenders: number;
  readonly #windowBits: number;
  readonly #senders = new Map<bigint, SenderState>();
  // The fast lookup by the id's two 32-bit halves: a Map keyed by high × 2^32 + low as a number
  // (rounded, so two ids may share a key: the entry's halves are checked, and an id that finds
  // another's entry takes the bigint lookup), and the entry found last.
  readonly #byHalves = new Map<number, SenderState>();
  #last: SenderState | undefined;
  /** Source address → number of sender ids seen from it, in order of last new sender id. */
  readonly #sources = new Map<string, number>();
  #restarts = 0;
  #evicted = 0;

  /**
   * Constructs a new instance.
   *
   * @param maxSenders Most sender ids kept.
   * @param windowBits Size of each sender's duplicate window.
   */
  constructor(maxSenders: number, windowBits: number) {
    this.#maxSenders = maxSenders;
    this.#windowBits = windowBits;
  }

  /** Sender ids in the table now. */
  get size(): number {
    return this.#senders.size;
  }

  /** New sender ids from a source address that already had one. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Sender ids evicted from the full table. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * The entry of a sender id.
   *
   * @param senderId The sender id.
   * @returns The entry, or undefined when it is not in the table.
   */
  get(senderId: bigint): SenderState | undefined {
    return this.#senders.get(senderId);
  }

  /**
   * The entry of the sender id `high × 2^32 + low` without making a bigint, or undefined when the
   * fast lookup does not know it (not in the table, or sharing a key with another id).
   *
   * @param high The id's high 32 bits.
   * @param low The id's low 32 bits.
   * @returns The entry, or undefined.
   */
  getByHalves(high: number, low: number): SenderState | undefined {
    const last = this.#last;
    if (last !== undefined && last.idLow === low && last.idHigh === high) return last;
    const state = this.#byHalves.get(high * 0x1_0000_0000 + low);
    if (state === undefined || state.idLow !== low || state.idHigh !== high) return undefined;
    this.#last = state;
    return state;
  }

  /** The senders, in order of first appearance. */
  values(): IterableIterator<SenderState> {
    return this.#senders.values();
  }

  /** Adds a sender id not in the table (evicting the least recently active when full). */
  add(senderId: bigint, source: string): SenderState {
    const seen = this.#sources.get(source);
    if (seen !== undefined) {
      this.#restarts++;
      this.#sources.delete(source);
    } else if (this.#sources.size >= this.#maxSenders) {
      // Forget the source whose last new sender id is oldest (Map keeps insertion order).
      const oldest = this.#sources.keys().next();
      if (!oldest.done) this.#sources.delete(oldest.value);
    }
    this.#sources.set(source, (seen ?? 0) + 1);

    let state: SenderState | undefined;
    if (this.#senders.size >= this.#maxSenders) {
      let oldestKey: bigint | undefined;
      let oldestState: SenderState | undefined;
      for (const [key, candidate] of this.#senders) {
        if (oldestState === undefined || candidate.lastArrivalNs < oldestState.lastArrivalNs) {
          oldestKey = key;
          oldestState = candidate;
        }
      }
      if (oldestKey !== undefined && oldestState !== undefined) {
        const key = oldestState.idHigh * 0x1_0000_0000 + oldestState.idLow;
        if (this.#byHalves.get(key) === oldestState) this.#byHalves.delete(key);
        if (this.#last === oldestState) this.#last = undefined;
        this.#senders.delete(oldestKey);
        this.#evicted++;
        state = oldestState;
      }
    }
    state ??= new SenderState(this.#windowBits);
    state.reset(senderId, source);
    this.#senders.set(senderId, state);
    const key = state.idHigh * 0x1_0000_0000 + state.idLow;
    if (state.idHigh >= 0 && !this.#byHalves.has(key)) this.#byHalves.set(key, state);
    return state;
  }
}
