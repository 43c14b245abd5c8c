/**
 * The receiver socket: a {@linkcode Subscription} binds a UDP socket to a multicast group and
 * port, joins the group any-source (`(*,G)`, ASM) or source-specific (`(S,G)`, SSM) on one
 * interface, asks the kernel for per-datagram metadata, and receives datagrams in batches with
 * `recvmmsg` into buffers it allocates once.
 *
 * What the socket is set up with, in order:
 *
 * 1. `SO_REUSEADDR` (unless `reuse: false`), so several receivers of the same group and port can
 *    share a host — every one of them gets a copy of each datagram. Deliberately not
 *    `SO_REUSEPORT`: on Linux (seen on 6.18), when exactly one socket of a reuseport group accepts
 *    a multicast datagram, UDP early demux hands it to the reuseport selection, which picks a
 *    member by hash of the addresses and ports — ignoring that member's source filter and
 *    starving the one that wanted it. An (S,G) receiver beside an ASM receiver then counted
 *    datagrams of other sources while the ASM receiver missed them.
 * 2. `bind` to the group address itself (not the wildcard), so datagrams for other groups on the
 *    same port are not delivered to it. IPv6 link- and interface-local groups (`ff02::…`) are
 *    bound with the interface as scope id.
 * 3. `IP_MULTICAST_ALL=0` / `IPV6_MULTICAST_ALL=0`, so the socket gets only what its own join
 *    asked for. Without it Linux delivers the group's datagrams to every socket bound to it that
 *    has no membership of its own on the arrival interface, whenever any other socket of the host
 *    joined there: a receiver joined on one interface would also count the group's traffic
 *    arriving on another, and one that left would go on receiving while a neighbour stays joined.
 *    (A socket's own source filter always applies on the interface it joined, so an (S,G)
 *    receiver beside an ASM one still sees only S either way.)
 * 4. The join: `MCAST_JOIN_GROUP` or `MCAST_JOIN_SOURCE_GROUP` at level `IPPROTO_IP` or
 *    `IPPROTO_IPV6` (the protocol-independent calls of RFC 3678); IPv4 falls back to
 *    `IP_ADD_MEMBERSHIP` / `IP_ADD_SOURCE_MEMBERSHIP` only where the kernel refuses those with
 *    `ENOPROTOOPT`. Linux accepts a source-specific join on any multicast group, so SSM is not
 *    restricted to 232/8 and `ff3x::/32` here; {@linkcode Subscription.inSsmRange} (and
 *    `isSsmGroup` in `address.ts`) tells whether a group is in the SSM range. Which IGMP/MLD
 *    version a join may use is `igmp_version.ts`'s business.
 * 5. Ancillary data: TTL / hop limit, TOS / traffic class, packet info (destination address and
 *    arrival interface) and the kernel receive time (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`).
 * 6. A bigger receive buffer (4 MiB requested by default): `SO_RCVBUFFORCE` first, which root may
 *    use beyond `net.core.rmem_max`, then `SO_RCVBUF` silently when that is refused.
 *
 * Receiving never allocates per datagram: {@linkcode Subscription.receiveBatch} fills a reused
 * {@linkcode ReceivedBatch} view (payload views are cached per slot and only remade when a
 * length changes; source addresses are formatted once per distinct sender and cached).
 *
 * @example Receive for a second on the loopback interface
 * ```ts ignore
 * import { ReceivedMetadata, Subscription } from "./subscription.ts";
 *
 * using sub = new Subscription("239.1.2.3", { interface: "lo", port: 5000 });
 * const meta = new ReceivedMetadata();
 * for await (const batch of sub.batches({ signal: AbortSignal.timeout(1000) })) {
 *   for (let i = 0; i < batch.length; i++) {
 *     batch.metadata(i, meta);
 *     console.log(batch.sourceAddress(i), batch.payload(i).length, meta.ttl);
 *   }
 * }
 * ```
 *
 * @module
 */

