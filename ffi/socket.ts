/**
 * The one socket seam: {@linkcode UdpSocket} owns a UDP socket's file descriptor and is the only
 * way the library touches one — options, bind/connect, multicast joins and leaves (any-source,
 * source-specific, blocked sources), single and batched sends (`send`, `sendmmsg`), batched
 * receives (`recvmmsg`, or `recvmsg` per datagram) and waiting for readiness (`poll`).
 *
 * Every call goes through {@linkcode check} (or reads errno at once), so a failure names the call,
 * the errno and what the socket is (its {@linkcode UdpSocket.label}). A full socket buffer is not
 * an error: the send methods report it as a value ({@linkcode WOULD_BLOCK}) and the receive
 * methods as 0 datagrams.
 *
 * One owner, one close (`_owned_fd.ts`, shared with the packet and raw sockets): `close()` is
 * idempotent and error-checked, `release()` hands the fd to the caller instead (a socket moved out
 * of its publication), and a `FinalizationRegistry` closes the fd of a socket that was forgotten.
 *
 * @module
 */

import { CAPABILITIES, LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check, lastErrno, socketError } from "./errno.ts";
import { InvalidValueError, SocketError } from "./errors.ts";
import { groupReq, groupSourceReq, ipMreqn, ipMreqSource } from "./group_req.ts";
import { readInterfaces } from "./interfaces.ts";
import { libc, type LibcSymbols } from "./libc.ts";
import { Membership } from "./membership.ts";
import type { MessageBatch } from "./msghdr.ts";
import type { ReceivedBatch } from "./received_batch.ts";
import { waitForFd } from "./poll.ts";
import {
  type AddressFamily,
  type DecodedEndpoint,
  decodeSockaddr,
  type RawAddress,
  type RawEndpoint,
  sockaddrFor,
} from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";
import { OwnedFd } from "./_owned_fd.ts";

/** What the send methods return when the socket buffer is full (EAGAIN): nothing was sent. */
export const WOULD_BLOCK = -1;

// Scratch buffers for synchronous calls: C reads them only during the call.
const intValue = nativeBuffer(4);
const intView = new DataView(intValue.buffer);
const longValue = nativeBuffer(8);
const longView = new DataView(longValue.buffer);
const lengthValue = nativeBuffer(4);
const lengthView = new DataView(lengthValue.buffer);
const storage = nativeBuffer(PLATFORM.layout.sockaddrStorageSize);

/** Options of {@linkcode UdpSocket.open}. */
export interface OpenUdpSocketOptions {
  /**
   * Open the socket non-blocking.
   *
   * @default {true}
   */
  nonBlocking?: boolean;
  /**
   * What the socket is, for error messages (see {@linkcode UdpSocket.label}).
   *
   * @default {"fd N"}
   */
  label?: string;
}

/** Options of {@linkcode UdpSocket.receiveBatch}. */
export interface ReceiveBatchOptions {
  /**
   * One `recvmsg` per datagram instead of one `recvmmsg` per batch (always so where the OS has no
   * `recvmmsg`).
   *
   * @default {false}
   */
  singleMessages?: boolean;
}

/**
 * A UDP socket: the owner of one file descriptor.
 *
 * @example Two sockets on loopback
 * ```ts ignore
 * import { UdpSocket } from "./socket.ts";
 * const loopback = { family: "IPv4", bytes: Uint8Array.of(127, 0, 0, 1) } as const;
 * using rx = UdpSocket.open("IPv4");
 * rx.bind({ ...loopback, port: 0 });
 * using tx = UdpSocket.open("IPv4");
 * tx.connect({ ...loopback, port: rx.localEndpoint().port });
 * tx.send(new Uint8Array([1, 2, 3])); // 3
 * ```
 */
export class UdpSocket implements Disposable {
  /** The address family. */
  readonly family: AddressFamily;
  /**
   * What this socket is, in error messages: `"239.1.2.3:5000"` for a publication,
   * `"(*, 239.1.2.3) port 5000 on lo (index 1)"` for a subscription. The owner sets it.
   */
  label: string;

  readonly #owned: OwnedFd;
  readonly #libc: LibcSymbols;
  readonly #level: number;
  #length = -1;
  #lengthArg = 0n;

  private constructor(fd: number, family: AddressFamily, label: string | undefined) {
    this.#owned = new OwnedFd(fd);
    this.family = family;
    this.label = label ?? `fd ${fd}`;
    this.#libc = libc();
    this.#level = family === "IPv4" ? PLATFORM.IPPROTO_IP : PLATFORM.IPPROTO_IPV6;
  }

