/**
 * Reading and writing small kernel files (/proc, /proc/sys) through libc `open`/`read`/`write`.
 *
 * Deno 2.9 refuses `/proc` paths to every permission short of `--allow-all` (its file API
 * treats them as privileged), while `--allow-ffi`, which the tools need anyway, reaches them
 * through libc. Errors mirror Deno's file API: `Deno.errors.NotFound` for ENOENT,
 * `Deno.errors.PermissionDenied` for EACCES/EPERM/EROFS, else a `SocketError`-style typed error.
 *
 * @module
 */

import { PLATFORM } from "./constants.ts";
import { errnoName, lastErrno, socketError } from "./errno.ts";
import { libc } from "./libc.ts";
import { nativeBuffer } from "./_buffer.ts";

const CHUNK = 65536;

function fail(operation: string, path: string): never {
  const errno = lastErrno();
  const name = errnoName(errno);
  if (errno === PLATFORM.errno.ENOENT || errno === PLATFORM.errno.ENOTDIR) {
    throw new Deno.errors.NotFound(`${operation} ${path}: ${name}`);
  }
  if (
    errno === PLATFORM.errno.EACCES || errno === PLATFORM.errno.EPERM ||
    errno === PLATFORM.errno.EROFS
  ) {
    throw new Deno.errors.PermissionDenied(`${operation} ${path}: ${name}`);
  }
  throw socketError(errno, operation, path);
}

function openPath(path: string, flags: number): number {
  const fd = libc().open(new TextEncoder().encode(`${path}\0`), flags | PLATFORM.O_CLOEXEC);
  if (fd < 0) fail("open", path);
  return fd;
}

/**
 * Reads a whole kernel text file.
 *
 * @example
 * ```ts ignore
 * import { readKernelFile } from "./procfs.ts";
 * const igmp = readKernelFile("/proc/net/igmp");
 * ```
 *
 * @param path The file.
 * @returns Its text.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {Deno.errors.PermissionDenied} When the kernel refuses.
 */
export function readKernelFile(path: string): string {
  const fd = openPath(path, PLATFORM.O_RDONLY);
  const chunk = nativeBuffer(CHUNK);
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const n = Number(libc().read(fd, chunk, BigInt(CHUNK)));
      if (n < 0) fail("read", path);
      if (n === 0) break;
      parts.push(chunk.slice(0, n));
    }
  } finally {
    libc().close(fd);
  }
  const bytes = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Writes text to an existing kernel file (a sysctl) in one `write`, truncating regular files.
 *
 * @example
 * ```ts ignore
 * import { writeKernelFile } from "./procfs.ts";
 * writeKernelFile("/proc/sys/net/ipv4/conf/lo/force_igmp_version", "2\n");
 * ```
 *
 * @param path The file (must exist: never created).
 * @param text What to write.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {Deno.errors.PermissionDenied} When the kernel refuses.
 */
export function writeKernelFile(path: string, text: string): void {
  const fd = openPath(path, PLATFORM.O_WRONLY | PLATFORM.O_TRUNC);
  try {
    const bytes = new TextEncoder().encode(text);
    const n = Number(libc().write(fd, bytes, BigInt(bytes.length)));
    if (n < 0) fail("write", path);
  } finally {
    libc().close(fd);
  }
}
