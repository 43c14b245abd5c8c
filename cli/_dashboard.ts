// Live terminal views shared by the tools: redraw in place at most 4 times a second with the
// cursor hidden (log-update), redraw on resize, restore the cursor on every exit path; plain
// status lines when stdout is not a terminal. Plus small text widgets (sparkline, bar, units).

import process from "node:process";
import { createLogUpdate } from "log-update";
import pc from "picocolors";
import { colorWanted } from "./_cli.ts";

/** Colours that honour NO_COLOR and non-terminal output (picocolors decides once). */
export const colors: ReturnType<typeof pc.createColors> = pc.createColors(colorWanted());

// stdout as log-update sees it, with a size even when the pseudo-terminal reports 0 rows or
// columns (tmux/script before a resize), where log-update would otherwise clip every frame away.
function terminalStream(): NodeJS.WritableStream {
  const stdout = process.stdout;
  const view = {
    isTTY: stdout.isTTY,
    write: (chunk: string) => stdout.write(chunk),
    get columns(): number {
      return stdout.columns || 80;
    },
    get rows(): number {
      return stdout.rows || 24;
    },
  };
  return view as unknown as NodeJS.WritableStream;
}

/** Options of {@linkcode LiveView}. */
export interface LiveViewOptions {
  /**
   * Redraws per second, at most 4.
   *
   * @default {4}
   */
  fps?: number;
}

/** A dashboard that redraws `render()` in place on a terminal. */
export class LiveView {
  readonly #render: () => string;
  readonly #log: ReturnType<typeof createLogUpdate>;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #onResize = () => this.draw();
  #onUnload = () => this.stop();

  constructor(render: () => string, options: LiveViewOptions = {}) {
    this.#render = render;
    this.#log = createLogUpdate(terminalStream(), { showCursor: false });
    this.#intervalMs = 1000 / Math.min(4, Math.max(0.2, options.fps ?? 4));
  }

  /** Starts redrawing. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.draw();
    this.#timer = setInterval(() => this.draw(), this.#intervalMs);
    try {
      Deno.addSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // not on this OS
    }
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** Draws once now. */
  draw(): void {
    this.#log(this.#render());
  }

  /** Stops redrawing, leaves the last frame on screen and shows the cursor again. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      Deno.removeSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // not on this OS
    }
    globalThis.removeEventListener("unload", this.#onUnload);
    this.draw();
    this.#log.done();
  }
}

/** Prints `line()` every `everyMs` to stderr-free stdout, for non-terminal runs. */
export class StatusLines {
  #timer: ReturnType<typeof setInterval> | undefined;
  constructor(readonly line: () => string, readonly everyMs = 5000) {}

  start(): void {
    this.#timer ??= setInterval(() => console.log(this.line()), this.everyMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const SPARKS = "▁▂▃▄▅▆▇█";

/** A sparkline of the values, scaled to their maximum. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return SPARKS[0].repeat(values.length);
  return values.map((v) => SPARKS[Math.min(7, Math.floor((v / max) * 7.999))]).join("");
}

/** A progress bar of `width` cells for a fraction 0..1. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `${"█".repeat(full)}${"░".repeat(width - full)}`;
}

/** Bits per second with a unit: `950 bps`, `1.20 Mbps`. */
export function formatBitrate(bitsPerSecond: number): string {
  const units = ["bps", "kbps", "Mbps", "Gbps"];
  let value = bitsPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} ${units[0]}` : `${value.toFixed(2)} ${units[unit]}`;
}

/** Seconds as `1m05s` / `42.0s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return m < 60
    ? `${m}m${String(s).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
