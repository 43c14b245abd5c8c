// Private: what the packet and raw sockets share — one owned file descriptor (closed once and
// error-checked, refused after close, closed by a FinalizationRegistry when the socket object
// was forgotten), a non-blocking recvfrom, a wait for readability, and the set-up guard that
// closes a socket whose set-up failed. (The UDP seam, ffi/socket.ts, keeps its own.)

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check, lastErrno, socketError } from "./errno.ts";
import { ClosedError } from "./errors.ts";
import { libc } from "./libc.ts";
import { waitForFd } from "./poll.ts";
import { nativeBuffer } from "./_buffer.ts";

/** What the finalizer needs: the descriptor alone (never the socket, which it would keep alive). */
interface Held {
  fd: number;
}

const forgotten = new FinalizationRegistry<Held>((held) => {
  if (held.fd >= 0) libc().close(held.fd);
});

/** A socket that owns one descriptor and receives with `recvfrom`. */
export abstract class FdSocket implements Disposable {
  /** What the socket is, in error messages. */
  readonly label: string;
  readonly #held: Held;
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
    this.#held = { fd };
    forgotten.register(this, this.#held, this.#held);
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
    return this.#held.fd;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#held.fd < 0;
  }

  /**
   * The descriptor of an open socket; a closed one is a typed error, not a call with fd -1.
   *
   * @returns The descriptor.
   * @throws {ClosedError} After close.
   */
  protected live(): number {
    const fd = this.#held.fd;
    if (fd < 0) throw new ClosedError(`${this.#kind} ${this.label}`);
    return fd;
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
    const fd = this.#held.fd;
    if (fd < 0) return;
    this.#held.fd = -1;
    forgotten.unregister(this.#held);
    check(libc().close(fd), "close", fd);
  }

  /** Same as {@linkcode FdSocket.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
