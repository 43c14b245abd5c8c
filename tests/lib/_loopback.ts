// Private test helpers shared by publication_test.ts, context_test.ts and async_publication_test.ts
// (and the ffi tests that need to know whether an fd is open): a receiver socket joined to a
// group on `lo`, a publication config that sends there, and small utilities. Nothing leaves the
// host: every datagram goes to a group on `lo` (IP_MULTICAST_IF 127.0.0.1, TTL 1).

import { PublicationConfig } from "../../lib/publication_config.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { check, lastErrno } from "../../ffi/errno.ts";
import { groupReq } from "../../ffi/group_req.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../../ffi/msghdr.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import {
  bindTo,
  closeFd,
  openUdpSocket,
  setIntOption,
  setStructOption,
  waitForFd,
} from "../../ffi/socket.ts";

/** The group every loopback test sends to. */
export const GROUP = "239.255.77.1";

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);

/**
 * A port no other loopback test of this process uses.
 *
 * @returns The port.
 */
export function freshPort(): number {
  return nextPort++;
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
  readonly fd: number;
  readonly #batch = new MessageBatch(64, 4096, { controlSize: 256, withNames: true });
  readonly #meta = new ReceivedMetadata();

  constructor(group = GROUP) {
    this.fd = openUdpSocket("IPv4");
    setIntOption(this.fd, P.SOL_SOCKET, P.SO_REUSEADDR, 1, "SO_REUSEADDR");
    try {
      setIntOption(this.fd, P.SOL_SOCKET, P.SO_RCVBUFFORCE, 8 << 20, "SO_RCVBUFFORCE");
    } catch {
      // Not root: as much as net.core.rmem_max allows.
      setIntOption(this.fd, P.SOL_SOCKET, P.SO_RCVBUF, 8 << 20, "SO_RCVBUF");
    }
    bindTo(this.fd, { address: group, port: this.port });
    setStructOption(this.fd, P.IPPROTO_IP, P.MCAST_JOIN_GROUP, groupReq(1, group), {
      label: "MCAST_JOIN_GROUP",
      value: group,
    });
    for (const option of [P.IP_RECVTTL, P.IP_RECVTOS]) {
      setIntOption(this.fd, P.IPPROTO_IP, option, 1, "IP_RECV*");
    }
  }

  async receive(expected: number, timeoutMs = 5_000): Promise<Datagram[]> {
    const out: Datagram[] = [];
    const deadline = performance.now() + timeoutMs;
    while (out.length < expected && performance.now() < deadline) {
      if ((await waitForFd(this.fd, P.POLLIN, 50)) === 0) continue;
      this.#batch.resetForReceive();
      const n = check(
        libc().recvmmsg(this.fd, this.#batch.headers, this.#batch.count, P.MSG_DONTWAIT, null),
        "recvmmsg",
      );
      for (let i = 0; i < n; i++) {
        this.#batch.readMetadata(i, this.#meta);
        out.push({
          source: decodeSockaddr(this.#batch.nameOf(i)!).address,
          ttl: this.#meta.ttl,
          tos: this.#meta.tos,
          payload: this.#batch.payloads[i].slice(0, this.#batch.receivedLength(i)),
        });
      }
    }
    return out;
  }

  [Symbol.dispose](): void {
    closeFd(this.fd);
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
