// Live terminal views shared by the tools: redraw in place at most 4 times a second with the
// cursor hidden, writing only the lines that changed and nothing when the frame is the same
// (_frame_writer.ts), redraw on resize, restore the cursor on every exit path; plain status
// lines when stdout is not a terminal. Plus small text widgets (sparkline, bar, units).

import pc from "picocolors";
import { colorWanted } from "./_cli.ts";
import { FrameWriter, type TerminalSize } from "./_frame_writer.ts";

/** Colours that honour NO_COLOR and non-terminal output (picocolors decides once). */
export const colors: ReturnType<typeof pc.createColors> = pc.createColors(colorWanted());

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const encoder = new TextEncoder();

function writeAll(text: string): void {
  const bytes = encoder.encode(text);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

// The terminal's size, with a size even when the pseudo-terminal reports 0 rows or columns
// (tmux/script before a resize), where a frame would otherwise be clipped away.
function terminalSize(): TerminalSize {
  try {
    const { columns, rows } = Deno.consoleSize();
    return { columns: columns || 80, rows: rows || 24 };
  } catch {
    return { columns: 80, rows: 24 };
  }
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
  readonly #frames: FrameWriter;
  readonly #intervalMs: number;
  #size: TerminalSize = terminalSize();
  #timer: ReturnType<typeof setInterval> | undefined;
  #onResize = () => {
    this.#size = terminalSize();
    this.draw();
  };
  #onUnload = () => this.stop();

  constructor(render: () => string, options: LiveViewOptions = {}) {
    this.#render = render;
    this.#frames = new FrameWriter(writeAll, () => this.#size);
    this.#intervalMs = 1000 / Math.min(4, Math.max(0.2, options.fps ?? 4));
  }

  /** Starts redrawing. */
  start(): void {
    if (this.#timer !== undefined) return;
    writeAll(HIDE_CURSOR);
    this.draw();
    this.#timer = setInterval(() => this.draw(), this.#intervalMs);
    try {
      Deno.addSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // not on this OS
    }
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** Draws once now (writes only what changed since the last frame). */
  draw(): void {
    this.#frames.update(this.#render());
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
    this.#frames.done();
    writeAll(SHOW_CURSOR);
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
