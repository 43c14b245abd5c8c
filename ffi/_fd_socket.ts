// Private: what the packet and raw sockets share — their descriptor's owner (`_owned_fd.ts`, the
// one the UDP seam in socket.ts holds too), a non-blocking recvfrom, a wait for readability, and
// the set-up guard that closes a socket whose set-up failed.

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { lastErrno, socketError } from "./errno.ts";
import { libc } from "./libc.ts";
import { OwnedFd } from "./_owned_fd.ts";
import { waitForFd } from "./poll.ts";
import { nativeBuffer } from "./_buffer.ts";

/** A socket that owns one descriptor and receives with `recvfrom`. */
export abstract class FdSocket implements Disposable {
  /** What the socket is, in error messages. */
  readonly label: string;
  readonly #owned: OwnedFd;
  readonly #kind: string;
  readonly #addressLength = nativeBuffer(4);

  /**
   * Takes ownership of `fd`.
   *
   * @param fd The descriptor.
   * @param kind The kind of socket, for the error after close (`"packet socket"`).
   * @param label What the socket is.
   */
  protected constructor(fd: number, kind: string, label: string) {
    this.label = label;
    this.#kind = kind;
    this.#owned = new OwnedFd(fd);
  }

  /**
   * Runs the set-up steps of a fresh socket; closes it when one throws.
   *
   * @param socket The socket.
   * @param steps The set-up.
   * @returns The socket.
   */
  protected static settle<T extends FdSocket>(socket: T, steps: () => void): T {
    try {
      steps();
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /** The file descriptor; -1 once closed. */
  get fd(): number {
    return this.#owned.fd;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#owned.closed;
  }

  /**
   * The descriptor of an open socket; a closed one is a typed error, not a call with fd -1.
   *
   * @returns The descriptor.
   * @throws {ClosedError} After close.
   */
  protected live(): number {
    return this.#owned.live(this.#kind, this.label);
  }

  /**
   * One `recvfrom(MSG_DONTWAIT)` into `buffer`, the sender's address into `address`.
   *
   * @param buffer Where the datagram goes.
   * @param address Where the sender's address goes (its length is the room offered).
   * @returns The bytes received (cut to the buffer), or null when nothing is queued.
   * @throws {SocketError} When the receive fails for another reason than an empty queue.
   */
  protected receiveFrom(buffer: Uint8Array, address: Uint8Array): number | null {
    const fd = this.live();
    new DataView(this.#addressLength.buffer).setUint32(0, address.length, LITTLE_ENDIAN);
    const n = Number(
      libc().recvfrom(
        fd,
        buffer,
        BigInt(buffer.length),
        PLATFORM.MSG_DONTWAIT,
        address,
        this.#addressLength,
      ),
    );
    if (n >= 0) return Math.min(n, buffer.length);
    const errno = lastErrno();
    if (errno === PLATFORM.errno.EAGAIN || errno === PLATFORM.errno.EINTR) return null;
    throw socketError(errno, "recvfrom", this.label);
  }

  /**
   * Waits until something is queued or `timeoutMs` (rounded up) passes, off the JS thread.
   *
   * @param timeoutMs Milliseconds.
   * @returns True when readable.
   */
  async wait(timeoutMs: number): Promise<boolean> {
    const ms = Math.max(0, Math.ceil(timeoutMs));
    return ((await waitForFd(this.live(), PLATFORM.POLLIN, ms)) & PLATFORM.POLLIN) !== 0;
  }

  /**
   * Closes the socket. Safe to call twice.
   *
   * @throws {SocketError} When `close` fails (the descriptor is gone either way).
   */
  close(): void {
    this.#owned.close();
  }

  /** Same as {@linkcode FdSocket.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
