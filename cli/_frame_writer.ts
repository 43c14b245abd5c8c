// A frame of text kept in place at the bottom of a terminal: each update rewrites only the lines
// that changed (cursor moves, erase-line), writes nothing when the frame is the same, and keeps the
// frame within the terminal's height (the top lines give way, as a scrolling terminal would).
// Widths are counted cheaply: escape sequences take no cell, every other code point one (the
// views draw with box, block and Latin characters only); a line wider than the terminal takes
// as many rows as the terminal's own wrapping gives it.

const ESC = "\x1b[";
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
const SYNC_ON = `${ESC}?2026h`;
const SYNC_OFF = `${ESC}?2026l`;

/** Cells a line takes on a terminal (escape sequences none, other code points one each). */
export function visibleWidth(line: string): number {
  let width = 0;
  for (const _ of line.includes("\x1b") ? line.replace(ANSI, "") : line) width++;
  return width;
}

/** The terminal's size: columns and rows. */
export interface TerminalSize {
  columns: number;
  rows: number;
}

/** Writes frames in place; see the file's head. */
export class FrameWriter {
  readonly #write: (text: string) => void;
  readonly #size: () => TerminalSize;
  /** The lines on screen, and the rows each one takes (at `#columns`). */
  #lines: string[] = [];
  #rows: number[] = [];
  #columns = 0;

  /**
   * @param write Writes text to the terminal, all of it.
   * @param size The terminal's current size.
   */
  constructor(write: (text: string) => void, size: () => TerminalSize) {
    this.#write = write;
    this.#size = size;
  }

  /** Rows the frame on screen takes (the cursor sits on the row below it). */
  get height(): number {
    let rows = 0;
    for (const r of this.#rows) rows += r;
    return rows;
  }

  /**
   * Shows `frame` in place of the previous one, writing only what changed.
   *
   * @param frame The text (lines separated by `\n`; a trailing newline is ignored).
   * @returns Whether anything was written.
   */
  update(frame: string): boolean {
    const { columns, rows: height } = this.#size();
    let lines = (frame.endsWith("\n") ? frame.slice(0, -1) : frame).split("\n");
    const rowsOf = (line: string) => Math.max(1, Math.ceil(visibleWidth(line) / columns));
    let rows = lines.map((line, i) =>
      columns === this.#columns && this.#lines[i] === line ? this.#rows[i] : rowsOf(line)
    );
    // Keep the frame plus the cursor's row on screen: the top lines give way.
    let total = rows.reduce((a, b) => a + b, 0);
    let drop = 0;
    while (drop < lines.length - 1 && total > height - 1) total -= rows[drop++];
    if (drop > 0) {
      lines = lines.slice(drop);
      rows = rows.slice(drop);
    }
    let out = "";
    const old = this.#lines;
    const sameShape = columns === this.#columns && old.length === lines.length &&
      rows.every((r, i) => r === this.#rows[i]);
    if (old.length === 0) {
      out = lines.join("\n") + "\n";
    } else if (sameShape) {
      // Line by line: up to each changed line, erase it, write it, and back down.
      const below = this.height; // rows between the cursor and the top of the frame
      let at = 0; // rows from the top of the frame to the current line
      for (let i = 0; i < lines.length; i++) {
        if (lines[i] !== old[i]) {
          const up = below - at; // ≥ 1: the cursor is below the frame
          const down = below - (at + rows[i] - 1); // from the line's last row
          out += `\r${ESC}${up}A${ESC}2K${lines[i]}${ESC}K\r${ESC}${down}B`;
        }
        at += rows[i];
      }
      if (out === "") return false;
    } else {
      // The shape changed: rewrite from the first changed line down, line by line (erase-line,
      // not erase-display: some terminals, tmux among them, push a screen erased from its top
      // into the scrollback), then blank the rows the old frame had beyond the new one.
      let first = 0;
      while (first < old.length && first < lines.length && old[first] === lines[first]) first++;
      let up = 0;
      for (let i = first; i < old.length; i++) up += this.#rows[i];
      if (columns !== this.#columns) {
        // Rewrapped by the terminal: the old row counts no longer hold; start over on screen.
        first = 0;
        up = Math.min(this.height, height - 1);
      }
      let written = 0;
      out = `\r${up > 0 ? `${ESC}${up}A` : ""}`;
      for (let i = first; i < lines.length; i++) {
        out += `${ESC}2K${lines[i]}${ESC}K\n`;
        written += rows[i];
      }
      const leftover = up - written;
      if (leftover > 0) out += `${ESC}2K\n`.repeat(leftover) + `${ESC}${leftover}A`;
    }
    this.#lines = lines;
    this.#rows = rows;
    this.#columns = columns;
    this.#write(SYNC_ON + out + SYNC_OFF);
    return true;
  }

  /** Forgets the frame on screen (it stays there); the next update starts a new frame below. */
  done(): void {
    this.#lines = [];
    this.#rows = [];
  }
}