  /**
   * Opens a UDP socket of `family` (close-on-exec, non-blocking by default).
   *
   * @example
   * ```ts ignore
   * import { UdpSocket } from "./socket.ts";
   * using socket = UdpSocket.open("IPv6");
   * ```
   *
   * @param family `"IPv4"` or `"IPv6"`.
   * @param options Blocking mode and label.
   * @returns The socket.
   * @throws {SocketError} When the OS refuses.
   */
  static open(family: AddressFamily, options: OpenUdpSocketOptions = {}): UdpSocket {
    const domain = family === "IPv4" ? PLATFORM.AF_INET : PLATFORM.AF_INET6;
    const nonBlocking = options.nonBlocking ?? true;
    const type = PLATFORM.SOCK_DGRAM | PLATFORM.SOCK_CLOEXEC |
      (nonBlocking ? PLATFORM.SOCK_NONBLOCK : 0);
    const fd = check(libc().socket(domain, type, PLATFORM.IPPROTO_UDP), "socket", family);
    const socket = new UdpSocket(fd, family, options.label);
    if (nonBlocking && PLATFORM.SOCK_NONBLOCK === 0) {
      try {
        socket.setNonBlocking();
      } catch (error) {
        socket.close();
        throw error;
      }
    }
    return socket;
  }

  /**
   * Takes ownership of a socket the caller created: its family is read with `getsockname`.
   * {@linkcode UdpSocket.release} gives it back without closing it.
   *
   * @example
   * ```ts ignore
   * import { UdpSocket } from "./socket.ts";
   * const socket = UdpSocket.adopt(fd);
   * ```
   *
   * @param fd The descriptor.
   * @param label What the socket is, for error messages.
   * @returns The socket.
   * @throws {SocketError} When `getsockname` fails (EBADF, ENOTSOCK).
   * @throws {InvalidValueError} When `fd` is a socket of another family than IPv4 or IPv6.
   */
  static adopt(fd: number, label?: string): UdpSocket {
    let family: AddressFamily;
    try {
      family = localEndpointOf(fd).family;
    } catch (error) {
      if (!(error instanceof InvalidValueError)) throw error;
      throw new InvalidValueError("socket fd", fd, "an IPv4 or IPv6 socket", { cause: error });
    }
    return new UdpSocket(fd, family, label);
  }

  /** The file descriptor; -1 once closed or released. */
  get fd(): number {
    return this.#owned.fd;
  }

  /** True once {@linkcode UdpSocket.close} or {@linkcode UdpSocket.release} was called. */
  get closed(): boolean {
    return this.#owned.closed;
  }

  /**
   * Closes the descriptor. Safe to call twice (the second call does nothing).
   *
   * @throws {SocketError} When `close` fails (the descriptor is gone either way).
   */
  close(): void {
    this.#owned.close();
  }

  /**
   * Gives the descriptor to the caller, who must close it; this object is closed without
   * closing it.
   *
   * @returns The descriptor.
   * @throws {SocketError} EBADF when already closed or released.
   */
  release(): number {
    return this.#owned.release(this.label);
  }

  /** Same as {@linkcode UdpSocket.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Sets an `int` socket option.
   *
   * @param level The protocol level (`PLATFORM.IPPROTO_IP` …).
   * @param name The option.
   * @param value The integer value.
   * @param label The option's name, for the error message.
   * @throws {SocketError} When the kernel refuses.
   */
  setInt(level: number, name: number, value: number, label: string): void {
    intView.setInt32(0, value, LITTLE_ENDIAN);
    check(
      this.#libc.setsockopt(this.#live(), level, name, intValue, 4),
      `setsockopt(${label})`,
      value,
    );
  }

  /**
   * Reads an `int` socket option (a one-byte answer, as some IPv4 options give, is widened).
   *
   * @param level The protocol level.
   * @param name The option.
   * @param label The option's name, for the error message.
   * @returns The value.
   * @throws {SocketError} When the kernel refuses.
   */
  getInt(level: number, name: number, label: string): number {
    intView.setInt32(0, 0, LITTLE_ENDIAN);
    lengthView.setUint32(0, 4, LITTLE_ENDIAN);
    check(
      this.#libc.getsockopt(this.#live(), level, name, intValue, lengthValue),
      `getsockopt(${label})`,
    );
    const length = lengthView.getUint32(0, LITTLE_ENDIAN);
    return length === 1 ? intValue[0] : intView.getInt32(0, LITTLE_ENDIAN);
  }

