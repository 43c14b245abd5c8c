/**
 * The benchmark's throw-away network namespace: `ip netns add mcb-<pid>`, `lo` up, every
 * measurement run with `ip netns exec`, the namespace deleted at the end (also on SIGINT /
 * SIGTERM). Nothing touches the host's interfaces: all traffic stays on the namespace's own
 * loopback. Every command runs under a timeout.
 *
 * @module
 */

/** Prefix of every namespace the benchmark creates (stale ones from killed runs are removed). */
export const NAMESPACE_PREFIX = "mcb-";

/** What a finished command left. */
export interface CommandOutput {
  /** Exit code (or 124 when the timeout killed it). */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Whether the timeout killed it. */
  timedOut: boolean;
}

/** Options of {@linkcode BenchNamespace.run} and {@linkcode BenchNamespace.spawn}. */
export interface ExecOptions {
  /**
   * Pin the process to this CPU (`taskset -c`); undefined leaves it to the scheduler.
   *
   * @default {undefined}
   */
  cpu?: number;
  /**
   * Kill the process after this many milliseconds.
   *
   * @default {30000}
   */
  timeoutMs?: number;
}

const decoder = new TextDecoder();

async function host(argv: string[], timeoutMs = 10_000): Promise<CommandOutput> {
  const signal = AbortSignal.timeout(timeoutMs);
  const output = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    timedOut: signal.aborted,
  };
}

async function checked(argv: string[]): Promise<string> {
  const result = await host(argv);
  if (result.code !== 0) {
    throw new Error(`Command failed: ${argv.join(" ")}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** A process started in the namespace, with its stdout read line by line. */
export class NamespaceProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #stdoutDone: Promise<void>;
  readonly #stderr: Promise<string>;
  readonly #timer: ReturnType<typeof setTimeout>;
  #timedOut = false;
  #partial = "";

  /**
   * Internal: made by {@linkcode BenchNamespace.spawn}.
   *
   * @param child The process, with piped stdin, stdout and stderr.
   * @param timeoutMs Killed after this long.
   */
  constructor(child: Deno.ChildProcess, timeoutMs: number) {
    this.#child = child;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.kill();
    }, timeoutMs);
    this.#stdoutDone = this.#pump(child.stdout);
    this.#stderr = new Response(child.stderr).text();
  }

  /**
   * Waits until a stdout line equals `line`.
   *
   * @param line The line.
   * @param timeoutMs How long to wait.
   * @throws {Error} When the process ends or the time runs out first.
   */
  async waitForLine(line: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#lines.includes(line)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No "${line}" line within ${timeoutMs} ms`);
      const ended = await Promise.race([
        new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(false))),
        this.#stdoutDone.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.min(left, 100))),
      ]);
      if (ended && !this.#lines.includes(line)) {
        throw new Error(`Process ended before "${line}": ${(await this.#stderr).trim()}`);
      }
    }
  }

  /**
   * Writes one line to the process's stdin.
   *
   * @param line The text, without newline.
   */
  async writeLine(line: string): Promise<void> {
    const writer = this.#child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(`${line}\n`));
    } finally {
      writer.releaseLock();
    }
  }

  /**
   * Waits for the process to exit.
   *
   * @returns Its output (stdout lines joined).
   */
  async finish(): Promise<CommandOutput> {
    try {
      await this.#child.stdin.close();
    } catch { /* already closed */ }
    const status = await this.#child.status;
    clearTimeout(this.#timer);
    await this.#stdoutDone;
    return {
      code: this.#timedOut ? 124 : status.code,
      stdout: this.#lines.join("\n"),
      stderr: await this.#stderr,
      timedOut: this.#timedOut,
    };
  }

  /** Kills the process (SIGKILL); safe when it already ended. */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    }
    if (this.#partial !== "") this.#lines.push(this.#partial);
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** The namespace all measurements run in. */
export class BenchNamespace implements AsyncDisposable {
  /** The namespace name, `mcb-<pid>`. */
  readonly name: string;
  #deleted = false;
  readonly #onSignal = () => {
    this.deleteSync();
    Deno.exit(130);
  };

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Removes namespaces left by benchmark runs whose process is gone, then creates a new one
   * with `lo` up.
   *
   * @returns The namespace.
   * @throws {Error} When `ip netns add` fails (not root, no `ip`).
   */
  static async create(): Promise<BenchNamespace> {
    const list = await host(["ip", "netns", "list"]);
    for (const line of list.stdout.split("\n")) {
      const name = line.split(" ")[0];
      const match = /^mcb-(\d+)$/.exec(name);
      if (match !== null && !pidAlive(Number(match[1]))) {
        await host(["ip", "netns", "delete", name]);
      }
    }
    const ns = new BenchNamespace(`${NAMESPACE_PREFIX}${Deno.pid}`);
    await checked(["ip", "netns", "add", ns.name]);
    try {
      await checked(["ip", "-n", ns.name, "link", "set", "lo", "up"]);
    } catch (error) {
      ns.deleteSync();
      throw error;
    }
    Deno.addSignalListener("SIGINT", ns.#onSignal);
    Deno.addSignalListener("SIGTERM", ns.#onSignal);
    return ns;
  }

  /**
   * The argv that runs `argv` inside the namespace (pinned when asked).
   *
   * @param argv The command.
   * @param cpu A CPU to pin it to.
   * @returns The wrapped argv.
   */
  wrap(argv: readonly string[], cpu?: number): string[] {
    const pin = cpu === undefined ? [] : ["taskset", "-c", String(cpu)];
    return ["ip", "netns", "exec", this.name, ...pin, ...argv];
  }

  /**
   * Runs a command in the namespace to completion (killed at the timeout).
   *
   * @param argv The command.
   * @param options CPU pinning and timeout.
   * @returns Its output.
   */
  run(argv: readonly string[], options: ExecOptions = {}): Promise<CommandOutput> {
    return host(this.wrap(argv, options.cpu), options.timeoutMs ?? 30_000);
  }

  /**
   * Starts a command in the namespace with stdin, stdout and stderr piped.
   *
   * @param argv The command.
   * @param options CPU pinning and timeout.
   * @returns The process.
   */
  spawn(argv: readonly string[], options: ExecOptions = {}): NamespaceProcess {
    const full = this.wrap(argv, options.cpu);
    const child = new Deno.Command(full[0], {
      args: full.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new NamespaceProcess(child, options.timeoutMs ?? 30_000);
  }

  /** Deletes the namespace (`ip netns delete`); safe to call twice. */
  deleteSync(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    Deno.removeSignalListener("SIGINT", this.#onSignal);
    Deno.removeSignalListener("SIGTERM", this.#onSignal);
    new Deno.Command("ip", { args: ["netns", "delete", this.name] }).outputSync();
  }

  /** Same as {@linkcode BenchNamespace.deleteSync}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.deleteSync();
    return Promise.resolve();
  }
}
