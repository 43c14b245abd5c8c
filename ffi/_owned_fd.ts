// Private: the one owner of a socket's file descriptor, which every socket class of this floor
// holds (the UDP seam in socket.ts, the packet and raw sockets through _fd_socket.ts). One
// owner, one close: `close()` is idempotent and error-checked, `release()` hands the descriptor
// to the caller instead, a closed descriptor is a typed error rather than a call with fd -1, and
// a FinalizationRegistry closes the descriptor of an owner that was forgotten without a close.

import { PLATFORM } from "./constants.ts";
import { check, socketError } from "./errno.ts";
import { ClosedError } from "./errors.ts";
import { libc } from "./libc.ts";

/** What the finalizer needs: the descriptor alone (never the owner, which it would keep alive). */
interface Held {
  fd: number;
}

const forgotten = new FinalizationRegistry<Held>((held) => {
  if (held.fd >= 0) libc().close(held.fd);
});

/** One file descriptor and its single close. */
export class OwnedFd {
  readonly #held: Held;

  /**
   * Takes ownership of `fd`.
   *
   * @param fd The descriptor.
   */
  constructor(fd: number) {
    this.#held = { fd };
    forgotten.register(this, this.#held, this.#held);
  }

  /** The descriptor; -1 once closed or released. */
  get fd(): number {
    return this.#held.fd;
  }

  /** True once closed or released. */
  get closed(): boolean {
    return this.#held.fd < 0;
  }

  /**
   * The descriptor, for a call that needs an open one. The error's text is built only when
   * thrown (the hot paths call this per batch).
   *
   * @param kind What the socket is (`"socket"`, `"packet socket"`).
   * @param label Which one, in error messages.
   * @returns The descriptor.
   * @throws {ClosedError} After close or release.
   */
  live(kind: string, label: string): number {
    const fd = this.#held.fd;
    if (fd < 0) throw new ClosedError(`${kind} ${label}`);
    return fd;
  }

  /**
   * Closes the descriptor. Safe to call twice (the second call does nothing).
   *
   * @throws {SocketError} When `close` fails (the descriptor is gone either way).
   */
  close(): void {
    const fd = this.#held.fd;
    if (fd < 0) return;
    this.#forget();
    check(libc().close(fd), "close", fd);
  }

  /**
   * Gives the descriptor to the caller, who must close it.
   *
   * @param label Which socket, in the error message.
   * @returns The descriptor.
   * @throws {SocketError} EBADF when already closed or released.
   */
  release(label: string): number {
    const fd = this.#held.fd;
    if (fd < 0) throw socketError(PLATFORM.errno.EBADF, "release", label);
    this.#forget();
    return fd;
  }

  #forget(): void {
    this.#held.fd = -1;
    forgotten.unregister(this.#held);
  }
}
