/**
 * The one error module: every failure the library (and the ffi floor below it) raises is one of
 * these classes. It lives on the ground floor so that ffi/ and lib/ share it; `lib/errors.ts`
 * re-exports it for the library and `mod.ts`.
 *
 * Errors are named after the step that failed. Messages are in sentence case, without a final
 * period, with a colon before the details. User input errors are {@linkcode InvalidValueError}
 * (the tools exit 2 on them); everything the OS refused is a {@linkcode SocketError} (exit 1).
 *
 * @module
 */

/**
 * Base class of every error raised by this library.
 *
 * @example Catch anything the library raises
 * ```ts
 * import { McastError } from "./errors.ts";
 * try {
 *   throw new McastError("Something failed: details");
 * } catch (error) {
 *   if (!(error instanceof McastError)) throw error;
 * }
 * ```
 */
export class McastError extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The message, sentence case, no final period.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A value given by the caller (an argument, an option, a config field) is not acceptable.
 * The tools map it to exit code 2.
 *
 * @example
 * ```ts
 * import { InvalidValueError } from "./errors.ts";
 * const error = new InvalidValueError("ttl", 300, "an integer from 1 to 255");
 * error.message; // "Invalid ttl: 300 (expected an integer from 1 to 255)"
 * ```
 */
export class InvalidValueError extends McastError {
  /** What was wrong, for example `"ttl"` or `"group"`. */
  readonly what: string;
  /** The value that was refused. */
  readonly value: unknown;
  /** What would have been accepted. */
  readonly expected: string;

  /**
   * Constructs a new instance.
   *
   * @param what The name of the argument or field.
   * @param value The refused value.
   * @param expected What would have been accepted.
   * @param options The cause, if any.
   */
  constructor(what: string, value: unknown, expected: string, options?: ErrorOptions) {
    super(`Invalid ${what}: ${formatValue(value)} (expected ${expected})`, options);
    this.what = what;
    this.value = value;
    this.expected = expected;
  }
}

/**
 * A network interface given by name, index or address does not exist on this host.
 *
 * @example
 * ```ts
 * import { InterfaceNotFoundError, InvalidValueError } from "./errors.ts";
 * const error = new InterfaceNotFoundError("eth9");
 * error instanceof InvalidValueError; // true
 * ```
 */
export class InterfaceNotFoundError extends InvalidValueError {
  /**
   * Constructs a new instance.
   *
   * @param value The interface name, index or address that matched nothing.
   */
  constructor(value: string | number) {
    super("interface", value, "the name, index or local address of an interface on this host");
  }
}

/**
 * Two values that must agree do not, for example an IPv4 group with an IPv6 source.
 *
 * @example
 * ```ts
 * import { MismatchError } from "./errors.ts";
 * const error = new MismatchError("address family of source", "IPv4", "IPv6");
 * error.message; // "Mismatched address family of source: expected IPv4, got IPv6"
 * ```
 */
export class MismatchError extends InvalidValueError {
  /** The value that was required. */
  readonly actual: unknown;

  /**
   * Constructs a new instance.
   *
   * @param what What had to match.
   * @param expected What it had to be.
   * @param actual What it was.
   */
  constructor(what: string, expected: unknown, actual: unknown) {
    super(what, actual, plainValue(expected));
    this.message = `Mismatched ${what}: expected ${plainValue(expected)}, got ${
      plainValue(actual)
    }`;
    this.actual = actual;
  }
}

/**
 * A system call failed. Carries the call, the errno number and name, and the value that the call
 * was given (an address, an option, an interface), so the message says what was refused.
 *
 * @example
 * ```ts
 * import { SocketError } from "./errors.ts";
 * const error = new SocketError("bind", 99, "EADDRNOTAVAIL", "10.9.9.9:5000");
 * error.message; // "Failed to bind: EADDRNOTAVAIL (errno 99): 10.9.9.9:5000"
 * ```
 */
export class SocketError extends McastError {
  /** The system call, for example `"setsockopt(IP_MULTICAST_TTL)"`. */
  readonly syscall: string;
  /** The errno number. */
  readonly errno: number;
  /** The errno name, for example `"EADDRNOTAVAIL"`. */
  readonly errnoName: string;
  /** The value the call was given, when one is worth naming. */
  readonly value: unknown;

  /**
   * Constructs a new instance.
   *
   * @param syscall The failed call.
   * @param errno The errno number.
   * @param errnoName The errno name.
   * @param value The value the call was given.
   * @param options The cause, if any.
   */
  constructor(
    syscall: string,
    errno: number,
    errnoName: string,
    value?: unknown,
    options?: ErrorOptions,
  ) {
    const detail = value === undefined
      ? ""
      : `: ${typeof value === "string" ? value : formatValue(value)}`;
    const errnoText = errnoName === `errno ${errno}` ? errnoName : `${errnoName} (errno ${errno})`;
    super(`Failed to ${syscall}: ${errnoText}${detail}`, options);
    this.syscall = syscall;
    this.errno = errno;
    this.errnoName = errnoName;
    this.value = value;
  }
}

/**
 * A non-blocking send found the socket buffer full (EAGAIN / EWOULDBLOCK). Nothing was sent;
 * the caller decides whether to retry, wait (see `AsyncPublication`) or drop.
 *
 * @example
 * ```ts
 * import { SocketError, WouldBlockError } from "./errors.ts";
 * const error = new WouldBlockError("send", 11, "EAGAIN");
 * error instanceof SocketError; // true
 * ```
 */
export class WouldBlockError extends SocketError {}

/**
 * The operation needs a privilege (root, CAP_NET_ADMIN) that this process does not have.
 *
 * @example
 * ```ts
 * import { PermissionError } from "./errors.ts";
 * const error = new PermissionError("write /proc/sys/net/ipv4/conf/lo/force_igmp_version");
 * error.message; // "Permission needed: write /proc/sys/net/ipv4/conf/lo/force_igmp_version"
 * ```
 */
export class PermissionError extends McastError {
  /** What was attempted. */
  readonly operation: string;

  /**
   * Constructs a new instance.
   *
   * @param operation What was attempted.
   * @param options The cause, if any.
   */
  constructor(operation: string, options?: ErrorOptions) {
    super(`Permission needed: ${operation}`, options);
    this.operation = operation;
  }
}

/**
 * A handle (publication, subscription, writer) was used after it was closed.
 *
 * @example
 * ```ts
 * import { ClosedError } from "./errors.ts";
 * new ClosedError("publication 3").message; // "Already closed: publication 3"
 * ```
 */
export class ClosedError extends McastError {
  /**
   * Constructs a new instance.
   *
   * @param what The handle that was closed.
   */
  constructor(what: string) {
    super(`Already closed: ${what}`);
  }
}

// Strings as they are, for values that are names rather than input (families, kinds).
function plainValue(value: unknown): string {
  return typeof value === "string" ? value : formatValue(value);
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}
