/**
 * The library's error classes: {@linkcode McastError} and its kinds, named after the step that
 * failed. They are defined on the ground floor (`ffi/errors.ts`), which raises them too, and
 * re-exported here so that library code and `mod.ts` import errors from one place.
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

export * from "../ffi/errors.ts";
