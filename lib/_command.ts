// Private: how the diagnosis runs an external program (`ip route get`, `iptables-save`,
// `nft -j list ruleset` …) over the library's one command runner (`lab/command.ts`): read-only
// commands, with a time limit, the C locale, no stdin, and the programs found also in the sbin
// directories that a user's PATH often lacks. A program that cannot be run is a value saying why,
// never an exception, so a check can say what it could not read.

import { runCommand } from "./lab/command.ts";

/** A program that ran to its end (whatever its exit code). */
export interface ProgramOutput {
  /** The exit code (128 + the signal's number when a signal ended it). */
  code: number;
  /** Its standard output, UTF-8. */
  stdout: string;
  /** Its standard error, UTF-8. */
  stderr: string;
}

/**
 * Why a program could not be run: `"missing"` (not installed), `"not-permitted"` (Deno lacks
 * `--allow-run`, or the OS refused to execute it), `"timed-out"` (killed at the time limit), or
 * — said by a caller that read the output — `"failed"` (it ran and could not do its job).
 */
export interface ProgramFailure {
  /** The reason. */
  failure: "missing" | "not-permitted" | "timed-out" | "failed";
  /** The program's name. */
  program: string;
  /** What it said, for `"failed"`. */
  detail?: string;
}

/** Options of {@linkcode runProgram}. */
export interface RunProgramOptions {
  /**
   * Kill the program after this many milliseconds.
   *
   * @default {5000}
   */
  timeoutMs?: number;
}

/** Where administration programs live when PATH does not list them. */
const SBIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/**
 * Whether a result is a failure to run.
 *
 * @example
 * ```ts
 * import { isFailure } from "./_command.ts";
 * isFailure({ failure: "missing", program: "nft" }); // true
 * isFailure({ code: 0, stdout: "", stderr: "" }); // false
 * ```
 *
 * @param result What {@linkcode runProgram} returned.
 * @returns True for a {@linkcode ProgramFailure}.
 */
export function isFailure<T extends object>(result: T | ProgramFailure): result is ProgramFailure {
  return "failure" in result;
}

/**
 * Runs `argv` to its end and collects its output.
 *
 * @example
 * ```ts ignore
 * import { isFailure, runProgram } from "./_command.ts";
 * const result = await runProgram(["ip", "-j", "route", "get", "239.1.2.3"]);
 * if (!isFailure(result) && result.code === 0) console.log(JSON.parse(result.stdout));
 * ```
 *
 * @param argv The program (a name) and its arguments.
 * @param options The time limit.
 * @returns The output, or why it could not be run.
 */
export async function runProgram(
  argv: readonly string[],
  options: RunProgramOptions = {},
): Promise<ProgramOutput | ProgramFailure> {
  const [program, ...args] = argv;
  const candidates = program.includes("/")
    ? [program]
    : [program, ...SBIN.map((d) => `${d}/${program}`)];
  for (const candidate of candidates) {
    try {
      const result = await runCommand([candidate, ...args], {
        timeoutMs: options.timeoutMs ?? 5_000,
        env: { LC_ALL: "C" },
      });
      if (result.timedOut) return { failure: "timed-out", program };
      return { code: result.code, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        return { failure: "not-permitted", program };
      }
      throw error;
    }
  }
  return { failure: "missing", program };
}

/**
 * A failure to run, as the end of a sentence: `"ip is not installed"`.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./_command.ts";
 * describeFailure({ failure: "not-permitted", program: "nft" });
 * // "this process may not run nft (Deno needs --allow-run)"
 * ```
 *
 * @param failure The failure.
 * @returns The text.
 */
export function describeFailure(failure: ProgramFailure): string {
  switch (failure.failure) {
    case "missing":
      return `${failure.program} is not installed`;
    case "not-permitted":
      return `this process may not run ${failure.program} (Deno needs --allow-run)`;
    case "timed-out":
      return `${failure.program} did not answer in time`;
    default:
      return `${failure.program} failed: ${failure.detail ?? "no output"}`;
  }
}
