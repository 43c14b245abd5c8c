/**
 * Heimdall single-header JSONL, as mctx-core writes it: one header line
 * (`schema: "heimdall-jsonl-v1"`, `artifact_type`, `node_id`, `producer`, `created_at` in Unix
 * seconds, `flags`), then compact sample rows that never repeat the header's keys.
 *
 * {@linkcode HeimdallJsonlWriter} validates the header before it touches the file system, holds
 * an exclusive non-blocking `flock` on the file for its whole life (a second writer fails at
 * once with a clear error instead of hanging or interleaving), refuses an existing file whose
 * first line is not a valid header (or that holds a second header, or rows that are not JSON
 * objects), appends to an existing file only when its header matches, and writes each row whole
 * with one `write` call on an `O_APPEND` descriptor — so a `kill -9` leaves only whole lines.
 *
 * {@linkcode networkSampleRow} builds the `mctx-network` sample row of mctx-core's `mctx_send`
 * from a context snapshot and delta.
 *
 * @module
 */

import { ClosedError, InvalidValueError, McastError, MismatchError } from "./errors.ts";
import type { ContextMetricsDelta, ContextMetricsSnapshot } from "./metrics.ts";

/** The schema version of the header. */
export const HEIMDALL_JSONL_SCHEMA = "heimdall-jsonl-v1";
/** The artifact type of sender network metrics. */
export const NETWORK_ARTIFACT_TYPE = "mctx-network";
/** The header keys that sample rows must not carry. */
export const RESERVED_HEADER_KEYS: readonly string[] = Object.freeze([
  "schema",
  "artifact_type",
  "node_id",
  "producer",
  "flags",
]);

/** A JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** The header line of a Heimdall JSONL file. */
export interface HeimdallHeader {
  /** Always `"heimdall-jsonl-v1"`. */
  schema: string;
  /** What the file holds, for example `"mctx-network"`. */
  artifact_type: string;
  /** The node (host, sender) the samples come from. */
  node_id: string;
  /** The program that wrote it, for example `"mcast/mctx-send"`. */
  producer: string;
  /** Creation time, Unix seconds (fractional). */
  created_at: number;
  /** Run parameters. */
  flags: JsonObject;
}

/** Options of {@linkcode heimdallHeader}. */
export interface HeimdallHeaderOptions {
  /** The node id (see {@linkcode inferNodeId}). */
  nodeId: string;
  /** The producer name. */
  producer: string;
  /**
   * Run parameters.
   *
   * @default {{}}
   */
  flags?: JsonObject;
  /**
   * The artifact type.
   *
   * @default {"mctx-network"}
   */
  artifactType?: string;
  /**
   * Creation time, milliseconds since the Unix epoch.
   *
   * @default {Date.now()}
   */
  createdAtMs?: number;
}

/**
 * Builds a header object.
 *
 * @example
 * ```ts
 * import { heimdallHeader } from "./heimdall_jsonl.ts";
 * const header = heimdallHeader({ nodeId: "sender-0001", producer: "mcast/mctx-send", createdAtMs: 1500 });
 * header.schema; // "heimdall-jsonl-v1"
 * header.created_at; // 1.5
 * ```
 *
 * @param options Node id, producer, flags, artifact type, time.
 * @returns The header.
 */
export function heimdallHeader(options: HeimdallHeaderOptions): HeimdallHeader {
  return {
    schema: HEIMDALL_JSONL_SCHEMA,
    artifact_type: options.artifactType ?? NETWORK_ARTIFACT_TYPE,
    node_id: options.nodeId,
    producer: options.producer,
    created_at: (options.createdAtMs ?? Date.now()) / 1000,
    flags: options.flags ?? {},
  };
}

/**
 * Checks that a value is a valid header: an object with `schema` equal to `heimdall-jsonl-v1`,
 * non-empty string `artifact_type`, `node_id` and `producer`, a finite number `created_at` and
 * an object `flags`.
 *
 * @example
 * ```ts
 * import { validateHeader } from "./heimdall_jsonl.ts";
 * try {
 *   validateHeader({ schema: "v0" });
 * } catch (error) {
 *   (error as Error).message.startsWith("Invalid JSONL header schema"); // true
 * }
 * ```
 *
 * @param value The candidate.
 * @returns The value, typed.
 * @throws {InvalidValueError} Naming the first bad field.
 */
