/**
 * The library side of the benchmark: one measurement per process, run by `bench/run.ts` inside
 * the benchmark's network namespace (`ip netns exec … deno run bench/_worker.ts '<json>'`).
 * Prints one JSON object on stdout (and, for `receive`, a `ready` line first, once joined).
 *
 * Modes:
 *
 * - `send`: {@linkcode Publication.trySend} once per datagram;
 * - `send-batch`: {@linkcode Publication.sendBatch} of `batch` payloads (copied into the
 *   publication's own sendmmsg buffers);
 * - `send-prepared`: {@linkcode Publication.prepareBatch} once, then the sequence number and
 *   timestamp are written in place and {@linkcode Publication.sendPrepared} sends `batch` slots;
 * - `receive`: {@linkcode Subscription.receiveBatch} (recvmmsg) + {@linkcode decodeMcas} +
 *   {@linkcode ReceiverStats.record} for every datagram, `poll` when the socket is empty (with
 *   `processing: "recv-only"`: the receives alone).
 *
 * Every send mode writes an MCAS header with a fresh sequence number into every datagram and
 * reads the monotonic clock once per 64 datagrams (once per call for the batch modes) — the same
 * work the C baseline (`bench/c/sender.c`) does.
 *
 * @module
 */

import { WouldBlockError } from "../lib/errors.ts";
import { encodeMcasInto, McasEncoder } from "../lib/mcas.ts";
import { Publication } from "../lib/publication.ts";
import { PublicationConfig } from "../lib/publication_config.ts";
import { ReceiverStats } from "../lib/receiver_stats.ts";
import { BatchRecorder } from "../lib/batch_recorder.ts";
import { Subscription } from "../lib/subscription.ts";
import { PLATFORM } from "../ffi/constants.ts";
import { clockNs } from "../ffi/clock.ts";
import { waitForFd } from "../ffi/poll.ts";

/** What `run.ts` asks a worker to do (passed as one JSON argument). */
export interface WorkerRequest {
  /** The measurement. */
  mode: "send" | "send-batch" | "send-prepared" | "receive";
  /** Multicast group. */
  group: string;
  /** UDP port. */
  port: number;
  /** Local address of the interface (IP_MULTICAST_IF / the join interface). */
  iface: string;
  /** UDP payload bytes (send modes). */
  size: number;
  /** Datagrams per sendmmsg / recvmmsg call. */
  batch: number;
  /** Stop after this many datagrams (send) or unique arrivals (receive); 0 = no limit. */
  count: number;
  /** Stop after this many seconds. */
  durationS: number;
  /** Receive: stop when nothing arrived for this long after the first datagram. */
  idleMs: number;
  /**
   * Seconds of unmeasured work first, so that the JIT has compiled the loop. Send: sending.
   * Receive: the same receive and counting code on datagrams the worker sends itself, to another
   * port of the group, into statistics of their own (at most {@linkcode WARMUP_DATAGRAMS}),
   * before `ready` — what a receiver that has run for a while has behind it.
   */
  warmupS: number;
  /** Receive: the receive buffer to request (SO_RCVBUFFORCE), bytes. */
  receiveBufferBytes: number;
  /** Receive: after `ready`, wait for one line on stdin before receiving (drain measurement). */
  waitGo: boolean;
  /**
   * Receive: `full` decodes and counts every datagram; `recv-only` only receives (recvmmsg and
   * the batch bookkeeping), to split the receive cost from the per-datagram processing.
   */
  processing: "full" | "recv-only";
}

/** What a send worker reports. */
export interface SendResult {
  /** `"deno-lib"`. */
  tool: string;
  /** The mode measured. */
  mode: string;
  /** Payload bytes. */
  size: number;
  /** Datagrams per call (1 for `send`). */
  batch: number;
  /** Datagrams the kernel accepted. */
  packets_sent: number;
  /** Sends that found the socket buffer full. */
  would_blocks: number;
  /** Seconds from the first send to the last. */
  elapsed_s: number;
  /** packets_sent / elapsed_s. */
  pps: number;
}

/** What a receive worker reports. */
export interface ReceiveResult {
  /** `"deno-lib"`. */
  tool: string;
  /** `"receive"`. */
  mode: string;
  /** MCAS datagrams counted, duplicates included. */
  received: number;
  /** Distinct sequence numbers. */
  unique: number;
  /** Sequence numbers missing between the first and highest seen (ReceiverStats). */
  lost: number;
  /** Duplicates. */
  duplicates: number;
  /** Foreign datagrams. */
  foreign: number;
  /** recvmmsg calls that returned datagrams. */
  batches: number;
  /** Seconds from the first receive to the last. */
  span_s: number;
  /** received / span_s. */
  pps: number;
}

