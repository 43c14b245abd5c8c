/**
 * A raw socket for one membership protocol on one interface: IGMP (`AF_INET`, `SOCK_RAW`,
 * `IPPROTO_IGMP`: each datagram arrives with its IPv4 header) or ICMPv6 (`AF_INET6`,
 * `SOCK_RAW`, `IPPROTO_ICMPV6`: the ICMPv6 message alone, its types narrowed by
 * `ICMP6_FILTER`). The kernel hands such a socket only packets of its protocol, so listening
 * for queries costs the UDP receive path nothing. Bound to the interface with
 * `SO_BINDTODEVICE`; opening it needs CAP_NET_RAW.
 *
 * @module
 */

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check } from "./errno.ts";
import { InvalidValueError } from "./errors.ts";
import { libc } from "./libc.ts";
import { decodeSockaddr, type RawAddress } from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";
import { FdSocket } from "./_fd_socket.ts";

/** Which protocol a {@linkcode RawSocket} receives. */
export type RawProtocol = "igmp" | "icmpv6";

/** Options of {@linkcode RawSocket.open}. */
export interface RawSocketOptions {
  /** The interface name to listen on. */
  device: string;
  /**
   * ICMPv6 only: the message types to receive (0..255); the kernel drops the others.
   *
   * @default {all types}
   */
  icmpv6Types?: readonly number[];
  /**
   * What the socket listens for, for error messages.
   *
   * @default {"igmp on DEVICE"}
   */
  label?: string;
}

/** One datagram received by {@linkcode RawSocket.receive}. */
export interface RawDatagram {
  /** Bytes written to the buffer (IGMP: from the IPv4 header; ICMPv6: the message). */
  readonly length: number;
  /** The sender's address (a fresh copy). */
  readonly source: RawAddress;
}

/**
 * A raw IGMP or ICMPv6 socket bound to one interface.
 *
 * @example Hear the next IGMP message on eth1 (root)
 * ```ts ignore
 * import { RawSocket } from "./raw_socket.ts";
 * using socket = RawSocket.open("igmp", { device: "eth1" });
 * const buffer = new Uint8Array(1500);
 * if (await socket.wait(5000)) console.log(socket.receive(buffer));
 * ```
 */
export class RawSocket extends FdSocket {
  /** The protocol. */
  readonly protocol: RawProtocol;
  readonly #address = nativeBuffer(PLATFORM.layout.sockaddrStorageSize);

  private constructor(fd: number, protocol: RawProtocol, label: string) {
    super(fd, "raw socket", label);
    this.protocol = protocol;
  }

  /**
   * Opens the socket, narrows its ICMPv6 types and binds it to the device.
   *
   * @param protocol `"igmp"` or `"icmpv6"`.
   * @param options Device, ICMPv6 types, label.
   * @returns The socket.
   * @throws {InvalidValueError} When the device name is empty or too long, a type is out of range,
   *   or this OS cannot bind a socket to a device by name.
   * @throws {SocketError} When the kernel refuses (EPERM without CAP_NET_RAW, ENODEV …).
   */
  static open(protocol: RawProtocol, options: RawSocketOptions): RawSocket {
    const name = new TextEncoder().encode(`${options.device}\0`);
    if (name.length < 2 || name.length > PLATFORM.IFNAMSIZ) {
      throw new InvalidValueError("device", options.device, "an interface name");
    }
    if (PLATFORM.SO_BINDTODEVICE < 0) {
      throw new InvalidValueError("raw socket", PLATFORM.os, "an OS with SO_BINDTODEVICE");
    }
    const types = options.icmpv6Types;
    if (types?.some((t) => !Number.isInteger(t) || t < 0 || t > 255)) {
      throw new InvalidValueError("ICMPv6 types", types, "integers from 0 to 255");
    }
    const label = options.label ?? `${protocol} on ${options.device}`;
    const igmp = protocol === "igmp";
    const fd = check(
      libc().socket(
        igmp ? PLATFORM.AF_INET : PLATFORM.AF_INET6,
        PLATFORM.SOCK_RAW | PLATFORM.SOCK_CLOEXEC | PLATFORM.SOCK_NONBLOCK,
        igmp ? PLATFORM.IPPROTO_IGMP : PLATFORM.IPPROTO_ICMPV6,
      ),
      "socket(SOCK_RAW)",
      label,
    );
    const socket = new RawSocket(fd, protocol, label);
    return FdSocket.settle(socket, () => {
      if (!igmp && types !== undefined) socket.#setTypes(types);
      check(
        libc().setsockopt(fd, PLATFORM.SOL_SOCKET, PLATFORM.SO_BINDTODEVICE, name, name.length),
        "setsockopt(SO_BINDTODEVICE)",
        options.device,
      );
    });
  }

  /**
   * Takes one queued datagram without waiting.
   *
   * @param buffer Where it goes (cut to the buffer's length).
   * @returns The datagram, or null when none is queued.
   * @throws {SocketError} When the receive fails for another reason than an empty queue.
   */
  receive(buffer: Uint8Array): RawDatagram | null {
    this.#address.fill(0);
    const length = this.receiveFrom(buffer, this.#address);
    if (length === null) return null;
    const { family, bytes } = decodeSockaddr(this.#address);
    return { length, source: { family, bytes } };
  }

  // struct icmp6_filter: one bit per type; on Linux a set bit blocks, on BSD it passes.
  #setTypes(types: readonly number[]): void {
    const layout = PLATFORM.layout;
    const filter = nativeBuffer(layout.icmp6FilterSize);
    const blocks = layout.icmp6FilterBitBlocks;
    const view = new DataView(filter.buffer);
    for (let word = 0; word < layout.icmp6FilterSize / 4; word++) {
      let bits = 0;
      for (const type of types) if (type >> 5 === word) bits |= 1 << (type & 31);
      view.setUint32(word * 4, blocks ? ~bits >>> 0 : bits >>> 0, LITTLE_ENDIAN);
    }
    check(
      libc().setsockopt(
        this.live(),
        PLATFORM.IPPROTO_ICMPV6,
        PLATFORM.ICMP6_FILTER,
        filter,
        filter.length,
      ),
      "setsockopt(ICMP6_FILTER)",
      types.join(","),
    );
  }
}
