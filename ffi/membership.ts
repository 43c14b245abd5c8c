/**
 * A multicast membership of a socket — a joined group, a joined source or a blocked source —
 * kept so that its leave repeats the same request with the matching option.
 *
 * @module
 */

/** What a membership needs of its socket: to be told when it is closed, and to set options. */
export interface MembershipOwner {
  /** True once the socket was closed. */
  readonly closed: boolean;
  /**
   * Sets a socket option whose value is a structure.
   *
   * @param level The protocol level.
   * @param name The option.
   * @param structure The encoded value.
   * @param describe The option's name and the value to name in an error.
   */
  setStruct(
    level: number,
    name: number,
    structure: Uint8Array,
    describe: { label: string; value: unknown },
  ): void;
}

/**
 * One multicast membership of a socket (a joined group, a joined source, or a blocked source),
 * kept so that the matching leave uses the same request and the same call family.
 *
 * @example
 * ```ts ignore
 * import { UdpSocket } from "./socket.ts";
 * using socket = UdpSocket.open("IPv4");
 * const group = { family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) } as const;
 * const membership = socket.joinGroup(1, group, "(*, 239.1.2.3) on lo");
 * membership.leave();
 * membership.active; // false
 * ```
 */
export class Membership {
  readonly #socket: MembershipOwner;
  readonly #level: number;
  readonly #leave: number;
  readonly #leaveLabel: string;
  readonly #request: Uint8Array;
  readonly #describe: string;
  #active = true;

  /**
   * Internal: made by the join methods of `UdpSocket`.
   *
   * @param socket The socket it belongs to.
   * @param leave The level, option and option name that undo it, and its request.
   * @param describe What it is, for error messages.
   */
  constructor(
    socket: MembershipOwner,
    leave: { level: number; option: number; label: string; request: Uint8Array },
    describe: string,
  ) {
    this.#socket = socket;
    this.#level = leave.level;
    this.#leave = leave.option;
    this.#leaveLabel = leave.label;
    this.#request = leave.request;
    this.#describe = describe;
  }

  /** True until {@linkcode Membership.leave} (or the socket's close). */
  get active(): boolean {
    return this.#active && !this.#socket.closed;
  }

  /**
   * Undoes the join (or the block). Does nothing when already left or the socket is closed.
   *
   * @throws {SocketError} When the kernel refuses the leave.
   */
  leave(): void {
    if (!this.active) return;
    this.#active = false;
    this.#socket.setStruct(this.#level, this.#leave, this.#request, {
      label: this.#leaveLabel,
      value: this.#describe,
    });
  }
}
