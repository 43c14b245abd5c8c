/**
 * The library's error classes: {@linkcode McastError} and its kinds, named after the step that
 * failed. They are defined on the ground floor (`ffi/errors.ts`), which raises them too, and
 * re-exported here so that library code and `mod.ts` import errors from one place. The one kind
 * that only the library raises, {@linkcode LabError}, is defined here.
 *
 * @example
 * ```ts
 * import { InvalidValueError } from "./errors.ts";
 * new InvalidValueError("ttl", 300, "an integer from 1 to 255").message;
 * // "Invalid ttl: 300 (expected an integer from 1 to 255)"
 * ```
 *
 * @module
 */

import { McastError } from "../ffi/errors.ts";

export * from "../ffi/errors.ts";

/**
 * A step of building, running or removing a network-namespace lab failed: an `ip` call, a
 * command inside a namespace, a wait for a link or a daemon. The tools map it to exit code 1.
 *
 * @example
 * ```ts
 * import { LabError, McastError } from "./errors.ts";
 * const error = new LabError("Command failed: ip netns add mlab-lab-r1: exit code 1: File exists");
 * error instanceof McastError; // true
 * ```
 */
export class LabError extends McastError {}
