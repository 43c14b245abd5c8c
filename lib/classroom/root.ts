/**
 * The one privilege check of `mcast-lab`: it creates network namespaces, veth links and bridges
 * and starts daemons inside them, which takes root — and Linux.
 *
 * @example
 * ```ts ignore
 * import { requireRoot } from "./root.ts";
 * requireRoot(); // throws PermissionError unless uid 0
 * ```
 *
 * @module
 */

import { LabError, PermissionError } from "../errors.ts";

/**
 * Throw unless this process runs as root, on Linux.
 *
 * @example
 * ```ts ignore
 * import { requireRoot } from "./root.ts";
 * requireRoot();
 * ```
 *
 * @throws {LabError} On another system than Linux.
 * @throws {PermissionError} Saying why root is needed.
 */
export function requireRoot(): void {
  if (Deno.build.os !== "linux") {
    throw new LabError(`mcast-lab needs Linux network namespaces (this is ${Deno.build.os})`);
  }
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch { /* no --allow-sys=uid: cannot tell, so not root */ }
  if (uid !== 0) {
    throw new PermissionError(
      `root (mcast-lab creates network namespaces, veth links and bridges and keeps its records ` +
        `in /run/mcast/labs; run it with sudo)`,
    );
  }
}
