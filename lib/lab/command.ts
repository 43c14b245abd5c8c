/**
 * Running programs — the one module of the library that starts processes or sends them signals.
 * Everything the labs do to the system (`ip`, `smcrouted`, `nft`, commands inside namespaces)
 * goes through here: plain runs to completion with a bounded run time (optionally pinned to a
 * CPU), long-running processes with collected output, an optional stdin and an optional time
 * limit, synchronous best-effort runs for signal handlers, and interactive runs that hand the
 * terminal to the program.
 *
 * @example
 * ```ts ignore
 * import { runCommand } from "./command.ts";
 * const result = await runCommand(["ip", "netns", "list"], { timeoutMs: 5_000 });
 * console.log(result.code, result.stdout);
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";

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
  /**
   * Pin the command to this CPU (`taskset -c <cpu>`); undefined leaves it to the scheduler.
   *
   * @default {undefined}
   */
  cpu?: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Quote a command line for messages (shell quoting where a word needs it).
 *
 * @example
 * ```ts
 * import { formatArgv } from "./command.ts";
 * formatArgv(["sh", "-c", "echo hi"]); // "sh -c 'echo hi'"
 * ```
 *
 * @param argv Program and arguments.
 * @returns One line.
 */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

/**
 * The command line that runs `argv` pinned to one CPU with `taskset -c` (the program execs, so the
 * process id stays the program's), or `argv` itself when `cpu` is undefined.
 *
 * @example
 * ```ts
 * import { pinnedArgv } from "./command.ts";
 * pinnedArgv(["sleep", "1"], 2); // ["taskset", "-c", "2", "sleep", "1"]
 * ```
 *
 * @param argv Program and arguments.
 * @param cpu The CPU number, or undefined.
 * @returns The command line to run.
 * @throws {LabError} When `cpu` is not a non-negative integer.
 */
export function pinnedArgv(argv: readonly string[], cpu?: number): string[] {
  if (cpu === undefined) return [...argv];
  if (!Number.isInteger(cpu) || cpu < 0) {
    throw new LabError(`Invalid CPU number: ${cpu} (expected a non-negative integer)`);
  }
  return ["taskset", "-c", String(cpu), ...argv];
}

/**
 * Run `argv` to completion and collect its output.
 *
 * A run that exceeds its time limit is killed and returned with `timedOut: true` (and
 * `success: false`); it throws only with `check`.
 *
 * @example
 * ```ts ignore
 * import { runCommand } from "./command.ts";
 * const { stdout } = await runCommand(["ip", "-o", "link"], { check: true });
 * ```
 *
 * @param argv Program and arguments.
 * @param options Time limit, check, environment, CPU pinning.
 * @returns The exit status and decoded output.
 */
