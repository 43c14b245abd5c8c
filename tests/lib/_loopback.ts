// Private test helpers shared by publication_test.ts, context_test.ts and async_publication_test.ts
// (and the ffi tests that need to know whether an fd is open, or want a fresh group and port): a
// receiver socket joined to a group on `lo`, a publication config that sends there, and small
// utilities. Nothing leaves the host: every datagram goes to a group on `lo` (IP_MULTICAST_IF
// 127.0.0.1, TTL 1).

import { formatAddress } from "../../lib/address.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { lastErrno } from "../../ffi/errno.ts";
import { libc } from "../../ffi/libc.ts";
import { ReceivedMetadata } from "../../ffi/msghdr.ts";
import { ReceivedBatch } from "../../ffi/received_batch.ts";
import type { UdpSocket } from "../../ffi/socket.ts";
import { openMulticastReceiver } from "../ffi/_sockets.ts";

/** The group every loopback test sends to. */
export const GROUP = "239.255.77.1";

/** The index of `lo`. */
export const LO = 1;

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);

/**
 * A port no other loopback test of this process uses.
 *
 * @returns The port.
 */
export function freshPort(): number {
  return nextPort++;
}

/**
 * A random 239.x group (239.100.0.0 and up), different per call with high probability, so that
 * parallel suites on one host do not see each other's datagrams.
 *
 * @returns The group.
 */
export function freshGroup(): string {
  const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
  return `239.${random(100, 254)}.${random(1, 254)}.${random(1, 254)}`;
}

/** One datagram as a {@linkcode LoopbackReceiver} read it. */
export interface Datagram {
  source: string;
  ttl: number;
  tos: number;
  payload: Uint8Array;
}

/** A receiver socket joined to `group` on lo (index 1). */
export class LoopbackReceiver implements Disposable {
  readonly port = freshPort();
  readonly socket: UdpSocket;
  readonly #batch = new ReceivedBatch(64, 4096, { formatAddress });
  readonly #meta = new ReceivedMetadata();

  constructor(group = GROUP) {
    // As much as net.core.rmem_max allows when not root.
    this.socket = openMulticastReceiver({
      group,
      port: this.port,
      ifindex: LO,
      receiveBufferBytes: 8 << 20,
    });
  }

  async receive(expected: number, timeoutMs = 5_000): Promise<Datagram[]> {
    const out: Datagram[] = [];
    const batch = this.#batch;
    const deadline = performance.now() + timeoutMs;
    while (out.length < expected && performance.now() < deadline) {
      if ((await this.socket.wait(P.POLLIN, 50)) === 0) continue;
      const n = this.socket.receiveBatch(batch);
      for (let i = 0; i < n; i++) {
        batch.metadata(i, this.#meta);
        out.push({
          source: batch.sourceAddress(i),
          ttl: this.#meta.ttl,
          tos: this.#meta.tos,
          payload: batch.payload(i).slice(),
        });
      }
    }
    return out;
  }

  [Symbol.dispose](): void {
    this.socket.close();
  }
}

/**
 * A config that sends to {@linkcode GROUP}:`port` on lo with TTL 1.
 *
 * @param port The destination port.
 * @returns The config.
 */
export const onLo = (port: number): PublicationConfig =>
  new PublicationConfig(GROUP, port).withOutgoingInterface("127.0.0.1").withTtl(1);

/**
 * UTF-8 bytes of a string.
 *
 * @param s The string.
 * @returns Its bytes.
 */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Whether `fd` is an open descriptor of this process: `fcntl(F_GETFL)` fails with EBADF only
 * on a closed one. Call it right after the close under test (the number may be reused later).
 *
 * @param fd The descriptor.
 * @returns False when the descriptor is closed.
 */
export function fdIsOpen(fd: number): boolean {
  const result = libc().fcntl(fd, P.F_GETFL, 0);
  return result >= 0 || lastErrno() !== P.errno.EBADF;
}
