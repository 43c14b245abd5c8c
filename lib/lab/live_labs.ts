/**
 * The throw-away labs alive in this process, and the safety net that deletes their namespaces
 * when the process is ended by SIGINT, SIGTERM or SIGHUP, or unloads, while any is alive.
 *
 * @example
 * ```ts ignore
 * import { liveLabs } from "./live_labs.ts";
 * console.log(liveLabs().map((lab) => lab.id));
 * ```
 *
 * @module
 */

/** What the safety net needs of a lab: a `Lab` (`lab.ts`) fits. */
export interface LiveLab {
  /** The lab's id (the prefix and pid part of its namespaces' names). */
  readonly id: string;
  /** Its namespaces, by name. */
  readonly namespaces: readonly { readonly name: string }[];
  /** Tears it down. */
  close(): Promise<void>;
  /** Tears it down synchronously (from an unload or signal handler). */
  closeSync(): void;
}

const labs = new Set<LiveLab>();
const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const signalHandlers = new Map<Deno.Signal, () => void>();

function onUnload(): void {
  for (const lab of [...labs]) lab.closeSync();
}

/**
 * Register a new lab; the first one installs the signal and unload handlers.
 *
 * @example
 * ```ts ignore
 * import { registerLab } from "./live_labs.ts";
 * registerLab(lab); // Lab.create() does this
 * ```
 *
 * @param lab The lab.
 */
export function registerLab(lab: LiveLab): void {
  if (labs.size === 0) {
    globalThis.addEventListener("unload", onUnload);
    for (const signal of SIGNALS) {
      const handler = () => {
        onUnload();
        Deno.exit(signal === "SIGINT" ? 130 : 143);
      };
      try {
        Deno.addSignalListener(signal, handler);
        signalHandlers.set(signal, handler);
      } catch { /* not supported here */ }
    }
  }
  labs.add(lab);
}

/**
 * Forget a lab (closed, or closed synchronously); the last one removes the handlers.
 *
 * @example
 * ```ts ignore
 * import { unregisterLab } from "./live_labs.ts";
 * unregisterLab(lab); // Lab.close() does this
 * ```
 *
 * @param lab The lab.
 */
export function unregisterLab(lab: LiveLab): void {
  labs.delete(lab);
  if (labs.size === 0) {
    globalThis.removeEventListener("unload", onUnload);
    for (const [signal, handler] of signalHandlers) Deno.removeSignalListener(signal, handler);
    signalHandlers.clear();
  }
}

/**
 * The labs alive now.
 *
 * @example
 * ```ts
 * import { liveLabs } from "./live_labs.ts";
 * liveLabs().length; // 0
 * ```
 *
 * @returns A snapshot, in creation order.
 */
export function liveLabs(): LiveLab[] {
  return [...labs];
}

/**
 * The namespace names of the labs alive now (never stale, whatever their prefix).
 *
 * @example
 * ```ts
 * import { liveNamespaceNames } from "./live_labs.ts";
 * liveNamespaceNames().size; // 0
 * ```
 *
 * @returns The names.
 */
export function liveNamespaceNames(): Set<string> {
  return new Set([...labs].flatMap((lab) => lab.namespaces.map((ns) => ns.name)));
}