export async function runCommand(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const { timeoutMs = 30_000, check = false } = options;
  const full = pinnedArgv(argv, options.cpu);
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
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
        `Command failed: ${formatArgv(full)}: ${why}: ${
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
  /**
   * `"piped"` to write to the process's stdin with {@linkcode LabProcess.write} (closed by
   * {@linkcode LabProcess.closeStdin} or when the process exits); `"null"` gives it none.
   *
   * @default {"null"}
   */
  stdin?: "null" | "piped";
  /**
   * Kill the process (SIGKILL) after this many milliseconds; its result then has `timedOut: true`.
   * Undefined: no time limit (the lab still kills it on disposal).
   *
   * @default {undefined}
   */
  timeoutMs?: number;
  /**
   * Pin the process to this CPU (`taskset -c <cpu>`); undefined leaves it to the scheduler.
   *
   * @default {undefined}
   */
  cpu?: number;
}

/**
 * A long-running process started by the lab. Its stdout and stderr are collected continuously;
 * the lab kills it on disposal if it is still running (and it kills itself at its `timeoutMs`).
 *
 * @example
 * ```ts ignore
 * import { LabProcess } from "./command.ts";
 * const process = new LabProcess(["ping", "-c", "3", "127.0.0.1"], { timeoutMs: 10_000 });
 * await process.waitForOutput(/bytes from/);
 * const result = await process.stop();
 * ```
 */
export class LabProcess {
  /** The command line as run (with `taskset -c` in front when pinned), for messages. */
  readonly argv: readonly string[];
  #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #maxChars: number;
  #done: Promise<CommandResult>;
  #exited = false;
  #timedOut = false;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #listeners = new Set<() => void>();

  /**
   * Spawn `argv` now.
   *
   * @param argv Program and arguments.
   * @param options Environment, working directory, output limit, stdin, time limit, CPU.
   */
  constructor(argv: readonly string[], options: SpawnOptions = {}) {
    this.argv = pinnedArgv(argv, options.cpu);
    this.#maxChars = options.maxOutputChars ?? 1 << 20;
    const child = new Deno.Command(this.argv[0], {
      args: this.argv.slice(1),
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      cwd: options.cwd,
    }).spawn();
    this.#child = child;
    if (options.stdin === "piped") this.#stdin = child.stdin.getWriter();
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      this.#timedOut = true;
      this.kill("SIGKILL");
    }, options.timeoutMs);
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
      clearTimeout(timer);
      await Promise.all([outDone, errDone, this.closeStdin()]);
      this.#exited = true;
      this.#notify();
      return {
        code: status.code,
        success: status.success && !this.#timedOut,
        signal: status.signal,
        stdout: this.#stdout,
        stderr: this.#stderr,
        timedOut: this.#timedOut,
      };
    })();
  }

  /** The process id (of the program itself: `ip netns exec` and `taskset` exec it). */
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

  /**
   * Write to the process's stdin (spawned with `stdin: "piped"`).
   *
   * @param data Text (encoded as UTF-8) or bytes.
   * @throws {LabError} When stdin is not piped or already closed.
   */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#stdin === undefined) {
      throw new LabError(`No stdin to write to (not piped, or closed): ${formatArgv(this.argv)}`);
    }
    await this.#stdin.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Close the process's stdin (end of input); does nothing when it is not piped or closed. */
  async closeStdin(): Promise<void> {
    const writer = this.#stdin;
    this.#stdin = undefined;
    try {
      await writer?.close();
    } catch { /* the process closed its stdin already */ }
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
 * Run `argv` to completion synchronously, best effort, discarding its output (for signal and
 * unload handlers, which cannot wait for promises).
 *
 * @example
 * ```ts ignore
 * import { runCommandSync } from "./command.ts";
 * runCommandSync(["ip", "netns", "del", "mcl-1234-1-a"]);
 * ```
 *
 * @param argv Program and arguments.
 * @returns Its stdout, or undefined when it could not be started.
 */
export function runCommandSync(argv: readonly string[]): string | undefined {
  try {
    const out = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return decoder.decode(out.stdout);
  } catch {
    return undefined;
  }
}

/**
 * Send a signal to a process by id; a process that is already gone is not an error.
 *
 * @example
 * ```ts ignore
 * import { signalProcess } from "./command.ts";
 * signalProcess(12345, "SIGTERM");
 * ```
 *
 * @param pid The process id.
 * @param signal The signal.
 * @returns False when there was no such process (or it could not be signalled).
 */
export function signalProcess(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@linkcode runInteractive}. */
export interface InteractiveOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Run `argv` with this process's terminal (stdin, stdout and stderr inherited) and wait for it.
 * While it runs, SIGTERM and SIGHUP are passed on to it, and so is SIGINT unless stdin is a
 * terminal (there Ctrl-C reaches the program directly, and this process stays alive to return
 * its exit code).
 *
 * @example
 * ```ts ignore
 * import { runInteractive } from "./command.ts";
 * const code = await runInteractive(["ip", "netns", "exec", "mlab-lab-r1", "bash"]);
 * ```
 *
 * @param argv Program and arguments.
 * @param options Extra environment.
 * @returns The program's exit code (128 + the signal number when a signal ended it).
 */
export async function runInteractive(
  argv: readonly string[],
  options: InteractiveOptions = {},
): Promise<number> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    env: options.env,
  }).spawn();
  const interactive = Deno.stdin.isTerminal();
  const listeners: Array<[Deno.Signal, () => void]> = [];
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const pass = signal !== "SIGINT" || !interactive;
    const handler = () => {
      if (!pass) return;
      try {
        child.kill(signal);
      } catch { /* exited meanwhile */ }
    };
    try {
      Deno.addSignalListener(signal, handler);
      listeners.push([signal, handler]);
    } catch { /* not on this OS */ }
  }
  try {
    const status = await child.status;
    return status.code;
  } finally {
    for (const [signal, handler] of listeners) Deno.removeSignalListener(signal, handler);
  }
}
