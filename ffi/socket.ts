/**
 * Thin typed wrappers over the socket calls: each one builds its argument, calls libc once and
 * goes through {@linkcode check}, so a failure names the call, errno and the value given.
 *
 * @module
 */

import type { AddressFamily } from "../lib/address.ts";
import { PLATFORM } from "./constants.ts";
import { check, lastErrno, socketError } from "./errno.ts";
import { libc } from "./libc.ts";
import {
  type DecodedSocketAddress,
  decodeSockaddr,
  sockaddrFor,
  type SocketAddress,
} from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Scratch buffers for synchronous calls: C reads them only during the call.
const intValue = nativeBuffer(4);
const intView = new DataView(intValue.buffer);
const lengthValue = nativeBuffer(4);
const lengthView = new DataView(lengthValue.buffer);
const storage = nativeBuffer(PLATFORM.layout.sockaddrStorageSize);
const clockValue = nativeBuffer(PLATFORM.layout.timespecSize);
const clockView = new DataView(clockValue.buffer);

/** Options of {@linkcode openUdpSocket}. */
export interface OpenUdpSocketOptions {
  /**
   * Open the socket non-blocking.
   *
   * @default {true}
   */
  nonBlocking?: boolean;
}

/**
 * Opens a UDP socket of `family` (close-on-exec, non-blocking by default) and returns its fd.
 *
 * @example
 * ```ts ignore
 * import { closeFd, openUdpSocket } from "./socket.ts";
 * const fd = openUdpSocket("IPv4");
 * closeFd(fd);
 * ```
 *
 * @param family `"IPv4"` or `"IPv6"`.
 * @param options Blocking mode.
 * @returns The file descriptor.
 */
export function openUdpSocket(family: AddressFamily, options: OpenUdpSocketOptions = {}): number {
  const domain = family === "IPv4" ? PLATFORM.AF_INET : PLATFORM.AF_INET6;
  const nonBlocking = options.nonBlocking ?? true;
  const type = PLATFORM.SOCK_DGRAM | PLATFORM.SOCK_CLOEXEC |
    (nonBlocking ? PLATFORM.SOCK_NONBLOCK : 0);
  const fd = check(libc().socket(domain, type, PLATFORM.IPPROTO_UDP), "socket", family);
  if (nonBlocking && PLATFORM.SOCK_NONBLOCK === 0) setNonBlocking(fd);
  return fd;
}

/**
 * Closes a file descriptor.
 *
 * @example
 * ```ts ignore
 * import { closeFd } from "./socket.ts";
 * closeFd(42);
 * ```
 *
 * @param fd The descriptor.
 */
export function closeFd(fd: number): void {
  check(libc().close(fd), "close", fd);
}

/**
 * Sets an `int` socket option.
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { setIntOption } from "./socket.ts";
 * setIntOption(fd, PLATFORM.IPPROTO_IP, PLATFORM.IP_MULTICAST_TTL, 4, "IP_MULTICAST_TTL");
 * ```
 *
 * @param fd The socket.
 * @param level The protocol level.
 * @param name The option.
 * @param value The integer value.
 * @param label The option's name, for the error message.
 */
export function setIntOption(
  fd: number,
  level: number,
  name: number,
  value: number,
  label: string,
): void {
  intView.setInt32(0, value, LITTLE_ENDIAN);
  check(libc().setsockopt(fd, level, name, intValue, 4), `setsockopt(${label})`, value);
}

/**
 * Sets a socket option whose value is a structure.
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { groupReq } from "./group_req.ts";
 * import { setStructOption } from "./socket.ts";
 * setStructOption(fd, PLATFORM.IPPROTO_IP, PLATFORM.MCAST_JOIN_GROUP, groupReq(1, "239.1.1.1"), {
 *   label: "MCAST_JOIN_GROUP",
 *   value: "239.1.1.1 on lo",
 * });
 * ```
 *
 * @param fd The socket.
 * @param level The protocol level.
 * @param name The option.
 * @param structure The encoded value.
 * @param describe The option's name and the value to name in an error.
 */
export function setStructOption(
  fd: number,
  level: number,
  name: number,
  structure: Uint8Array,
  describe: { label: string; value: unknown },
): void {
  check(
    libc().setsockopt(fd, level, name, structure, structure.length),
    `setsockopt(${describe.label})`,
    describe.value,
  );
}