import {
  type AddressFamily,
  formatAddress,
  isMulticast,
  isSsmGroup,
  parseAddress,
  type ParsedAddress,
  scopeIdKept,
} from "./address.ts";
import { ClosedError, InvalidValueError, MismatchError, SocketError } from "./errors.ts";
import { CAPABILITIES, PLATFORM } from "../ffi/constants.ts";
import { lastErrno, socketError } from "../ffi/errno.ts";
import { groupReq, groupSourceReq, ipMreqn, ipMreqSource } from "../ffi/group_req.ts";
import { resolveInterface } from "../ffi/interfaces.ts";
import { libc, type LibcSymbols } from "../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../ffi/msghdr.ts";
import {
  bindTo,
  getIntOption,
  openUdpSocket,
  setIntOption,
  setStructOption,
  waitForFd,
} from "../ffi/socket.ts";

export { ReceivedMetadata };
export type { AddressFamily };

/** The UDP port mcast-tools uses when none is given (0x4D43, "MC"). */
export const DEFAULT_PORT = 19779;

/** The receive buffer a subscription asks for when none is given: 4 MiB. */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Datagrams per `recvmmsg` call when none is given. */
export const DEFAULT_BATCH_SIZE = 64;

/**
 * Bytes of room per received datagram when none is given: 65535, so no UDP datagram is ever
 * truncated (the largest IPv4 UDP payload is 65507, IPv6 without jumbograms 65527).
 */
export const DEFAULT_MAX_DATAGRAM_SIZE = 65535;

// Room for TTL + TOS + packet info + timestamp control messages (≈ 120 bytes on Linux).
const CONTROL_SIZE = 256;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LAYOUT = PLATFORM.layout;
const SOURCE_CACHE_SIZE = 8;
// Kernels clamp the requested buffer to INT_MAX / 2; more than 1 GiB is a typo, not a wish.
const MAX_RECEIVE_BUFFER_BYTES = 1024 * 1024 * 1024;

/** Options of a {@linkcode Subscription}. */
export interface SubscriptionOptions {
  /**
   * The interface to join on: a name (`"eth1"`), an index (`3`) or one of its local addresses
   * (`"10.0.0.2"`). `0` or absent lets the kernel pick by routing (the route to the group), as
   * mcast-receive does without `--interface`. A `%zone` on an IPv6 group names the interface too.
   *
   * @default {0}
   */
  interface?: string | number;
  /**
   * The source of a source-specific (S,G) join; absent for an any-source (*,G) join. Must be a
   * unicast address of the group's family.
   *
   * @default {undefined}
   */
  source?: string;
  /**
   * The UDP port to receive on, 1 to 65535.
   *
   * @default {19779}
   */
  port?: number;
  /**
   * The receive buffer to request, in bytes (`SO_RCVBUFFORCE`, else `SO_RCVBUF`); 0 keeps the
   * kernel default. The kernel may clamp it; {@linkcode Subscription.receiveBufferBytes} reports
   * what it granted.
   *
   * @default {4194304}
   */
  receiveBufferBytes?: number;
  /**
   * Datagrams per `recvmmsg` call (slots of a batch), 1 to 1024.
   *
   * @default {64}
   */
  batchSize?: number;
  /**
   * Bytes of room per datagram, 1 to 65535. A longer datagram is truncated to this size and
   * flagged ({@linkcode ReceivedBatch.truncated}); its full length is still reported.
   *
   * @default {65535}
   */
  maxDatagramSize?: number;
  /**
   * Set `SO_REUSEADDR`, so other receivers of the same group and port can run on this host at the
   * same time (each gets every datagram). `SO_REUSEPORT` is never set: see the module doc.
   *
   * @default {true}
   */
  reuse?: boolean;
  /**
   * Receive one datagram per `recvmsg` call instead of batches per `recvmmsg`. Always the case
   * where the OS has no `recvmmsg` (macOS); elsewhere only useful to compare the two paths.
   *
   * @default {false}
   */
  singleMessages?: boolean;
}

/** Options of {@linkcode Subscription.batches}. */
export interface BatchesOptions {
  /**
   * Ends the iteration when it fires (within one `waitMs`).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * How long one `poll` of an empty socket may last before the iterator checks again whether it
   * was closed or aborted, in milliseconds (1 to 10000). This bounds how late the iteration ends.
   *
   * @default {100}
   */
  waitMs?: number;
}

