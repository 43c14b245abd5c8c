/**
 * The lock of one lab name: an exclusive `flock` on `/run/mcast/labs/<name>.lock`, held while
 * `up` or `down` works on that lab, so that two of them never race. The kernel releases it when
 * its holder dies (a killed `up` leaves no stale lock); the file itself is removed by `down`,
 * and a holder checks after locking that the file it locked is still the one at the path.
 *
 * @example
 * ```ts ignore
 * import { LabLock } from "./lock.ts";
 * using lock = await LabLock.acquire("lab");
 * // … build or remove the lab …
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { ensureRecordsDir, RECORDS_DIR } from "./record.ts";

/** How long {@linkcode LabLock.acquire} waits for another mcast-lab, by default. */
export const LOCK_WAIT_MS = 30_000;

/**
 * A held lab lock; dispose it (or call {@linkcode LabLock.release}) to let others in.
 *
 * @example
 * ```ts ignore
 * import { LabLock } from "./lock.ts";
 * const lock = await LabLock.acquire("lab", 1_000);
 * lock.release();
 * ```
 */
export class LabLock implements Disposable {
  /** The lock file. */
  readonly path: string;
  #file: Deno.FsFile | null;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Lock a lab name, waiting (bounded) while another mcast-lab holds it.
   *
   * @param name The lab's name.
   * @param waitMs Give up after this many milliseconds.
   * @returns The held lock.
   * @throws {LabError} When another mcast-lab still holds it after `waitMs`.
   */
  static async acquire(name: string, waitMs: number = LOCK_WAIT_MS): Promise<LabLock> {
    const path = lockPath(name);
    const deadline = Date.now() + waitMs;
    await ensureRecordsDir();
    while (true) {
      const lock = LabLock.#try(path);
      if (lock !== null) return lock;
      if (Date.now() >= deadline) {
        throw new LabError(
          `Lab ${name} is busy: another mcast-lab is building or removing it (${path})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Whether a lab name is locked by someone right now (without waiting).
   *
   * @param name The lab's name.
   * @returns True when another process holds the lock.
   */
  static held(name: string): boolean {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(lockPath(name), { read: true });
    } catch {
      return false;
    }
    try {
      return !file.tryLockSync(true);
    } finally {
      file.close();
    }
  }

  /** Remove the lock file (while holding it: `down` does this last). */
  removeFile(): void {
    if (this.#file === null) return;
    try {
      Deno.removeSync(this.path);
    } catch { /* already gone */ }
  }

  /** Release the lock. Safe to call twice. */
  release(): void {
    this.#file?.close(); // closing releases the flock
    this.#file = null;
  }

  /** Same as {@linkcode LabLock.release}. */
  [Symbol.dispose](): void {
    this.release();
  }

  static #try(path: string): LabLock | null {
    const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
    try {
      if (!file.tryLockSync(true)) {
        file.close();
        return null;
      }
      // A `down` may have removed the file between our open and our lock: then what we hold
      // locks nothing anyone else can see; start again with the file at the path.
      let current: Deno.FileInfo | null = null;
      try {
        current = Deno.statSync(path);
      } catch { /* removed */ }
      if (current === null || current.ino !== file.statSync().ino) {
        file.close();
        return null;
      }
      return new LabLock(path, file);
    } catch (error) {
      file.close();
      throw error;
    }
  }
}

function lockPath(name: string): string {
  return `${RECORDS_DIR}/${name}.lock`;
}