export function validateHeader(value: unknown): HeimdallHeader {
  if (!isObject(value)) throw new InvalidValueError("JSONL header", value, "a JSON object");
  if (value.schema !== HEIMDALL_JSONL_SCHEMA) {
    throw new InvalidValueError("JSONL header schema", value.schema, `"${HEIMDALL_JSONL_SCHEMA}"`);
  }
  for (const key of ["artifact_type", "node_id", "producer"]) {
    if (typeof value[key] !== "string" || (value[key] as string).trim() === "") {
      throw new InvalidValueError(`JSONL header ${key}`, value[key], "a non-empty string");
    }
  }
  if (typeof value.created_at !== "number" || !Number.isFinite(value.created_at)) {
    throw new InvalidValueError("JSONL header created_at", value.created_at, "Unix seconds");
  }
  if (!isObject(value.flags)) {
    throw new InvalidValueError("JSONL header flags", value.flags, "a JSON object");
  }
  return value as unknown as HeimdallHeader;
}

/**
 * The node id mctx-core infers from a metrics file path: the parent directory's name, else the
 * file stem, else `"unknown"`.
 *
 * @example
 * ```ts
 * import { inferNodeId } from "./heimdall_jsonl.ts";
 * inferNodeId("results/sender-0001/network.jsonl"); // "sender-0001"
 * inferNodeId("network.jsonl"); // "network"
 * ```
 *
 * @param path The file path.
 * @returns The node id.
 */
export function inferNodeId(path: string): string {
  const parts = path.split("/");
  const file = parts.pop() ?? "";
  const parent = parts.length > 0 ? parts[parts.length - 1] : "";
  if (parent !== "" && parent !== "." && parent !== "..") return parent;
  const dot = file.lastIndexOf(".");
  const stem = dot > 0 ? file.slice(0, dot) : file;
  return stem !== "" ? stem : "unknown";
}

/** The `mctx-network` sample row mctx-core's `mctx_send` writes, plus the would-block counts. */
export interface NetworkSampleRow extends JsonObject {
  /** Capture time, Unix seconds. */
  ts: number;
  /** Seconds since the previous row's snapshot (monotonic clock). */
  interval_secs: number;
  /** Publications owned at capture time. */
  active_publications: number;
  /** Cumulative publications added. */
  publications_added_total: number;
  /** Publications added in the interval. */
  publications_added_delta: number;
  /** Cumulative publications removed. */
  publications_removed_total: number;
  /** Publications removed in the interval. */
  publications_removed_delta: number;
  /** Cumulative send calls. */
  send_calls_total: number;
  /** Send calls in the interval. */
  send_calls_delta: number;
  /** Cumulative datagrams sent. */
  packets_sent_total: number;
  /** Datagrams sent in the interval. */
  packets_sent_delta: number;
  /** Cumulative payload bytes. */
  bytes_sent_total: number;
  /** Payload bytes in the interval. */
  bytes_sent_delta: number;
  /** Cumulative send errors. */
  send_errors_total: number;
  /** Send errors in the interval. */
  send_errors_delta: number;
  /** Send calls per second. */
  send_calls_per_sec: number;
  /** Datagrams per second. */
  packets_per_sec: number;
  /** Payload bytes per second. */
  bytes_per_sec: number;
  /** Send errors per second. */
  send_errors_per_sec: number;
  /** Cumulative would-blocks (not in mctx-core). */
  would_blocks_total: number;
  /** Would-blocks in the interval (not in mctx-core). */
  would_blocks_delta: number;
}

/**
 * Builds a sample row from a context snapshot and the delta that ends at it.
 *
 * @example
 * ```ts
 * import { ContextMetricsSnapshot } from "./metrics.ts";
 * import { networkSampleRow } from "./heimdall_jsonl.ts";
 * const at = (s: number) => ({ monotonicNs: BigInt(s * 1e9), wallClockMs: s * 1000 });
 * const counters = {
 *   publicationsAdded: 1, publicationsRemoved: 0, activePublications: 1, totalSendCalls: 0,
 *   totalPacketsSent: 0, totalBytesSent: 0, totalSendErrors: 0, totalWouldBlocks: 0,
 * };
 * const earlier = new ContextMetricsSnapshot({ ...counters, capturedAt: at(1) });
 * const later = new ContextMetricsSnapshot({
 *   ...counters, totalSendCalls: 10, totalPacketsSent: 10, totalBytesSent: 500, capturedAt: at(3),
 * });
 * const row = networkSampleRow(later, later.deltaSince(earlier));
 * row.packets_per_sec; // 5
 * row.ts; // 3
 * ```
 *
 * @param snapshot The latest snapshot.
 * @param delta The delta ending at it.
 * @returns The row.
 */