  /**
   * Reads a 64-bit unsigned socket option (`SO_NETNS_COOKIE` …).
   *
   * @param level The protocol level.
   * @param name The option.
   * @param label The option's name, for the error message.
   * @returns The value.
   * @throws {SocketError} When the kernel refuses (ENOPROTOOPT where it lacks the option).
   */
  getU64(level: number, name: number, label: string): bigint {
    longView.setBigUint64(0, 0n, LITTLE_ENDIAN);
    lengthView.setUint32(0, 8, LITTLE_ENDIAN);
    check(
      this.#libc.getsockopt(this.#live(), level, name, longValue, lengthValue),
      `getsockopt(${label})`,
    );
    return longView.getBigUint64(0, LITTLE_ENDIAN);
  }

  /**
   * Sets a socket option whose value is a structure.
   *
   * @param level The protocol level.
   * @param name The option.
   * @param structure The encoded value (C reads it during the call only).
   * @param describe The option's name and the value to name in an error.
   * @throws {SocketError} When the kernel refuses.
   */
  setStruct(
    level: number,
    name: number,
    structure: Uint8Array,
    describe: { label: string; value: unknown },
  ): void {
    check(
      this.#libc.setsockopt(this.#live(), level, name, structure, structure.length),
      `setsockopt(${describe.label})`,
      describe.value,
    );
  }

  /**
   * Switches to non-blocking mode (`fcntl(F_SETFL, flags | O_NONBLOCK)`); harmless when it is.
   *
   * @throws {SocketError} When `fcntl` fails.
   */
  setNonBlocking(): void {
    const fd = this.#live();
    const flags = check(this.#libc.fcntl(fd, PLATFORM.F_GETFL, 0), "fcntl(F_GETFL)", fd);
    if ((flags & PLATFORM.O_NONBLOCK) !== 0) return;
    check(
      this.#libc.fcntl(fd, PLATFORM.F_SETFL, flags | PLATFORM.O_NONBLOCK),
      "fcntl(F_SETFL)",
      fd,
    );
  }

  /**
   * Whether the socket is in non-blocking mode.
   *
   * @returns True when O_NONBLOCK is set.
   * @throws {SocketError} When `fcntl` fails.
   */
  isNonBlocking(): boolean {
    const fd = this.#live();
    const flags = check(this.#libc.fcntl(fd, PLATFORM.F_GETFL, 0), "fcntl(F_GETFL)", fd);
    return (flags & PLATFORM.O_NONBLOCK) !== 0;
  }

  /**
   * Binds to a local endpoint.
   *
   * @param endpoint The address bytes, port and scope id.
   * @param describe The endpoint as text, for the error message.
   * @throws {SocketError} When the kernel refuses (EADDRNOTAVAIL, EADDRINUSE …).
   */
  bind(endpoint: RawEndpoint, describe?: string): void {
    const address = sockaddrFor(endpoint);
    check(this.#libc.bind(this.#live(), address, address.length), "bind", describe ?? this.label);
  }

  /**
   * Connects to a destination (fixes the peer, so sends need no address).
   *
   * @param endpoint The destination.
   * @param describe The endpoint as text, for the error message.
   * @throws {SocketError} When the kernel refuses (ENETUNREACH …).
   */
  connect(endpoint: RawEndpoint, describe?: string): void {
    const address = sockaddrFor(endpoint);
    check(
      this.#libc.connect(this.#live(), address, address.length),
      "connect",
      describe ?? this.label,
    );
  }

  /**
   * The local endpoint (`getsockname`); an unbound socket reports the wildcard and port 0.
   *
   * @returns The endpoint, bytes copied.
   * @throws {SocketError} When `getsockname` fails.
   */
  localEndpoint(): DecodedEndpoint {
    return localEndpointOf(this.#live());
  }

  /**
   * Joins `group` from any source on interface `ifindex` (0: the routing default):
   * `MCAST_JOIN_GROUP`, or `IP_ADD_MEMBERSHIP` for IPv4 where the kernel lacks the
   * protocol-independent call.
   *
   * @param ifindex The interface index.
   * @param group The group.
   * @param describe What the membership is, for error messages.
   * @returns The membership; its `leave()` undoes it.
   * @throws {SocketError} When the kernel refuses.
   */
  joinGroup(ifindex: number, group: RawAddress, describe: string): Membership {
    const request = groupReq(ifindex, group);
    const joined = this.#tryJoin(PLATFORM.MCAST_JOIN_GROUP, "MCAST_JOIN_GROUP", request, describe);
    if (joined) {
      return this.#membership(PLATFORM.MCAST_LEAVE_GROUP, "MCAST_LEAVE_GROUP", request, describe);
    }
    const legacy = ipMreqn(group.bytes, null, ifindex);
    this.setStruct(this.#level, PLATFORM.IP_ADD_MEMBERSHIP, legacy, {
      label: "IP_ADD_MEMBERSHIP",
      value: describe,
    });
    return this.#membership(PLATFORM.IP_DROP_MEMBERSHIP, "IP_DROP_MEMBERSHIP", legacy, describe);
  }

  /**
   * Joins `group` for one `source` (an INCLUDE-mode filter that grows with each source joined):
   * `MCAST_JOIN_SOURCE_GROUP`, or `IP_ADD_SOURCE_MEMBERSHIP` for IPv4 where the kernel lacks it.
   *
   * @param ifindex The interface index (0: the routing default).
   * @param group The group.
   * @param source The source, of the group's family.
   * @param describe What the membership is, for error messages.
   * @returns The membership; its `leave()` drops that source.
   * @throws {SocketError} When the kernel refuses.
   */
  joinSource(
    ifindex: number,
    group: RawAddress,
    source: RawAddress,
    describe: string,
  ): Membership {
    const request = groupSourceReq(ifindex, group, source);
    const option = PLATFORM.MCAST_JOIN_SOURCE_GROUP;
    if (this.#tryJoin(option, "MCAST_JOIN_SOURCE_GROUP", request, describe)) {
      return this.#membership(
        PLATFORM.MCAST_LEAVE_SOURCE_GROUP,
        "MCAST_LEAVE_SOURCE_GROUP",
        request,
        describe,
      );
    }
    const legacy = ipMreqSource(group.bytes, interfaceIpv4(ifindex), source.bytes);
    this.setStruct(this.#level, PLATFORM.IP_ADD_SOURCE_MEMBERSHIP, legacy, {
      label: "IP_ADD_SOURCE_MEMBERSHIP",
      value: describe,
    });
    return this.#membership(
      PLATFORM.IP_DROP_SOURCE_MEMBERSHIP,
      "IP_DROP_SOURCE_MEMBERSHIP",
      legacy,
      describe,
    );
  }

