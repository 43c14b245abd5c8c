// Shared by the tools: how a run ends on a signal, and sleeping until a deadline that a signal
// cuts short. One signal set for every tool: Ctrl-C (SIGINT), SIGTERM and SIGHUP (a closed
// terminal) all end a run the same way, with its summary.

/** The signals that end a run: each tool then prints its summary and exits normally. */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** An abort signal that fires on the first stop signal; dispose it to stop listening. */
export interface SignalAbort extends Disposable {
  /** Fires on SIGINT, SIGTERM or SIGHUP (or `abort()`). */
  readonly signal: AbortSignal;
  /** Ends the run now, as a signal would. */
  abort(): void;
}

/**
 * Listens for {@linkcode STOP_SIGNALS} until disposed; the first one calls `beforeAbort` (for
 * work that must happen at once, such as leaving a group before a forced IGMP version is put
 * back) and then fires the abort signal. Signals this OS lacks are skipped.
 */
export function abortOnSignals(beforeAbort?: () => void): SignalAbort {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) return;
    try {
      beforeAbort?.();
    } finally {
      controller.abort();
    }
  };
  const listening: Deno.Signal[] = [];
  for (const signal of STOP_SIGNALS) {
    try {
      Deno.addSignalListener(signal, onSignal);
      listening.push(signal);
    } catch {
      // Not on this OS.
    }
  }
  return {
    signal: controller.signal,
    abort: onSignal,
    [Symbol.dispose]() {
      for (const signal of listening.splice(0)) {
        try {
          Deno.removeSignalListener(signal, onSignal);
        } catch {
          // Already gone.
        }
      }
    },
  };
}

/**
 * Resolves when `performance.now()` reaches `deadlineMs`, or at once when `signal` fires (or has
 * fired).
 */
export function sleepUntil(deadlineMs: number, signal?: AbortSignal): Promise<void> {
  const ms = deadlineMs - performance.now();
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