export function networkSampleRow(
  snapshot: ContextMetricsSnapshot,
  delta: ContextMetricsDelta,
): NetworkSampleRow {
  return {
    ts: snapshot.capturedAt.wallClockMs / 1000,
    interval_secs: delta.intervalSecs,
    active_publications: snapshot.activePublications,
    publications_added_total: snapshot.publicationsAdded,
    publications_added_delta: delta.publicationsAdded,
    publications_removed_total: snapshot.publicationsRemoved,
    publications_removed_delta: delta.publicationsRemoved,
    send_calls_total: snapshot.totalSendCalls,
    send_calls_delta: delta.sendCalls,
    packets_sent_total: snapshot.totalPacketsSent,
    packets_sent_delta: delta.packetsSent,
    bytes_sent_total: snapshot.totalBytesSent,
    bytes_sent_delta: delta.bytesSent,
    send_errors_total: snapshot.totalSendErrors,
    send_errors_delta: delta.sendErrors,
    send_calls_per_sec: delta.sendCallsPerSec,
    packets_per_sec: delta.packetsPerSec,
    bytes_per_sec: delta.bytesPerSec,
    send_errors_per_sec: delta.sendErrorsPerSec,
    would_blocks_total: snapshot.totalWouldBlocks,
    would_blocks_delta: delta.wouldBlocks,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An open Heimdall JSONL file, exclusively locked until {@linkcode HeimdallJsonlWriter.close}.
 *
 * @example
 * ```ts ignore
 * import { heimdallHeader, HeimdallJsonlWriter } from "./heimdall_jsonl.ts";
 * using writer = HeimdallJsonlWriter.open(
 *   "results/sender-0001/network.jsonl",
 *   heimdallHeader({ nodeId: "sender-0001", producer: "mcast/mctx-send" }),
 * );
 * writer.writeRow({ ts: Date.now() / 1000, interval_secs: 1, packets_sent_total: 5 });
 * ```
 */
export class HeimdallJsonlWriter implements Disposable {
  /** The file path. */
  readonly path: string;
  /** The header of the file (the existing one when appending). */
  readonly header: HeimdallHeader;
  /** Rows written by this writer. */
  rowsWritten = 0;
  #file: Deno.FsFile | null;

  private constructor(path: string, header: HeimdallHeader, file: Deno.FsFile) {
    this.path = path;
    this.header = header;
    this.#file = file;
  }

  /**
   * Validates `header`, creates the parent directory, opens (or creates) the file in append
   * mode, takes an exclusive non-blocking lock, then checks what is already in it: an empty file
   * gets the header line; an existing file must start with a valid header that matches
   * `header` (schema, artifact type, node id, producer, flags; `created_at` may differ) and hold
   * only sample rows.
   *
   * @example
   * ```ts ignore
   * const writer = HeimdallJsonlWriter.open(path, heimdallHeader({ nodeId: "n1", producer: "p" }));
   * ```
   *
   * @param path The file.
   * @param header The header this writer writes or expects.
   * @returns The writer.
   * @throws {InvalidValueError} When the header is invalid, or the file holds anything but a
   * valid header and sample rows.
   * @throws {MismatchError} When the file's header does not match `header`.
   * @throws {McastError} When another writer holds the lock.
   */
  static open(path: string, header: HeimdallHeader): HeimdallJsonlWriter {
    validateHeader(header);
    if (typeof path !== "string" || path.trim() === "") {
      throw new InvalidValueError("JSONL path", path, "a file path");
    }
    const slash = path.lastIndexOf("/");
    if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
    const file = Deno.openSync(path, { read: true, append: true, create: true });
    try {
      if (!file.tryLockSync(true)) {
        throw new McastError(`Metrics file is locked by another writer: ${path}`);
      }
      const existing = readExistingHeader(file, path);
      if (existing === null) {
        writeWhole(file, encoder.encode(`${JSON.stringify(header)}\n`));
        return new HeimdallJsonlWriter(path, header, file);
      }
      for (const key of ["schema", "artifact_type", "node_id", "producer", "flags"] as const) {
        if (stableJson(existing.header[key]) !== stableJson(header[key])) {
          throw new MismatchError(
            `JSONL header ${key} of ${path}`,
            header[key],
            existing.header[key],
          );
        }
      }
      if (!existing.endsWithNewline) writeWhole(file, encoder.encode("\n"));
      return new HeimdallJsonlWriter(path, existing.header, file);
    } catch (error) {
      file.close(); // also releases the lock
      throw error;
    }
  }

  /** True until {@linkcode HeimdallJsonlWriter.close}. */
  get isOpen(): boolean {
    return this.#file !== null;
  }

  /**
   * Appends one compact row with a single `write` (the line is never split).
   *
   * @example
   * ```ts ignore
   * writer.writeRow({ ts: 12.5, interval_secs: 1, packets_sent_total: 10 });
   * ```
   *
   * @param row A JSON object without the header's keys.
   * @throws {InvalidValueError} When the row is not an object or carries a header key.
   * @throws {ClosedError} After close.
   */
  writeRow(row: JsonObject): void {
    if (this.#file === null) throw new ClosedError(`JSONL writer ${this.path}`);
    checkRow(row);
    writeWhole(this.#file, encoder.encode(`${JSON.stringify(row)}\n`));
    this.rowsWritten++;
  }

  /**
   * Releases the lock and closes the file. Safe to call twice.
   *
   * @example
   * ```ts ignore
   * writer.close();
   * ```
   */
  close(): void {
    const file = this.#file;
    if (file === null) return;
    this.#file = null;
    file.close();
  }

  /** Same as {@linkcode HeimdallJsonlWriter.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function writeWhole(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = file.writeSync(bytes);
  // A regular file takes the whole line in one write; loop only for a short write (disk full).
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

function readExistingHeader(
  file: Deno.FsFile,
  path: string,
): { header: HeimdallHeader; endsWithNewline: boolean } | null {
  const size = file.statSync().size;
  if (size === 0) return null;
  const bytes = new Uint8Array(size);
  file.seekSync(0, Deno.SeekMode.Start);
  let read = 0;
  while (read < size) {
    const n = file.readSync(bytes.subarray(read));
    if (n === null || n === 0) break;
    read += n;
  }
  const text = decoder.decode(bytes.subarray(0, read));
  let header: HeimdallHeader | null = null;
  let lineNumber = 0;
  for (const line of text.split("\n")) {
    lineNumber++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InvalidValueError(
        `line ${lineNumber} of ${path}`,
        excerpt(line),
        header === null ? "a heimdall-jsonl-v1 header object" : "a JSON sample row",
        { cause: error },
      );
    }
    if (header === null) {
      try {
        header = validateHeader(value);
      } catch (error) {
        throw new InvalidValueError(
          `first line of ${path}`,
          excerpt(line),
          "a heimdall-jsonl-v1 header object",
          { cause: error },
        );
      }
      continue;
    }
    if (isObject(value) && value.schema === HEIMDALL_JSONL_SCHEMA) {
      throw new InvalidValueError(
        `line ${lineNumber} of ${path}`,
        excerpt(line),
        "a sample row, not a second header",
      );
    }
    try {
      checkRow(value);
    } catch (error) {
      throw new InvalidValueError(
        `line ${lineNumber} of ${path}`,
        excerpt(line),
        "a JSON object sample row without header keys",
        { cause: error },
      );
    }
  }
  if (header === null) return null;
  return { header, endsWithNewline: text.endsWith("\n") };
}

function checkRow(row: unknown): void {
  if (!isObject(row)) throw new InvalidValueError("JSONL sample row", row, "a JSON object");
  for (const key of RESERVED_HEADER_KEYS) {
    if (Object.hasOwn(row, key)) {
      throw new InvalidValueError("JSONL sample row key", key, "no header key in a sample row");
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function excerpt(line: string): string {
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