const CLOCK_CHECK_EVERY = 64;
/** Most datagrams a receive worker's warm-up sends itself. */
export const WARMUP_DATAGRAMS = 131_072;
const MONOTONIC = PLATFORM.CLOCK_MONOTONIC;

function publication(request: WorkerRequest): Publication {
  return new Publication(
    new PublicationConfig(request.group, request.port)
      .withOutgoingInterface(request.iface)
      .withTtl(1),
  );
}

function limits(request: WorkerRequest): { count: number; deadline: bigint } {
  const count = request.count > 0 ? request.count : Number.MAX_SAFE_INTEGER;
  const deadline = clockNs(MONOTONIC) + BigInt(Math.round(request.durationS * 1e9));
  return { count, deadline };
}

function sendResult(
  request: WorkerRequest,
  sent: number,
  wouldBlocks: number,
  startNs: bigint,
  endNs: bigint,
): SendResult {
  const elapsed = Number(endNs - startNs) / 1e9;
  return {
    tool: "deno-lib",
    mode: request.mode,
    size: request.size,
    batch: request.mode === "send" ? 1 : request.batch,
    packets_sent: sent,
    would_blocks: wouldBlocks,
    elapsed_s: elapsed,
    pps: elapsed > 0 ? sent / elapsed : 0,
  };
}

async function sendEach(request: WorkerRequest): Promise<SendResult> {
  using pub = publication(request);
  const encoder = new McasEncoder(request.size, { ttl: 1 });
  const { count, deadline } = limits(request);
  const start = clockNs(MONOTONIC);
  let now = start;
  let sent = 0;
  let sequence = 0n;
  while (sent < count && now < deadline) {
    const chunk = Math.min(CLOCK_CHECK_EVERY, count - sent);
    for (let i = 0; i < chunk; i++) {
      const datagram = encoder.encode(sequence, now);
      while (pub.trySend(datagram) === null) await waitForFd(pub.fd, PLATFORM.POLLOUT, 100);
      sequence++;
    }
    sent += chunk;
    now = clockNs(MONOTONIC);
  }
  return sendResult(request, sent, pub.counters.wouldBlocks, start, now);
}

async function sendBatch(request: WorkerRequest): Promise<SendResult> {
  using pub = publication(request);
  const senderId = new McasEncoder(32).senderId;
  const encoders = Array.from(
    { length: request.batch },
    () => new McasEncoder(request.size, { ttl: 1, senderId }),
  );
  const payloads = encoders.map((encoder) => encoder.datagram);
  const { count, deadline } = limits(request);
  const start = clockNs(MONOTONIC);
  let now = start;
  let sent = 0;
  while (sent < count && now < deadline) {
    const want = Math.min(request.batch, count - sent);
    const base = BigInt(sent);
    for (let i = 0; i < want; i++) encoders[i].encode(base + BigInt(i), now);
    const list = want === payloads.length ? payloads : payloads.slice(0, want);
    let done = 0;
    while (done < want) {
      const rest = done === 0 ? list : list.slice(done);
      try {
        done += pub.sendBatch(rest);
      } catch (error) {
        if (!(error instanceof WouldBlockError)) throw error;
        await waitForFd(pub.fd, PLATFORM.POLLOUT, 100);
      }
    }
    sent += want;
    now = clockNs(MONOTONIC);
  }
  return sendResult(request, sent, pub.counters.wouldBlocks, start, now);
}

async function sendPrepared(request: WorkerRequest): Promise<SendResult> {
  using pub = publication(request);
  const batch = pub.prepareBatch(request.batch, request.size);
  const senderId = new McasEncoder(32).senderId;
  const header = { flags: 0, ttl: 1, dscp: 0, sequence: 0n, timestampNs: 0n, senderId };
  const views: DataView[] = [];
  for (let i = 0; i < batch.count; i++) {
    const slot = batch.payloads[i].subarray(0, request.size);
    encodeMcasInto(slot, header);
    batch.setLength(i, request.size);
    views.push(new DataView(slot.buffer, slot.byteOffset, slot.byteLength));
  }
  const { count, deadline } = limits(request);
  const start = clockNs(MONOTONIC);
  let now = start;
  let sent = 0;
  while (sent < count && now < deadline) {
    const want = Math.min(batch.count, count - sent);
    const base = BigInt(sent);
    for (let i = 0; i < want; i++) {
      views[i].setBigUint64(8, base + BigInt(i));
      views[i].setBigUint64(16, now);
    }
    const n = pub.sendPrepared(batch, want);
    if (n === 0) await waitForFd(pub.fd, PLATFORM.POLLOUT, 100);
    sent += n; // a partial send resumes from slot 0 with the next sequence number
    now = clockNs(MONOTONIC);
  }
  return sendResult(request, sent, pub.counters.wouldBlocks, start, now);
}

