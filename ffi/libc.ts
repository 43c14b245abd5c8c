/**
 * The one table of native symbols: every libc function this project calls, with each parameter's
 * C type, opened lazily from the C library of the running OS.
 *
 * Only `poll` and `clock_nanosleep` are `nonblocking` (they wait, on a worker thread); every
 * other call is synchronous so that errno can be read on the same thread right after it.
 * `clock_nanosleep_blocking` is the same C function called on the JS thread (a precise sleep that
 * blocks the event loop, for the pacer's short waits).
 *
 * @module
 */

import { PLATFORM } from "./constants.ts";

/** The C library file and the errno accessor name per OS. */
const LIBRARY_NAMES = {
  linux: { path: "libc.so.6", errnoLocation: "__errno_location" },
  darwin: { path: "libSystem.B.dylib", errnoLocation: "__error" },
} as const;

function libraryNames(): { path: string; errnoLocation: string } {
  const names = LIBRARY_NAMES[PLATFORM.os as keyof typeof LIBRARY_NAMES];
  if (names === undefined) throw new Error(`Unsupported operating system: ${PLATFORM.os}`);
  return names;
}

const SYMBOLS = {
  /** int socket(int domain, int type, int protocol) */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** int open(const char *path, int flags) — the two-argument form: never with O_CREAT */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count) */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** ssize_t write(int fd, const void *buf, size_t count) */
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
  /** int bind(int fd, const struct sockaddr *addr, socklen_t len) */
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int connect(int fd, const struct sockaddr *addr, socklen_t len) */
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int setsockopt(int fd, int level, int name, const void *value, socklen_t len) */
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  /** int getsockopt(int fd, int level, int name, void *value, socklen_t *len) */
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  /** int getsockname(int fd, struct sockaddr *addr, socklen_t *len) */
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** int fcntl(int fd, int cmd, int arg) — the int-argument form */
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** ssize_t send(int fd, const void *buf, size_t len, int flags) */
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen) */
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  /** int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags) */
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  /** ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen) */
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  /** ssize_t recvmsg(int fd, struct msghdr *msg, int flags) */
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  /** int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout) */
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  /** int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms) — waits, so off the JS thread */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  /** unsigned int if_nametoindex(const char *name) */
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  /** char *if_indextoname(unsigned int index, char *name) */
  if_indextoname: { parameters: ["u32", "buffer"], result: "pointer" },
  /** int getifaddrs(struct ifaddrs **list) */
  getifaddrs: { parameters: ["buffer"], result: "i32" },
  /** void freeifaddrs(struct ifaddrs *list) */
  freeifaddrs: { parameters: ["pointer"], result: "void" },
  /** int getrlimit(int resource, struct rlimit *limit) */
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  /** int setrlimit(int resource, const struct rlimit *limit) */
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  /** int clock_gettime(clockid_t clock, struct timespec *now) */
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** int clock_nanosleep(clockid_t clock, int flags, const struct timespec *t, struct timespec *rem) */
  clock_nanosleep: {
    parameters: ["i32", "i32", "buffer", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  /** The same clock_nanosleep, synchronous: sleeps on the calling (JS) thread */
  clock_nanosleep_blocking: {
    name: "clock_nanosleep",
    parameters: ["i32", "i32", "buffer", "pointer"],
    result: "i32",
  },
  /** int prctl(int option, unsigned long arg2, ...) — Linux only (timer slack); null elsewhere */
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32", optional: true },
  /** int *__errno_location(void) (Linux) / int *__error(void) (macOS) */
  errno_location: { name: "__errno_location", parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The symbols of the C library, as Deno exposes them. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let opened: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/**
 * Opens the C library on first use (so importing this module needs no `--allow-ffi`) and returns
 * its symbols. Wrappers call it once and keep the symbols they need.
 *
 * @example
 * ```ts ignore
 * import { libc } from "./libc.ts";
 * const fd = libc().socket(2, 2, 0);
 * ```
 *
 * @returns The symbol table.
 */
export function libc(): LibcSymbols {
  if (opened === undefined) {
    const names = libraryNames();
    const symbols = {
      ...SYMBOLS,
      errno_location: { ...SYMBOLS.errno_location, name: names.errnoLocation },
    };
    opened = Deno.dlopen(names.path, symbols) as Deno.DynamicLibrary<typeof SYMBOLS>;
  }
  return opened.symbols;
}