/**
 * Reads an `int` socket option.
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { getIntOption } from "./socket.ts";
 * const size = getIntOption(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_RCVBUF, "SO_RCVBUF");
 * ```
 *
 * @param fd The socket.
 * @param level The protocol level.
 * @param name The option.
 * @param label The option's name, for the error message.
 * @returns The value.
 */
export function getIntOption(fd: number, level: number, name: number, label: string): number {
  intView.setInt32(0, 0, LITTLE_ENDIAN);
  lengthView.setUint32(0, 4, LITTLE_ENDIAN);
  check(libc().getsockopt(fd, level, name, intValue, lengthValue), `getsockopt(${label})`);
  const length = lengthView.getUint32(0, LITTLE_ENDIAN);
  return length === 1 ? intValue[0] : intView.getInt32(0, LITTLE_ENDIAN);
}

/**
 * Binds a socket to a local endpoint.
 *
 * @example
 * ```ts ignore
 * import { bindTo } from "./socket.ts";
 * bindTo(fd, { address: "127.0.0.1", port: 0 });
 * ```
 *
 * @param fd The socket.
 * @param endpoint The address, port and scope id.
 */
export function bindTo(fd: number, endpoint: SocketAddress): void {
  const address = sockaddrFor(endpoint);
  check(libc().bind(fd, address, address.length), "bind", describeEndpoint(endpoint));
}

/**
 * Connects a UDP socket to its destination (fixes the peer; sends need no address).
 *
 * @example
 * ```ts ignore
 * import { connectTo } from "./socket.ts";
 * connectTo(fd, { address: "239.1.2.3", port: 5000 });
 * ```
 *
 * @param fd The socket.
 * @param endpoint The destination.
 */
export function connectTo(fd: number, endpoint: SocketAddress): void {
  const address = sockaddrFor(endpoint);
  check(libc().connect(fd, address, address.length), "connect", describeEndpoint(endpoint));
}

/**
 * The local endpoint of a socket (`getsockname`); an unbound socket reports its family with the
 * wildcard address and port 0.
 *
 * @example
 * ```ts ignore
 * import { localEndpoint } from "./socket.ts";
 * localEndpoint(fd); // { family: "IPv4", address: "0.0.0.0", port: 0, scopeId: 0 }
 * ```
 *
 * @param fd The socket.
 * @returns The endpoint.
 */
export function localEndpoint(fd: number): DecodedSocketAddress {
  storage.fill(0);
  lengthView.setUint32(0, storage.length, LITTLE_ENDIAN);
  check(libc().getsockname(fd, storage, lengthValue), "getsockname", fd);
  return decodeSockaddr(storage);
}

/**
 * Switches a descriptor to non-blocking mode (`fcntl(F_SETFL, flags | O_NONBLOCK)`).
 *
 * @example
 * ```ts ignore
 * import { setNonBlocking } from "./socket.ts";
 * setNonBlocking(fd);
 * ```
 *
 * @param fd The descriptor.
 */
export function setNonBlocking(fd: number): void {
  const flags = check(libc().fcntl(fd, PLATFORM.F_GETFL, 0), "fcntl(F_GETFL)", fd);
  if ((flags & PLATFORM.O_NONBLOCK) !== 0) return;
  check(libc().fcntl(fd, PLATFORM.F_SETFL, flags | PLATFORM.O_NONBLOCK), "fcntl(F_SETFL)", fd);
}

/**
 * Whether a descriptor is in non-blocking mode.
 *
 * @example
 * ```ts ignore
 * import { isNonBlocking } from "./socket.ts";
 * isNonBlocking(fd); // true
 * ```
 *
 * @param fd The descriptor.
 * @returns True when O_NONBLOCK is set.
 */
export function isNonBlocking(fd: number): boolean {
  const flags = check(libc().fcntl(fd, PLATFORM.F_GETFL, 0), "fcntl(F_GETFL)", fd);
  return (flags & PLATFORM.O_NONBLOCK) !== 0;
}