// The receive loop's code on self-sent datagrams (another port, its own statistics), bounded in
// count and time; the kernel timestamps and the MCAS headers are real, so every path is taken.
async function warmUpReceive(request: WorkerRequest): Promise<void> {
  const port = request.port + 1 > 65535 ? request.port - 1 : request.port + 1;
  using sub = new Subscription(request.group, {
    interface: request.iface,
    port,
    batchSize: request.batch,
  });
  using pub = publication({ ...request, port });
  const recorder = new BatchRecorder(new ReceiverStats({ stallTimeoutS: 60 }));
  const encoder = new McasEncoder(request.size, { ttl: 1 });
  const deadline = performance.now() + request.warmupS * 1000;
  let sequence = 0n;
  for (let sent = 0; sent < WARMUP_DATAGRAMS && performance.now() < deadline;) {
    const now = clockNs(MONOTONIC);
    for (let i = 0; i < request.batch; i++, sent++) {
      if (pub.trySend(encoder.encode(sequence++, now)) === null) break;
    }
    if (sub.receiveBatch() > 0) recorder.record(sub.batch);
    else await waitForFd(sub.fd, PLATFORM.POLLIN, 20);
  }
  while (sub.receiveBatch() > 0) recorder.record(sub.batch);
}

async function receive(request: WorkerRequest): Promise<ReceiveResult> {
  if (request.warmupS > 0) await warmUpReceive(request);
  using sub = new Subscription(request.group, {
    interface: request.iface,
    port: request.port,
    batchSize: request.batch,
    receiveBufferBytes: request.receiveBufferBytes,
  });
  const stats = new ReceiverStats({ stallTimeoutS: 60 });
  const recorder = new BatchRecorder(stats);
  const batch = sub.batch;
  const limit = request.count > 0 ? request.count : Number.MAX_SAFE_INTEGER;
  console.log("ready");
  if (request.waitGo) await readLine(Deno.stdin.readable);
  const deadline = performance.now() + request.durationS * 1000;
  let first = 0;
  let last = 0;
  let batches = 0;
  let unique = 0;
  let raw = 0;
  const recvOnly = request.processing === "recv-only";
  while (unique < limit) {
    const n = sub.receiveBatch();
    const now = performance.now();
    if (n === 0) {
      if (now >= deadline) break;
      if (first > 0 && now - last >= request.idleMs) break;
      await waitForFd(sub.fd, PLATFORM.POLLIN, 20);
      continue;
    }
    if (first === 0) first = now;
    last = now;
    batches++;
    if (recvOnly) {
      raw += n;
      unique = raw;
      if (now >= deadline) break;
      continue;
    }
    recorder.record(batch);
    unique = stats.totals().unique;
    if (now >= deadline) break;
  }
  const totals = stats.totals();
  const span = (last - first) / 1000;
  const received = recvOnly ? raw : totals.packets;
  return {
    tool: "deno-lib",
    mode: recvOnly ? "receive (recv-only)" : "receive",
    received,
    unique: recvOnly ? raw : totals.unique,
    lost: totals.lost,
    duplicates: totals.duplicates,
    foreign: totals.foreign,
    batches,
    span_s: span,
    pps: span > 0 ? received / span : 0,
  };
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || value.includes(0x0a)) return;
    }
  } finally {
    reader.releaseLock();
  }
}

function send(request: WorkerRequest): Promise<SendResult> {
  return request.mode === "send"
    ? sendEach(request)
    : request.mode === "send-batch"
    ? sendBatch(request)
    : sendPrepared(request);
}

async function main(argument: string | undefined): Promise<void> {
  if (argument === undefined) throw new Error("Missing the request: one JSON argument");
  const request = JSON.parse(argument) as WorkerRequest;
  if (request.mode === "receive") {
    console.log(JSON.stringify(await receive(request)));
    return;
  }
  if (request.warmupS > 0) await send({ ...request, count: 0, durationS: request.warmupS });
  console.log(JSON.stringify(await send(request)));
}

if (import.meta.main) await main(Deno.args[0]);
