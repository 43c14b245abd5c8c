/**
 * A packet socket (`AF_PACKET`, `SOCK_DGRAM`: frames without their link-layer header) bound to
 * one interface and one IP version, with a classic BPF filter attached: it sees what reaches the
 * interface — before reverse-path filtering, the firewall and the socket lookup drop anything —
 * and also what the host sends out of it (flagged `outgoing`). Linux only; opening it needs
 * CAP_NET_RAW.
 *
 * The socket is opened with protocol 0 (it receives nothing), the filter is attached, and only
 * then is it bound to the ethertype and interface, so no unfiltered frame is ever queued.
 *
 * @module
 */

import { CAPABILITIES, LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check } from "./errno.ts";
import { InvalidValueError } from "./errors.ts";
import { libc } from "./libc.ts";
import type { BpfProgram } from "./bpf.ts";
import type { AddressFamily } from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";
import { FdSocket } from "./_fd_socket.ts";

/** Options of {@linkcode PacketSocket.open}. */
export interface PacketSocketOptions {
  /** The interface index to watch. */
  ifindex: number;
  /** Which IP version's frames: IPv4 (ethertype 0x0800) or IPv6 (0x86DD). */
  family: AddressFamily;
  /** The filter; the socket keeps it referenced for its whole life. */
  program: BpfProgram;
  /**
   * What the socket watches, for error messages.
   *
   * @default {"packet socket on interface N"}
   */
  label?: string;
}

/** One frame received by {@linkcode PacketSocket.receive}. */
export interface PacketFrame {
  /** Bytes written to the buffer, from the first byte of the IP header. */
  readonly length: number;
  /** True for a frame this host sent out of the interface. */
  readonly outgoing: boolean;
}

/**
 * A filtered packet socket on one interface.
 *
 * @example Watch a second of UDP to 239.1.2.3 arriving on interface 2 (root)
 * ```ts ignore
 * import { udpToGroupProgram } from "./bpf.ts";
 * import { PacketSocket } from "./packet_socket.ts";
 * const group = { family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) } as const;
 * using tap = PacketSocket.open({ ifindex: 2, family: "IPv4", program: udpToGroupProgram(group) });
 * const buffer = new Uint8Array(128);
 * if (await tap.wait(1000)) console.log(tap.receive(buffer));
 * ```
 */
export class PacketSocket extends FdSocket {
  // Held for the socket's life (the FFI memory rule), though the kernel copies it on attach.
  readonly #program: BpfProgram;
  readonly #address = nativeBuffer(Math.max(PLATFORM.layout.sockaddrLlSize, 0));

  private constructor(fd: number, label: string, program: BpfProgram) {
    super(fd, "packet socket", label);
    this.#program = program;
  }

  /**
   * Opens the socket, attaches the filter and binds it to the interface.
   *
   * @param options Interface, IP version, filter, label.
   * @returns The socket.
   * @throws {InvalidValueError} When this OS has no packet sockets or the index is not positive.
   * @throws {SocketError} When the kernel refuses (EPERM without CAP_NET_RAW, ENODEV …).
   */
  static open(options: PacketSocketOptions): PacketSocket {
    if (!CAPABILITIES.packetSockets) {
      throw new InvalidValueError("packet socket", PLATFORM.os, "Linux (AF_PACKET)");
    }
    if (!Number.isInteger(options.ifindex) || options.ifindex <= 0) {
      throw new InvalidValueError("interface index", options.ifindex, "a positive integer");
    }
    const label = options.label ?? `packet socket on interface ${options.ifindex}`;
    const type = PLATFORM.SOCK_DGRAM | PLATFORM.SOCK_CLOEXEC | PLATFORM.SOCK_NONBLOCK;
    const fd = check(libc().socket(PLATFORM.AF_PACKET, type, 0), "socket(AF_PACKET)", label);
    const socket = new PacketSocket(fd, label, options.program);
    return FdSocket.settle(socket, () => {
      socket.#attach();
      socket.#bind(options.ifindex, options.family);
    });
  }

  /**
   * Takes one queued frame without waiting.
   *
   * @param buffer Where the frame goes (from the IP header on; cut to the buffer's length).
   * @returns The frame, or null when none is queued.
   * @throws {SocketError} When the receive fails for another reason than an empty queue.
   */
  receive(buffer: Uint8Array): PacketFrame | null {
    const length = this.receiveFrom(buffer, this.#address);
    if (length === null) return null;
    const pkttype = this.#address[PLATFORM.layout.sockaddrLl.pkttype];
    return { length, outgoing: pkttype === PLATFORM.PACKET_OUTGOING };
  }

  #attach(): void {
    const fprog = this.#program.fprog;
    check(
      libc().setsockopt(
        this.live(),
        PLATFORM.SOL_SOCKET,
        PLATFORM.SO_ATTACH_FILTER,
        fprog,
        fprog.length,
      ),
      "setsockopt(SO_ATTACH_FILTER)",
      this.label,
    );
  }

  #bind(ifindex: number, family: AddressFamily): void {
    const layout = PLATFORM.layout.sockaddrLl;
    const address = nativeBuffer(PLATFORM.layout.sockaddrLlSize);
    const view = new DataView(address.buffer);
    view.setUint16(layout.family, PLATFORM.AF_PACKET, LITTLE_ENDIAN);
    view.setUint16(layout.protocol, family === "IPv4" ? PLATFORM.ETH_P_IP : PLATFORM.ETH_P_IPV6);
    view.setInt32(layout.ifindex, ifindex, LITTLE_ENDIAN);
    check(
      libc().bind(this.live(), address, address.length),
      "bind(AF_PACKET)",
      this.label,
    );
  }
}