/**
 * Sends one datagram on a connected socket. Returns the bytes sent, or -1 when the socket
 * would block (EAGAIN) — the caller decides; every other failure throws.
 *
 * @example
 * ```ts ignore
 * import { sendDatagram } from "./socket.ts";
 * const sent = sendDatagram(fd, new Uint8Array(32));
 * ```
 *
 * @param fd The connected socket.
 * @param payload The datagram.
 * @returns Bytes sent, or -1 on EAGAIN.
 */
export function sendDatagram(fd: number, payload: Uint8Array): number {
  const sent = Number(libc().send(fd, payload, BigInt(payload.length), 0));
  if (sent >= 0) return sent;
  const errno = lastErrno();
  if (errno === PLATFORM.errno.EAGAIN) return -1;
  throw socketError(errno, "send", `${payload.length} bytes on fd ${fd}`);
}

/**
 * Waits until `fd` is ready for `events` (POLLIN/POLLOUT) or `timeoutMs` passes (-1 = no
 * limit). Runs off the JS thread. Returns the ready events (0 on timeout).
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { waitForFd } from "./socket.ts";
 * const ready = await waitForFd(fd, PLATFORM.POLLOUT, 100);
 * ```
 *
 * @param fd The descriptor.
 * @param events The events to wait for.
 * @param timeoutMs Milliseconds, or -1.
 * @returns The `revents` bits, 0 on timeout.
 */
export async function waitForFd(fd: number, events: number, timeoutMs: number): Promise<number> {
  const pollfd = nativeBuffer(PLATFORM.layout.pollfdSize);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, LITTLE_ENDIAN);
  view.setInt16(4, events, LITTLE_ENDIAN);
  const ready = await libc().poll(pollfd, 1n, timeoutMs);
  // Reading pollfd after the call keeps it referenced for as long as the worker thread uses it.
  return ready > 0 ? view.getUint16(6, LITTLE_ENDIAN) : 0;
}

/**
 * Reads a clock (`clock_gettime`) in nanoseconds.
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { clockNs } from "./socket.ts";
 * const now = clockNs(PLATFORM.CLOCK_MONOTONIC);
 * ```
 *
 * @param clock The clock id.
 * @returns Nanoseconds.
 */
export function clockNs(clock: number): bigint {
  check(libc().clock_gettime(clock, clockValue), "clock_gettime", clock);
  return clockView.getBigInt64(0, LITTLE_ENDIAN) * 1_000_000_000n +
    clockView.getBigInt64(8, LITTLE_ENDIAN);
}

/**
 * Sleeps until the monotonic clock reaches `deadlineNs` (`clock_nanosleep(TIMER_ABSTIME)`, off
 * the JS thread), so pacing does not drift with timer slack. Where the OS lacks absolute
 * sleeps, falls back to a relative timer.
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { clockNs, sleepUntilMonotonic } from "./socket.ts";
 * await sleepUntilMonotonic(clockNs(PLATFORM.CLOCK_MONOTONIC) + 1_000_000n);
 * ```
 *
 * @param deadlineNs Monotonic nanoseconds.
 */
export async function sleepUntilMonotonic(deadlineNs: bigint): Promise<void> {
  if (PLATFORM.TIMER_ABSTIME < 0) {
    const remaining = Number(deadlineNs - clockNs(PLATFORM.CLOCK_MONOTONIC)) / 1e6;
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    return;
  }
  const request = nativeBuffer(PLATFORM.layout.timespecSize);
  const view = new DataView(request.buffer);
  view.setBigInt64(0, deadlineNs / 1_000_000_000n, LITTLE_ENDIAN);
  view.setBigInt64(8, deadlineNs % 1_000_000_000n, LITTLE_ENDIAN);
  // clock_nanosleep returns the error number itself; an absolute sleep interrupted by a signal
  // (EINTR) is simply restarted with the same deadline.
  let result: number;
  do {
    result = await libc().clock_nanosleep(
      PLATFORM.CLOCK_MONOTONIC,
      PLATFORM.TIMER_ABSTIME,
      request,
      null,
    );
  } while (result === PLATFORM.errno.EINTR);
  request[0] |= 0; // keep `request` referenced until the worker thread is done with it
}

function describeEndpoint(endpoint: SocketAddress): string {
  const scope = endpoint.scopeId ? `%${endpoint.scopeId}` : "";
  return endpoint.address.includes(":")
    ? `[${endpoint.address}${scope}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}
