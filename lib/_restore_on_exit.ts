// Putting forced versions back on every way out: one set of SIGINT/SIGTERM/SIGHUP listeners and
// one unload listener for every pending force of the process, removed when none is left. A
// force registered with `exitOnSignal` makes the signal end the process (128 + its number) once
// everything is restored; otherwise the caller's own listener decides.

/** What is put back: a pending force. */
export interface Restorable {
  /** Puts the value back (idempotent, never throws). */
  restore(): void;
}

const SIGNALS: ReadonlyArray<readonly [Deno.Signal, number]> = [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
];

/** Pending instances → whether a signal should end the process after restoring them. */
const active = new Map<Restorable, boolean>();
let listeners: { signals: Array<[Deno.Signal, () => void]>; unload: () => void } | null = null;

/** Starts putting `instance` back on a signal or at unload. */
export function register(instance: Restorable, exitOnSignal: boolean): void {
  active.set(instance, exitOnSignal);
  if (listeners !== null) return;
  const signals: Array<[Deno.Signal, () => void]> = [];
  for (const [signal, number] of SIGNALS) {
    const handler = () => onSignal(number);
    try {
      Deno.addSignalListener(signal, handler);
      signals.push([signal, handler]);
    } catch {
      // Not supported on this OS: the unload listener still restores on a normal exit.
    }
  }
  const unload = () => restoreAll();
  globalThis.addEventListener("unload", unload);
  listeners = { signals, unload };
}

/** Stops it (it was restored). */
export function unregister(instance: Restorable): void {
  active.delete(instance);
  if (active.size > 0 || listeners === null) return;
  for (const [signal, handler] of listeners.signals) {
    try {
      Deno.removeSignalListener(signal, handler);
    } catch {
      // Already gone.
    }
  }
  globalThis.removeEventListener("unload", listeners.unload);
  listeners = null;
}

function restoreAll(): boolean {
  let exit = false;
  for (const [instance, exitOnSignal] of [...active]) {
    if (exitOnSignal) exit = true;
    instance.restore();
  }
  return exit;
}

function onSignal(number: number): void {
  if (restoreAll()) Deno.exit(128 + number);
}