  /**
   * Blocks one `source` of a group joined from any source (`MCAST_BLOCK_SOURCE`): the filter
   * becomes EXCLUDE-mode with that source listed.
   *
   * @param ifindex The interface index the group was joined on.
   * @param group The group.
   * @param source The source to block.
   * @param describe What the membership is, for error messages.
   * @returns The block; its `leave()` unblocks the source.
   * @throws {SocketError} When the kernel refuses (EINVAL when the group is not joined).
   */
  blockSource(
    ifindex: number,
    group: RawAddress,
    source: RawAddress,
    describe: string,
  ): Membership {
    const request = groupSourceReq(ifindex, group, source);
    this.setStruct(this.#level, PLATFORM.MCAST_BLOCK_SOURCE, request, {
      label: "MCAST_BLOCK_SOURCE",
      value: describe,
    });
    return this.#membership(
      PLATFORM.MCAST_UNBLOCK_SOURCE,
      "MCAST_UNBLOCK_SOURCE",
      request,
      describe,
    );
  }

  /**
   * Sends one datagram on a connected socket.
   *
   * @param payload The datagram.
   * @returns Bytes sent, or {@linkcode WOULD_BLOCK} when the socket buffer is full.
   * @throws {SocketError} When the kernel refuses (EMSGSIZE, ENETUNREACH …).
   */
  send(payload: Uint8Array): number {
    const length = payload.length;
    if (length !== this.#length) {
      this.#length = length;
      this.#lengthArg = BigInt(length); // size_t argument, remade only when the size changes
    }
    const sent = Number(this.#libc.send(this.#live(), payload, this.#lengthArg, 0));
    if (sent >= 0) return sent;
    const errno = lastErrno();
    if (errno === PLATFORM.errno.EAGAIN) return WOULD_BLOCK;
    throw socketError(errno, "send", `${length} bytes to ${this.label}`);
  }

  /**
   * Sends slots `[from, from + count)` of a batch with one `sendmmsg` (retried on EINTR).
   *
   * @param batch The batch (its slot lengths set).
   * @param from The first slot.
   * @param count How many slots.
   * @returns How many were sent (the kernel may stop early), or {@linkcode WOULD_BLOCK} when
   *   the socket buffer is full.
   * @throws {SocketError} When the kernel refuses the first datagram of the call.
   */
  sendMessages(batch: MessageBatch, from: number, count: number): number {
    const fd = this.#live();
    if (
      !Number.isInteger(from) || !Number.isInteger(count) || from < 0 || count < 1 ||
      from + count > batch.count
    ) {
      throw new InvalidValueError(
        "batch slots",
        `${count} from slot ${from}`,
        `at least one slot, all within the batch's ${batch.count}`,
      );
    }
    batch.useKernelLengths();
    for (;;) {
      const result = this.#libc.sendmmsg(fd, batch.headersFrom(from), count, 0);
      if (result >= 0) return result;
      const errno = lastErrno();
      if (errno === PLATFORM.errno.EINTR) continue;
      if (errno === PLATFORM.errno.EAGAIN) return WOULD_BLOCK;
      throw socketError(errno, "sendmmsg", `${count} datagrams to ${this.label}`);
    }
  }

  /**
   * Receives whatever is queued, up to the batch's capacity, without waiting
   * (`recvmmsg(MSG_DONTWAIT)`, or one `recvmsg` per slot), into the reused batch view.
   *
   * @param batch The view to fill; its previous contents are overwritten.
   * @param options One message per call or batches.
   * @returns The number of datagrams received, 0 when the socket is empty.
   * @throws {SocketError} When the receive fails for another reason than an empty socket.
   */
  receiveBatch(batch: ReceivedBatch, options: ReceiveBatchOptions = {}): number {
    const fd = this.#live();
    const messages = batch.prepareReceive();
    const flags = PLATFORM.MSG_DONTWAIT | PLATFORM.MSG_TRUNC;
    if (options.singleMessages === true || !CAPABILITIES.batchedMessages) {
      return this.#receiveEach(fd, batch, messages, flags);
    }
    messages.useKernelLengths();
    const received = this.#libc.recvmmsg(fd, messages.headers, messages.count, flags, null);
    if (received >= 0) return batch.setLength(received);
    const errno = lastErrno();
    batch.setLength(0);
    if (errno === PLATFORM.errno.EAGAIN || errno === PLATFORM.errno.EINTR) return 0;
    throw socketError(errno, "recvmmsg", this.label);
  }

  /**
   * Waits until the socket is ready for `events` (`PLATFORM.POLLIN`, `POLLOUT`) or `timeoutMs`
   * passes (-1: no limit), off the JS thread.
   *
   * @param events The events to wait for.
   * @param timeoutMs Milliseconds, or -1.
   * @returns The ready events, 0 on timeout.
   */
  wait(events: number, timeoutMs: number): Promise<number> {
    return waitForFd(this.#live(), events, timeoutMs);
  }

  // The descriptor of an open socket; a closed one is a typed error, not a call with fd -1.
  #live(): number {
    return this.#owned.live("socket", this.label);
  }

  #receiveEach(fd: number, batch: ReceivedBatch, messages: MessageBatch, flags: number): number {
    let received = 0;
    while (received < messages.count) {
      const length = Number(this.#libc.recvmsg(fd, messages.headersFrom(received), flags));
      if (length < 0) {
        const errno = lastErrno();
        if (errno === PLATFORM.errno.EAGAIN || errno === PLATFORM.errno.EINTR) break;
        batch.setLength(0);
        throw socketError(errno, "recvmsg", this.label);
      }
      messages.setReceivedLength(received, length);
      received++;
    }
    return batch.setLength(received);
  }

  // A protocol-independent join; false when an IPv4 kernel refuses it with ENOPROTOOPT.
  #tryJoin(option: number, label: string, request: Uint8Array, describe: string): boolean {
    try {
      this.setStruct(this.#level, option, request, { label, value: describe });
      return true;
    } catch (error) {
      const refused = error instanceof SocketError && error.errno === PLATFORM.errno.ENOPROTOOPT;
      if (!refused || this.family !== "IPv4") throw error;
      return false;
    }
  }

  #membership(option: number, label: string, request: Uint8Array, describe: string): Membership {
    return new Membership(this, { level: this.#level, option, label, request }, describe);
  }
}

export { Membership };

function localEndpointOf(fd: number): DecodedEndpoint {
  storage.fill(0);
  lengthView.setUint32(0, storage.length, LITTLE_ENDIAN);
  check(libc().getsockname(fd, storage, lengthValue), "getsockname", fd);
  return decodeSockaddr(storage);
}

// The first IPv4 address of an interface, for the IPv4-only source join; null for any.
function interfaceIpv4(ifindex: number): Uint8Array | null {
  if (ifindex === 0) return null;
  const found = readInterfaces().find((i) => i.index === ifindex);
  return found?.addresses.find((a) => a.family === "IPv4")?.bytes ?? null;
}