/**
 * The datagrams of the last receive of a {@linkcode Subscription}: a view over the
 * subscription's reused buffers, valid until its next receive. Nothing here allocates per
 * datagram in the steady state.
 *
 * @example
 * ```ts ignore
 * import { Subscription } from "./subscription.ts";
 * using sub = new Subscription("239.1.2.3", { interface: "lo", port: 5000 });
 * const batch = sub.batch;
 * if (sub.receiveBatch() > 0) console.log(batch.sourceAddress(0), batch.payload(0));
 * ```
 */
export class ReceivedBatch {
  readonly #messages: MessageBatch;
  readonly #names: readonly Uint8Array[];
  readonly #views: Uint8Array[];
  readonly #cacheKeys: Uint8Array[];
  readonly #cacheLengths: number[];
  readonly #cacheValues: string[];
  #cacheNext = 0;
  #length = 0;

  /**
   * Internal: made by {@linkcode Subscription}, which owns the native batch.
   *
   * @param messages The `recvmmsg` batch (with names and control room) this view reads.
   */
  constructor(messages: MessageBatch) {
    this.#messages = messages;
    const names: Uint8Array[] = [];
    const views: Uint8Array[] = [];
    for (let i = 0; i < messages.count; i++) {
      const name = messages.nameOf(i);
      if (name === null) throw new InvalidValueError("batch", "no names", "a batch with names");
      names.push(name);
      views.push(messages.payloads[i]);
    }
    this.#names = names;
    this.#views = views;
    this.#cacheKeys = Array.from({ length: SOURCE_CACHE_SIZE }, () => new Uint8Array(16));
    this.#cacheLengths = new Array(SOURCE_CACHE_SIZE).fill(0);
    this.#cacheValues = new Array(SOURCE_CACHE_SIZE).fill("");
  }

  /** How many datagrams the last receive delivered (0 when the socket was empty). */
  get length(): number {
    return this.#length;
  }

  /** How many datagrams one receive can deliver at most (the batch size). */
  get capacity(): number {
    return this.#messages.count;
  }

  /**
   * Internal: sets the count after a receive.
   *
   * @param length The number of datagrams received.
   */
  setLength(length: number): void {
    this.#length = length;
  }

