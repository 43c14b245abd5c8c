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
 * 4. The join: `MCAST_JOIN_GROUP` (any source), `MCAST_JOIN_SOURCE_GROUP` once per source (an
 *    INCLUDE-mode filter of those sources), or `MCAST_JOIN_GROUP` then `MCAST_BLOCK_SOURCE` once
 *    per excluded source (an EXCLUDE-mode filter), at level `IPPROTO_IP` or `IPPROTO_IPV6` (the
 *    protocol-independent calls of RFC 3678); IPv4 falls back to `IP_ADD_MEMBERSHIP` /
 *    `IP_ADD_SOURCE_MEMBERSHIP` only where the kernel refuses those with `ENOPROTOOPT`. Linux accepts a source-specific join on any multicast group, so SSM is not
 *    restricted to 232/8 and `ff3x::/32` here; {@linkcode Subscription.inSsmRange} (and
 *    `isSsmGroup` in `address.ts`) tells whether a group is in the SSM range. Which IGMP/MLD
 *    version a join may use is `igmp_version.ts`'s business.
 * 5. Ancillary data: TTL / hop limit, TOS / traffic class, packet info (destination address and
 *    arrival interface) and the kernel receive time (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`).
 * 6. A bigger receive buffer (4 MiB requested by default): `SO_RCVBUFFORCE` first, which root may
 *    use beyond `net.core.rmem_max`, then `SO_RCVBUF` silently when that is refused.
 *
 * Every socket call goes through the one socket seam, `UdpSocket` (`ffi/socket.ts`); this module
 * decides what to set and in which order. Receiving never allocates per datagram:
 * {@linkcode Subscription.receiveBatch} fills a reused `ReceivedBatch` view (`ffi/msghdr.ts`:
 * payload views are cached per slot and only remade when a length changes; source addresses are
 * formatted once per distinct sender and cached).
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
import { ClosedError, InvalidValueError, SocketError } from "./errors.ts";
import { interfaceForGroup } from "./interfaces.ts";
import { DEFAULT_PORT } from "./mcas.ts";
import { type FilterMode, sourceFilter } from "./source_filter.ts";
import { checkInteger } from "./_numbers.ts";
import { PLATFORM } from "../ffi/constants.ts";
import { ReceivedMetadata } from "../ffi/msghdr.ts";
import { ReceivedBatch, type ReceivedBatch as Batch } from "../ffi/received_batch.ts";
import { type Membership, UdpSocket } from "../ffi/socket.ts";

export { ReceivedBatch, ReceivedMetadata };
export type { AddressFamily };

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
   * unicast address of the group's family. Same as `sources: [source]`.
   *
   * @default {undefined}
   */
  source?: string;
  /**
   * Sources of one INCLUDE-mode filter: the group is joined for each of them
   * (`MCAST_JOIN_SOURCE_GROUP` per source) and for no other. Not with `source` or `exclude`.
   *
   * @default {[]}
   */
  sources?: readonly string[];
  /**
   * Sources of an EXCLUDE-mode filter: the group is joined from any source, then each of these is
   * blocked (`MCAST_BLOCK_SOURCE`). Not with `source` or `sources`.
   *
   * @default {[]}
   */
  exclude?: readonly string[];
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
   * flagged (`ReceivedBatch.truncated`); its full length is still reported.
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
   * A batch view to receive into, shared with other subscriptions (a receiver of many groups
   * receives each socket's datagrams into one view and counts them before the next receive);
   * `batchSize` and `maxDatagramSize` are then the view's.
   *
   * @default {a batch of its own}
   */
  batch?: ReceivedBatch;
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
 * A multicast receiver: one UDP socket bound to the group and port, joined (*,G), (S,G), with an
 * INCLUDE list of sources or an EXCLUDE list, on one interface, with ancillary data on and a
 * reused `recvmmsg` batch. Validates everything before it opens the socket; closes the socket
 * again if any step fails.
 *
 * `leave()` and `close()` are explicit and idempotent, and also happen on `[Symbol.dispose]`
 * (`using`); the socket seam closes the socket of a subscription that was forgotten.
 *
 * @example ASM on an interface, SSM on the routing default
 * ```ts ignore
 * import { Subscription } from "./subscription.ts";
 *
 * using asm = new Subscription("239.1.2.3", { interface: "eth1" });
 * using ssm = new Subscription("232.1.1.1", { source: "10.0.0.1", port: 5000 });
 * using two = new Subscription("232.1.1.2", { sources: ["10.0.0.1", "10.0.0.2"] });
 * using notS2 = new Subscription("239.1.1.3", { exclude: ["10.0.0.2"] });
 * console.log(asm.receiveBufferBytes, ssm.inSsmRange, two.filterMode, notS2.filterMode);
 * while (asm.receiveBatch() > 0) {
 *   for (let i = 0; i < asm.batch.length; i++) console.log(asm.batch.payload(i).length);
 * }
 * ```
 */
export class Subscription implements Disposable, AsyncIterable<ReceivedBatch> {
  readonly #group: string;
  readonly #sources: readonly string[];
  readonly #exclude: readonly string[];
  readonly #family: AddressFamily;
  readonly #port: number;
  readonly #interfaceIndex: number;
  readonly #interfaceName: string | null;
  readonly #requestedReceiveBuffer: number;
  readonly #receiveBuffer: number;
  readonly #socket: UdpSocket;
  readonly #batch: Batch;
  readonly #singleMessages: boolean;
  #memberships: Membership[] = [];

  /**
   * Opens the socket, binds it, joins and configures it.
   *
   * @param group The IPv4 or IPv6 multicast group (`"239.1.2.3"`, `"ff3e::1234"`,
   *   `"ff02::1234%eth1"`).
   * @param options Interface, sources, port, buffer and batch sizes, reuse.
   * @throws {InvalidValueError} When the group is not multicast, a source is not a unicast
   *   address of the group's family ({@linkcode MismatchError} for the family), the source
   *   options are combined, the interface does not exist (`InterfaceNotFoundError`) or a number
   *   is out of range.
   * @throws {SocketError} When the OS refuses a step; the message names the call, errno, group,
   *   sources and interface.
   */
  constructor(group: string, options: SubscriptionOptions = {}) {
    // --- validate everything before touching the OS -------------------------------------------
    const parsedGroup = parseAddress(group, { what: "group" });
    if (!isMulticast(parsedGroup.bytes)) {
      throw new InvalidValueError("group", group, "an IPv4 or IPv6 multicast address");
    }
    const family = parsedGroup.family;
    const groupText = formatAddress(parsedGroup.bytes);
    const { sources, exclude } = sourceFilter(options, family);
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
    if (options.batch !== undefined && !(options.batch instanceof ReceivedBatch)) {
      throw new InvalidValueError("batch", options.batch, "a ReceivedBatch");
    }
    const { index, name } = interfaceForGroup(parsedGroup, options.interface);
    const linkScoped = scopeIdKept(parsedGroup.bytes);
    if (linkScoped && index === 0) {
      throw new InvalidValueError(
        "interface",
        options.interface ?? null,
        `an interface for the link-scoped group ${groupText}, by option or %zone`,
      );
    }

    this.#group = groupText;
    this.#sources = sources;
    this.#exclude = exclude;
    this.#family = family;
    this.#port = port;
    this.#interfaceIndex = index;
    this.#interfaceName = name;
    this.#requestedReceiveBuffer = requested;
    this.#singleMessages = options.singleMessages === true;

    // --- the socket -----------------------------------------------------------------------------
    const socket = UdpSocket.open(family, { label: this.#describe() });
    this.#socket = socket;
    try {
      const P = PLATFORM;
      const ip = family === "IPv4" ? P.IPPROTO_IP : P.IPPROTO_IPV6;
      if (options.reuse ?? true) {
        // SO_REUSEADDR only: see the module doc for why SO_REUSEPORT must stay off.
        socket.setInt(P.SOL_SOCKET, P.SO_REUSEADDR, 1, "SO_REUSEADDR");
      }
      if (family === "IPv6") socket.setInt(ip, P.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
      const scopeId = linkScoped ? index : 0;
      socket.bind(
        { family, bytes: parsedGroup.bytes, port, scopeId },
        family === "IPv4"
          ? `${groupText}:${port}`
          : `[${groupText}${scopeId ? `%${scopeId}` : ""}]:${port}`,
      );
      const all = family === "IPv4" ? P.IP_MULTICAST_ALL : P.IPV6_MULTICAST_ALL;
      if (all >= 0) {
        socket.setInt(ip, all, 0, family === "IPv4" ? "IP_MULTICAST_ALL" : "IPV6_MULTICAST_ALL");
      }
      this.#join(parsedGroup);
      if (family === "IPv4") {
        socket.setInt(ip, P.IP_RECVTTL, 1, "IP_RECVTTL");
        socket.setInt(ip, P.IP_RECVTOS, 1, "IP_RECVTOS");
        socket.setInt(ip, P.IP_PKTINFO, 1, "IP_PKTINFO");
      } else {
        socket.setInt(ip, P.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
        socket.setInt(ip, P.IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS");
        socket.setInt(ip, P.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
      }
      if (P.SO_TIMESTAMPNS >= 0) {
        socket.setInt(P.SOL_SOCKET, P.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
      }
      if (requested > 0) setReceiveBuffer(socket, requested);
      this.#receiveBuffer = socket.getInt(P.SOL_SOCKET, P.SO_RCVBUF, "SO_RCVBUF");
      this.#batch = options.batch ?? new ReceivedBatch(batchSize, maxSize, {
        controlSize: CONTROL_SIZE,
        formatAddress,
      });
    } catch (error) {
      this.#memberships = [];
      socket.close();
      throw error;
    }
  }

  /** The group, canonical text without zone. */
  get group(): string {
    return this.#group;
  }

  /**
   * The source of an (S,G) join (the first of an INCLUDE list), or null for (*,G) and EXCLUDE
   * joins.
   */
  get source(): string | null {
    return this.#sources[0] ?? null;
  }

  /** The INCLUDE-mode sources, canonical; empty for (*,G) and EXCLUDE joins. */
  get sources(): readonly string[] {
    return this.#sources;
  }

  /** The EXCLUDE-mode sources, canonical; empty unless the join excludes some. */
  get exclude(): readonly string[] {
    return this.#exclude;
  }

  /** INCLUDE for a source list, EXCLUDE for (*,G) (with no source excluded) and exclude lists. */
  get filterMode(): FilterMode {
    return this.#sources.length > 0 ? "INCLUDE" : "EXCLUDE";
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
    return this.#socket.fd;
  }

  /** True while the group is joined (until {@linkcode Subscription.leave} or close). */
  get joined(): boolean {
    return this.#memberships.length > 0 && !this.#socket.closed;
  }

  /** True once {@linkcode Subscription.close} was called. */
  get closed(): boolean {
    return this.#socket.closed;
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
    if (this.#socket.closed) throw new ClosedError(`subscription ${this.#describe()}`);
    return this.#socket.receiveBatch(this.#batch, { singleMessages: this.#singleMessages });
  }

  /**
   * Waits until a datagram is queued (`poll` for POLLIN, off the JS thread) or `timeoutMs`
   * passes.
   *
   * @example
   * ```ts ignore
   * if (await sub.waitReadable(100)) sub.receiveBatch();
   * ```
   *
   * @param timeoutMs Milliseconds (-1: no limit).
   * @returns True when readable, false on timeout or when closed.
   */
  async waitReadable(timeoutMs: number): Promise<boolean> {
    if (this.#socket.closed) return false;
    return (await this.#socket.wait(PLATFORM.POLLIN, timeoutMs)) !== 0;
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
    while (!this.#socket.closed && !(signal?.aborted ?? false)) {
      if (this.receiveBatch() > 0) {
        yield this.#batch;
        continue;
      }
      await this.waitReadable(waitMs);
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
   * Leaves the group (`MCAST_LEAVE_GROUP`, or `MCAST_LEAVE_SOURCE_GROUP` per source), keeping
   * the socket open. Does nothing when not joined or closed.
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
    const memberships = this.#memberships;
    if (memberships.length === 0 || this.#socket.closed) return;
    this.#memberships = [];
    // Blocks are undone by leaving the group itself (the first membership of an EXCLUDE join).
    const leaves = this.#exclude.length > 0 ? memberships.slice(0, 1) : memberships;
    let failure: unknown = null;
    for (const membership of leaves) {
      try {
        membership.leave();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
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
    if (this.#socket.closed) return;
    try {
      this.leave();
    } catch {
      // The interface may be gone; the kernel drops the membership with the socket.
    }
    this.#socket.close();
  }

  /** Same as {@linkcode Subscription.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #join(group: ParsedAddress): void {
    const socket = this.#socket;
    const index = this.#interfaceIndex;
    const describe = this.#describe();
    const family = this.#family;
    const bytes = (text: string) => ({ family, bytes: parseAddress(text).bytes });
    if (this.#sources.length > 0) {
      for (const source of this.#sources) {
        this.#memberships.push(socket.joinSource(index, group, bytes(source), describe));
      }
      return;
    }
    this.#memberships.push(socket.joinGroup(index, group, describe));
    for (const source of this.#exclude) {
      this.#memberships.push(socket.blockSource(index, group, bytes(source), describe));
    }
  }

  #describe(): string {
    const sources = this.#sources.length > 0
      ? this.#sources.join(", ")
      : this.#exclude.length > 0
      ? `* except ${this.#exclude.join(", ")}`
      : "*";
    const where = this.#interfaceIndex === 0
      ? "the routing default interface"
      : `${this.#interfaceName ?? "?"} (index ${this.#interfaceIndex})`;
    return `(${sources}, ${this.#group}) port ${this.#port} on ${where}`;
  }
}

function setReceiveBuffer(socket: UdpSocket, bytes: number): void {
  const P = PLATFORM;
  if (P.SO_RCVBUFFORCE >= 0) {
    try {
      socket.setInt(P.SOL_SOCKET, P.SO_RCVBUFFORCE, bytes, "SO_RCVBUFFORCE");
      return;
    } catch (error) {
      if (!(error instanceof SocketError) || error.errno !== P.errno.EPERM) throw error;
    }
  }
  socket.setInt(P.SOL_SOCKET, P.SO_RCVBUF, bytes, "SO_RCVBUF");
}
