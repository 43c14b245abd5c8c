// Private helper of the lab peers (`_blocked_publication.ts`, `../ffi/_blocked_socket.ts`,
// `../ffi/_interfaces_peer.ts`, `../ffi/_procfs_peer.ts`): one JSON line per step on stdout, and
// errors described as plain data, since the test reads them from another process.

import { McastError, SocketError, WouldBlockError } from "../../lib/errors.ts";

/** An error as the test can compare it: class, message and the typed fields. */
export interface ErrorDescription {
  /** The constructor name (`SocketError`), or `typeof` for a non-object thrown value. */
  kind: string;
  /** `error.name`, or the thrown value itself when it is not an Error. */
  name: string;
  message: string;
  isMcastError: boolean;
  isSocketError: boolean;
  isWouldBlock: boolean;
  syscall?: string;
  errno?: number;
  errnoName?: string;
  value?: unknown;
}

/**
 * Describes a thrown value.
 *
 * @param error The value.
 * @returns The description.
 */
export function describeError(error: unknown): ErrorDescription {
  const base = {
    isMcastError: error instanceof McastError,
    isSocketError: error instanceof SocketError,
    isWouldBlock: error instanceof WouldBlockError,
  };
  if (!(error instanceof Error)) {
    return { kind: typeof error, name: String(error), message: "", ...base };
  }
  const description: ErrorDescription = {
    kind: error.constructor.name,
    name: error.name,
    message: error.message,
    ...base,
  };
  if (error instanceof SocketError) {
    Object.assign(description, {
      syscall: error.syscall,
      errno: error.errno,
      errnoName: error.errnoName,
      value: error.value,
    });
  }
  return description;
}

/**
 * Runs `fn` and describes what it threw, or returns null when it did not throw.
 *
 * @param fn A sync or async function.
 * @returns The description, or null.
 */
export async function thrownBy(fn: () => unknown): Promise<ErrorDescription | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    return describeError(error);
  }
}

/**
 * Prints one step line: `{"step": name, ...fields}`.
 *
 * @param step The step name.
 * @param fields What to report (JSON-serialisable).
 */
export function emit(step: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ step, ...fields }));
}