  /**
   * The received bytes of datagram `index` (at most `maxDatagramSize`): a view into the reused
   * buffer, overwritten by the next receive. Views are cached per slot and only remade when the
   * length changes, so a steady stream does not allocate.
   *
   * @example
   * ```ts ignore
   * const bytes = batch.payload(0);
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The payload.
   */
  payload(index: number): Uint8Array {
    this.#checkIndex(index);
    const length = Math.min(this.#messages.receivedLength(index), this.#messages.payloadSize);
    let view = this.#views[index];
    if (view.length !== length) {
      view = this.#messages.payloads[index].subarray(0, length);
      this.#views[index] = view;
    }
    return view;
  }

  /**
   * The full length of datagram `index` on the wire (UDP payload bytes), also when it was
   * truncated to `maxDatagramSize`.
   *
   * @example
   * ```ts ignore
   * batch.datagramLength(0); // 200
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The length in bytes.
   */
  datagramLength(index: number): number {
    this.#checkIndex(index);
    return this.#messages.receivedLength(index);
  }

  /**
   * Whether datagram `index` was longer than `maxDatagramSize` and so cut short (`MSG_TRUNC`).
   *
   * @example
   * ```ts ignore
   * if (batch.truncated(0)) console.warn("raise maxDatagramSize");
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns True when truncated.
   */
  truncated(index: number): boolean {
    this.#checkIndex(index);
    return (this.#messages.messageFlags(index) & PLATFORM.MSG_TRUNC) !== 0;
  }

  /**
   * Whether some of datagram `index`'s metadata was lost for want of control room
   * (`MSG_CTRUNC`).
   *
   * @example
   * ```ts ignore
   * batch.controlTruncated(0); // false
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns True when control data was truncated.
   */
  controlTruncated(index: number): boolean {
    this.#checkIndex(index);
    return (this.#messages.messageFlags(index) & PLATFORM.MSG_CTRUNC) !== 0;
  }

  /**
   * The source address of datagram `index`, canonical text without zone (`"10.0.0.1"`,
   * `"fd00::1"`). The last few distinct sources are cached, so a known sender costs a byte
   * comparison and no allocation.
   *
   * @example
   * ```ts ignore
   * batch.sourceAddress(0); // "10.100.1.1"
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The address.
   */
  sourceAddress(index: number): string {
    this.#checkIndex(index);
    const name = this.#names[index];
    const family = readFamily(name);
    const offset = family === PLATFORM.AF_INET ? 4 : family === PLATFORM.AF_INET6 ? 8 : -1;
    if (offset < 0) return "";
    const size = family === PLATFORM.AF_INET ? 4 : 16;
    for (let c = 0; c < SOURCE_CACHE_SIZE; c++) {
      if (this.#cacheLengths[c] !== size) continue;
      const key = this.#cacheKeys[c];
      let same = true;
      for (let b = 0; b < size; b++) {
        if (key[b] !== name[offset + b]) {
          same = false;
          break;
        }
      }
      if (same) return this.#cacheValues[c];
    }
    const slot = this.#cacheNext;
    this.#cacheNext = (slot + 1) % SOURCE_CACHE_SIZE;
    const key = this.#cacheKeys[slot];
    key.set(name.subarray(offset, offset + size));
    const text = formatAddress(key.slice(0, size));
    this.#cacheLengths[slot] = size;
    this.#cacheValues[slot] = text;
    return text;
  }

  /**
   * The source UDP port of datagram `index`.
   *
   * @example
   * ```ts ignore
   * batch.sourcePort(0); // 40512
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The port.
   */
  sourcePort(index: number): number {
    this.#checkIndex(index);
    const name = this.#names[index];
    return (name[2] << 8) | name[3];
  }

  /**
   * Reads what the kernel reported about datagram `index` (TTL / hop limit, TOS / traffic class,
   * destination address and arrival interface, receive time) into a reused `out`.
   *
   * @example
   * ```ts ignore
   * import { ReceivedMetadata } from "./subscription.ts";
   * const meta = new ReceivedMetadata();
   * batch.metadata(0, meta);
   * meta.ttl; // 64
   * ```
   *
   * @param index The datagram, 0 to `length - 1`.
   * @param out Where the values go (cleared first).
   */
  metadata(index: number, out: ReceivedMetadata): void {
    this.#checkIndex(index);
    this.#messages.readMetadata(index, out);
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#length) {
      throw new InvalidValueError(
        "datagram index",
        index,
        this.#length === 0 ? "no index: the batch is empty" : `0 to ${this.#length - 1}`,
      );
    }
  }
}

/** What the finalizer needs to close a forgotten subscription's socket. */
interface Held {
  fd: number;
}

const finalizer = new FinalizationRegistry<Held>((held) => {
  if (held.fd >= 0) libc().close(held.fd);
});

/** A join request as given to setsockopt, kept for the matching leave. */
interface Membership {
  level: number;
  leave: number;
  leaveLabel: string;
  request: Uint8Array;
}

/**
 * A multicast receiver: one UDP socket bound to the group and port, joined (*,G) or (S,G) on one
 * interface, with ancillary data on and a reused `recvmmsg` batch. Validates everything before it
 * opens the socket; closes the socket again if any step fails.
 *
 * `leave()` and `close()` are explicit and idempotent, and also happen on `[Symbol.dispose]`
 * (`using`); a `FinalizationRegistry` closes the socket of a subscription that was forgotten.
 *
 * @example ASM on an interface, SSM on the routing default
 * ```ts ignore
 * import { Subscription } from "./subscription.ts";
 *
 * using asm = new Subscription("239.1.2.3", { interface: "eth1" });
 * using ssm = new Subscription("232.1.1.1", { source: "10.0.0.1", port: 5000 });
 * console.log(asm.receiveBufferBytes, ssm.inSsmRange);
 * while (asm.receiveBatch() > 0) {
 *   for (let i = 0; i < asm.batch.length; i++) console.log(asm.batch.payload(i).length);
 * }
 * ```
 */
export class Subscription implements Disposable, AsyncIterable<ReceivedBatch> {
  readonly #group: string;
  readonly #source: string | null;
  readonly #family: AddressFamily;
  readonly #port: number;
  readonly #interfaceIndex: number;
  readonly #interfaceName: string | null;
  readonly #requestedReceiveBuffer: number;
  readonly #receiveBuffer: number;
  readonly #messages: MessageBatch;
  readonly #batch: ReceivedBatch;
  readonly #held: Held;
  readonly #libc: LibcSymbols;
  readonly #receiveFlags: number;
  readonly #singleMessages: boolean;
  #membership: Membership | null = null;
  #fd: number;
  #lastCount = 0;

  /**
   * Opens the socket, binds it, joins and configures it.
   *
   * @param group The IPv4 or IPv6 multicast group (`"239.1.2.3"`, `"ff3e::1234"`,
   *   `"ff02::1234%eth1"`).
   * @param options Interface, source, port, buffer and batch sizes, reuse.
   * @throws {InvalidValueError} When the group is not multicast, the source is not a unicast
   *   address of the group's family ({@linkcode MismatchError} for the family), the interface
   *   does not exist (`InterfaceNotFoundError`) or a number is out of range.
   * @throws {SocketError} When the OS refuses a step; the message names the call, errno, group,
   *   source and interface.
   */
  constructor(group: string, options: SubscriptionOptions = {}) {
    // --- validate everything before touching the OS -------------------------------------------
    const parsedGroup = parseAddress(group, { what: "group" });
    if (!isMulticast(parsedGroup.bytes)) {
      throw new InvalidValueError("group", group, "an IPv4 or IPv6 multicast address");
    }
    const family = parsedGroup.family;
    const groupText = formatAddress(parsedGroup.bytes);
    const source = options.source === undefined ? null : checkSource(options.source, family);
    const port = checkInteger("port", options.port ?? DEFAULT_PORT, 1, 65535);
    const requested = checkInteger(
      "receive buffer size",
      options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER_BYTES,
      0,
      MAX_RECEIVE_BUFFER_BYTES,
    );
    const batchSize = checkInteger("batch size", options.batchSize ?? DEFAULT_BATCH_SIZE, 1, 1024);
    const maxSize = checkInteger(
      "maximum datagram size",
      options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM_SIZE,
      1,
      65535,
    );
    const { index, name } = chooseInterface(parsedGroup, group, options.interface);
    const linkScoped = scopeIdKept(parsedGroup.bytes);
    if (linkScoped && index === 0) {
      throw new InvalidValueError(
        "interface",
        options.interface ?? null,
        `an interface for the link-scoped group ${groupText}, by option or %zone`,
      );
    }

    this.#group = groupText;
    this.#source = source;
    this.#family = family;
    this.#port = port;
    this.#interfaceIndex = index;
    this.#interfaceName = name;
    this.#requestedReceiveBuffer = requested;
    this.#libc = libc();
    this.#receiveFlags = PLATFORM.MSG_DONTWAIT | PLATFORM.MSG_TRUNC;
    this.#singleMessages = options.singleMessages === true || !CAPABILITIES.batchedMessages;

    // --- the socket -----------------------------------------------------------------------------
    const fd = openUdpSocket(family);
    this.#fd = fd;
    this.#held = { fd };
    try {
      const ip = family === "IPv4" ? PLATFORM.IPPROTO_IP : PLATFORM.IPPROTO_IPV6;
      if (options.reuse ?? true) {
        // SO_REUSEADDR only: see the module doc for why SO_REUSEPORT must stay off.
        setIntOption(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_REUSEADDR, 1, "SO_REUSEADDR");
      }
      if (family === "IPv6") {
        setIntOption(fd, ip, PLATFORM.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
      }
      bindTo(fd, { address: groupText, port, scopeId: linkScoped ? index : 0 });
      const all = family === "IPv4" ? PLATFORM.IP_MULTICAST_ALL : PLATFORM.IPV6_MULTICAST_ALL;
      if (all >= 0) {
        const label = family === "IPv4" ? "IP_MULTICAST_ALL" : "IPV6_MULTICAST_ALL";
        setIntOption(fd, ip, all, 0, label);
      }
      this.#membership = this.#join(fd, ip);
      if (family === "IPv4") {
        setIntOption(fd, ip, PLATFORM.IP_RECVTTL, 1, "IP_RECVTTL");
        setIntOption(fd, ip, PLATFORM.IP_RECVTOS, 1, "IP_RECVTOS");
        setIntOption(fd, ip, PLATFORM.IP_PKTINFO, 1, "IP_PKTINFO");
      } else {
        setIntOption(fd, ip, PLATFORM.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
        setIntOption(fd, ip, PLATFORM.IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS");
        setIntOption(fd, ip, PLATFORM.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
      }
      if (PLATFORM.SO_TIMESTAMPNS >= 0) {
        setIntOption(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
      }
      if (requested > 0) setReceiveBuffer(fd, requested);
      this.#receiveBuffer = getIntOption(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_RCVBUF, "SO_RCVBUF");
      this.#messages = new MessageBatch(batchSize, maxSize, {
        controlSize: CONTROL_SIZE,
        withNames: true,
      });
      this.#batch = new ReceivedBatch(this.#messages);
    } catch (error) {
      this.#membership = null;
      this.#fd = -1;
      this.#held.fd = -1;
      libc().close(fd);
      throw error;
    }
    finalizer.register(this, this.#held, this);
  }

  /** The group, canonical text without zone. */
  get group(): string {
    return this.#group;
  }

  /** The source of an (S,G) join, or null for (*,G). */
  get source(): string | null {
    return this.#source;
  }

  /** `"IPv4"` or `"IPv6"`. */
  get family(): AddressFamily {
    return this.#family;
  }

  /** The UDP port. */
  get port(): number {
    return this.#port;
  }

  /** The interface index joined on; 0 when the kernel chose by routing. */
  get interfaceIndex(): number {
    return this.#interfaceIndex;
  }

  /** The interface name joined on; null when the kernel chose by routing. */
  get interfaceName(): string | null {
    return this.#interfaceName;
  }

  /** Whether the group is in the SSM range (232/8, `ff3x::/32`), whatever the join. */
  get inSsmRange(): boolean {
    return isSsmGroup(this.#group);
  }

  /** The receive buffer size that was asked for (0: kernel default). */
  get requestedReceiveBufferBytes(): number {
    return this.#requestedReceiveBuffer;
  }

  /**
   * The receive buffer the kernel granted, as `getsockopt(SO_RCVBUF)` reports it (Linux reports
   * twice the usable size: it counts its bookkeeping overhead too).
   */
  get receiveBufferBytes(): number {
    return this.#receiveBuffer;
  }

  /** The socket's file descriptor; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** True while the group is joined (until {@linkcode Subscription.leave} or close). */
  get joined(): boolean {
    return this.#membership !== null;
  }

  /** True once {@linkcode Subscription.close} was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The view filled by {@linkcode Subscription.receiveBatch}, the same object every time. */
  get batch(): ReceivedBatch {
    return this.#batch;
  }

  /**
   * Receives whatever is queued, up to the batch size, without waiting (`recvmmsg` with
   * `MSG_DONTWAIT`) into the reused {@linkcode Subscription.batch}. Returns 0 when the socket is
   * empty. The previous batch's contents are overwritten.
   *
   * @example
   * ```ts ignore
   * const count = sub.receiveBatch();
   * for (let i = 0; i < count; i++) handle(sub.batch.payload(i));
   * ```
   *
   * @returns The number of datagrams received.
   * @throws {ClosedError} After close.
   * @throws {SocketError} When `recvmmsg` fails for another reason than an empty socket.
   */
  receiveBatch(): number {
    const fd = this.#fd;
    if (fd < 0) throw new ClosedError(`subscription ${this.#describe()}`);
    const messages = this.#messages;
    // The kernel shrinks name/control lengths only in the slots it filled (and, on an error,
    // possibly in the next one); restore exactly those.
    const dirty = Math.min(this.#lastCount + 1, messages.count);
    for (let i = 0; i < dirty; i++) messages.resetSlot(i);
    if (this.#singleMessages) return this.#receiveEach(fd, messages);
    const received = this.#libc.recvmmsg(
      fd,
      messages.headers,
      messages.count,
      this.#receiveFlags,
      null,
    );
    if (received < 0) {
      const errno = lastErrno();
      this.#lastCount = 0;
      this.#batch.setLength(0);
      if (errno === PLATFORM.errno.EAGAIN || errno === PLATFORM.errno.EINTR) return 0;
      throw socketError(errno, "recvmmsg", this.#describe());
    }
    this.#lastCount = received;
    this.#batch.setLength(received);
    return received;
  }

  // One recvmsg per slot, until the socket is empty or the batch is full.
  #receiveEach(fd: number, messages: MessageBatch): number {
    let received = 0;
    while (received < messages.count) {
      const length = Number(
        this.#libc.recvmsg(fd, messages.headersFrom(received), this.#receiveFlags),
      );
      if (length < 0) {
        const errno = lastErrno();
        if (errno === PLATFORM.errno.EAGAIN || errno === PLATFORM.errno.EINTR) break;
        this.#lastCount = received;
        this.#batch.setLength(0);
        throw socketError(errno, "recvmsg", this.#describe());
      }
      messages.setReceivedLength(received, length);
      received++;
    }
    this.#lastCount = received;
    this.#batch.setLength(received);
    return received;
  }

  /**
   * Batches as they arrive: receives without waiting, and when the socket is empty waits for it
   * with `poll` (off the JS thread) in slices of `waitMs`. Ends when the subscription is closed
   * or `signal` fires. Every step yields the same {@linkcode ReceivedBatch}, refilled.
   *
   * @example
   * ```ts ignore
   * for await (const batch of sub.batches({ signal: AbortSignal.timeout(5000) })) {
   *   console.log(batch.length);
   * }
   * ```
   *
   * @param options Abort signal and poll slice.
   * @returns The batches.
   */
  async *batches(options: BatchesOptions = {}): AsyncGenerator<ReceivedBatch, void, undefined> {
    const signal = options.signal;
    const waitMs = checkInteger("wait time", options.waitMs ?? 100, 1, 10_000);
    while (this.#fd >= 0 && !(signal?.aborted ?? false)) {
      if (this.receiveBatch() > 0) {
        yield this.#batch;
        continue;
      }
      await waitForFd(this.#fd, PLATFORM.POLLIN, waitMs);
    }
  }

  /**
   * Same as {@linkcode Subscription.batches} with the default options: `for await (const batch
   * of sub)`.
   *
   * @returns The batches.
   */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedBatch> {
    return this.batches();
  }

  /**
   * Leaves the group (`MCAST_LEAVE_GROUP` / `MCAST_LEAVE_SOURCE_GROUP`), keeping the socket
   * open. Does nothing when not joined or closed.
   *
   * @example
   * ```ts ignore
   * sub.leave();
   * sub.joined; // false
   * ```
   *
   * @throws {SocketError} When the kernel refuses the leave.
   */
  leave(): void {
    const membership = this.#membership;
    if (membership === null || this.#fd < 0) return;
    this.#membership = null;
    setStructOption(this.#fd, membership.level, membership.leave, membership.request, {
      label: membership.leaveLabel,
      value: this.#describe(),
    });
  }

  /**
   * Leaves the group (errors ignored: closing drops the membership anyway) and closes the
   * socket. Safe to call twice.
   *
   * @example
   * ```ts ignore
   * sub.close();
   * sub.closed; // true
   * ```
   */
  close(): void {
    if (this.#fd < 0) return;
    try {
      this.leave();
    } catch {
      // The interface may be gone; the kernel drops the membership with the socket.
    }
    const fd = this.#fd;
    this.#fd = -1;
    this.#held.fd = -1;
    finalizer.unregister(this);
    this.#libc.close(fd);
  }

  /** Same as {@linkcode Subscription.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #join(fd: number, level: number): Membership {
    const index = this.#interfaceIndex;
    const source = this.#source;
    const value = this.#describe();
    const request = source === null
      ? groupReq(index, this.#group)
      : groupSourceReq(index, this.#group, source);
    const join = source === null ? PLATFORM.MCAST_JOIN_GROUP : PLATFORM.MCAST_JOIN_SOURCE_GROUP;
    const joinLabel = source === null ? "MCAST_JOIN_GROUP" : "MCAST_JOIN_SOURCE_GROUP";
    const leave = source === null ? PLATFORM.MCAST_LEAVE_GROUP : PLATFORM.MCAST_LEAVE_SOURCE_GROUP;
    const leaveLabel = source === null ? "MCAST_LEAVE_GROUP" : "MCAST_LEAVE_SOURCE_GROUP";
    try {
      setStructOption(fd, level, join, request, { label: joinLabel, value });
      return { level, leave, leaveLabel, request };
    } catch (error) {
      const refused = error instanceof SocketError &&
        error.errno === PLATFORM.errno.ENOPROTOOPT;
      if (!refused || this.#family !== "IPv4") throw error;
    }
    // IPv4-specific calls, for kernels without the protocol-independent ones.
    if (source === null) {
      const legacy = ipMreqn(this.#group, "0.0.0.0", index);
      setStructOption(fd, level, PLATFORM.IP_ADD_MEMBERSHIP, legacy, {
        label: "IP_ADD_MEMBERSHIP",
        value,
      });
      return {
        level,
        leave: PLATFORM.IP_DROP_MEMBERSHIP,
        leaveLabel: "IP_DROP_MEMBERSHIP",
        request: legacy,
      };
    }
    const legacy = ipMreqSource(this.#group, this.#interfaceAddress(), source);
    setStructOption(fd, level, PLATFORM.IP_ADD_SOURCE_MEMBERSHIP, legacy, {
      label: "IP_ADD_SOURCE_MEMBERSHIP",
      value,
    });
    return {
      level,
      leave: PLATFORM.IP_DROP_SOURCE_MEMBERSHIP,
      leaveLabel: "IP_DROP_SOURCE_MEMBERSHIP",
      request: legacy,
    };
  }

  #interfaceAddress(): string {
    if (this.#interfaceIndex === 0) return "0.0.0.0";
    const found = resolveInterface(this.#interfaceIndex).addresses.find((a) => a.family === "IPv4");
    return found?.address ?? "0.0.0.0";
  }

  #describe(): string {
    const membership = this.#source === null
      ? `(*, ${this.#group})`
      : `(${this.#source}, ${this.#group})`;
    const where = this.#interfaceIndex === 0
      ? "the routing default interface"
      : `${this.#interfaceName ?? "?"} (index ${this.#interfaceIndex})`;
    return `${membership} port ${this.#port} on ${where}`;
  }
}

function checkInteger(what: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidValueError(what, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function checkSource(source: string, family: AddressFamily): string {
  const parsed = parseAddress(source, { what: "source" });
  if (parsed.family !== family) {
    throw new MismatchError("address family of source", family, parsed.family);
  }
  const unspecified = parsed.bytes.every((b) => b === 0);
  if (isMulticast(parsed.bytes) || unspecified) {
    throw new InvalidValueError("source", source, `a unicast ${family} address`);
  }
  return formatAddress(parsed.bytes);
}

function chooseInterface(
  group: ParsedAddress,
  groupText: string,
  spec: string | number | undefined,
): { index: number; name: string | null } {
  const fromSpec = spec === undefined || spec === 0 || spec === "0" || spec === ""
    ? null
    : resolveInterface(spec);
  const fromZone = group.zone === undefined ? null : resolveInterface(group.zone);
  if (fromSpec !== null && fromZone !== null && fromSpec.index !== fromZone.index) {
    throw new MismatchError(`interface of group ${groupText}`, fromZone.name, fromSpec.name);
  }
  const chosen = fromSpec ?? fromZone;
  return chosen === null ? { index: 0, name: null } : { index: chosen.index, name: chosen.name };
}

function setReceiveBuffer(fd: number, bytes: number): void {
  if (PLATFORM.SO_RCVBUFFORCE >= 0) {
    try {
      setIntOption(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_RCVBUFFORCE, bytes, "SO_RCVBUFFORCE");
      return;
    } catch (error) {
      if (!(error instanceof SocketError) || error.errno !== PLATFORM.errno.EPERM) throw error;
    }
  }
  setIntOption(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_RCVBUF, bytes, "SO_RCVBUF");
}

function readFamily(name: Uint8Array): number {
  if (LAYOUT.sockaddrHasLength) return name[1];
  return LITTLE_ENDIAN ? name[0] | (name[1] << 8) : (name[0] << 8) | name[1];
}
