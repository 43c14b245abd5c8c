/**
 * Private: running programs for the lab harness (plain, or inside a namespace), with a bounded
 * run time, and long-running processes with collected output.
 *
 * @module
 */

/** A lab step (an `ip` call, a command, a wait) failed. */
export class LabError extends Error {
  /**
   * Constructs a new instance.
   *
   * @param message The message, sentence case, no final period.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The outcome of a finished command. */
export interface CommandResult {
  /** Exit code (128 + signal number when killed by a signal). */
  code: number;
  /** `code === 0`. */
  success: boolean;
  /** The signal that ended the process, if any. */
  signal: Deno.Signal | null;
  /** Everything written to stdout, decoded as UTF-8. */
  stdout: string;
  /** Everything written to stderr, decoded as UTF-8. */
  stderr: string;
  /** True when the run was ended because it exceeded its time limit. */
  timedOut: boolean;
}

/** Options of {@linkcode runCommand} and `Namespace.run`. */
export interface RunOptions {
  /**
   * Kill the command (SIGKILL) after this many milliseconds.
   *
   * @default {30000}
   */
  timeoutMs?: number;
  /**
   * Throw a {@linkcode LabError} carrying stderr when the command does not exit 0.
   *
   * @default {false}
   */
  check?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Bytes written to the command's stdin (then closed). */
  stdin?: Uint8Array | string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Quote a command line for messages. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

/**
 * Run `argv` to completion and collect its output.
 *
 * @param argv Program and arguments.
 * @param options Time limit, check, environment.
 * @returns The exit status and decoded output.
 */
export async function runCommand(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const { timeoutMs = 30_000, check = false } = options;
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
    cwd: options.cwd,
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      const data = typeof options.stdin === "string"
        ? encoder.encode(options.stdin)
        : options.stdin;
      try {
        await writer.write(data);
        await writer.close();
      } catch { /* the child closed its stdin early */ }
    }
    const out = await child.output();
    const result: CommandResult = {
      code: out.code,
      success: out.success && !timedOut,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
    };
    if (check && !result.success) {
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${result.code}`;
      throw new LabError(
        `Command failed: ${formatArgv(argv)}: ${why}: ${
          result.stderr.trim() || result.stdout.trim()
        }`,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode LabProcess} creation (`Namespace.spawn`). */
export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /**
   * Keep at most this many characters of each of stdout and stderr (the oldest are dropped).
   *
   * @default {1048576}
   */
  maxOutputChars?: number;
}

/**
 * A long-running process started by the lab. Its stdout and stderr are collected continuously;
 * the lab kills it on disposal if it is still running.
 */
export class LabProcess {
  /** The command line, for messages. */
  readonly argv: readonly string[];
  #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #maxChars: number;
  #done: Promise<CommandResult>;
  #exited = false;
  #listeners = new Set<() => void>();

  /**
   * Spawn `argv` now.
   *
   * @param argv Program and arguments.
   * @param options Environment, working directory, output limit.
   */
  constructor(argv: readonly string[], options: SpawnOptions = {}) {
    this.argv = argv;
    this.#maxChars = options.maxOutputChars ?? 1 << 20;
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      cwd: options.cwd,
    }).spawn();
    this.#child = child;
    const outDone = this.#pump(
      child.stdout,
      (s) => this.#stdout = this.#trim(this.#stdout + s),
    );
    const errDone = this.#pump(
      child.stderr,
      (s) => this.#stderr = this.#trim(this.#stderr + s),
    );
    this.#done = (async () => {
      const status = await child.status;
      await Promise.all([outDone, errDone]);
      this.#exited = true;
      this.#notify();
      return {
        code: status.code,
        success: status.success,
        signal: status.signal,
        stdout: this.#stdout,
        stderr: this.#stderr,
        timedOut: false,
      };
    })();
  }

  /** The process id (of the program itself: `ip netns exec` execs it). */
  get pid(): number {
    return this.#child.pid;
  }

  /** True once the process has exited and its output is complete. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Output collected so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Error output collected so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Send a signal; does nothing if the process already exited.
   *
   * @param signal The signal.
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch { /* exited meanwhile */ }
  }

  /** Wait for the process to exit; resolves with its status and complete output. */
  wait(): Promise<CommandResult> {
    return this.#done;
  }

  /**
   * Wait (bounded) for the process to exit; SIGTERM it, then SIGKILL it after `graceMs` more.
   *
   * @param graceMs Milliseconds between SIGTERM and SIGKILL.
   * @returns The final status and output.
   */
  async stop(graceMs = 2_000): Promise<CommandResult> {
    this.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill("SIGKILL");
        resolve();
      }, graceMs);
    });
    try {
      await Promise.race([this.#done, killed]);
      return await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Wait until stdout or stderr matches `pattern`.
   *
   * @param pattern What to wait for, matched against the collected text of each stream.
   * @param timeoutMs Give up after this many milliseconds.
   * @returns The match.
   * @throws {LabError} On time-out or when the process exits first.
   */
  waitForOutput(pattern: RegExp | string, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const re = typeof pattern === "string"
      ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      : pattern;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.#stdout.match(re) ?? this.#stderr.match(re);
        if (m) {
          finish();
          resolve(m);
        } else if (this.#exited) {
          finish();
          reject(
            new LabError(
              `Process exited before printing ${re}: ${
                formatArgv(this.argv)
              }: ${this.#stderr.trim()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new LabError(
            `Timed out after ${timeoutMs} ms waiting for ${re}: ${
              formatArgv(this.argv)
            }: ${this.#stderr.trim()}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  #trim(s: string): string {
    return s.length > this.#maxChars ? s.slice(s.length - this.#maxChars) : s;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  async #pump(stream: ReadableStream<Uint8Array>, append: (s: string) => void): Promise<void> {
    const textDecoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        append(textDecoder.decode(chunk, { stream: true }));
        this.#notify();
      }
    } catch { /* stream torn down */ }
  }
}

/**
 * Find a program on PATH (like `which`).
 *
 * @param program The program name.
 * @returns Its full path, or undefined.
 */
export function findOnPath(program: string): string | undefined {
  if (program.includes("/")) return isExecutable(program) ? program : undefined;
  const dirs = (Deno.env.get("PATH") ?? "").split(":");
  for (const extra of ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    if (!dir) continue;
    const full = `${dir}/${program}`;
    if (isExecutable(full)) return full;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}
