// Shared by the four tools: the commander set-up, value parsers that refuse bad input with one
// line, the top-level catch that maps typed errors to exit codes, and terminal facts.

import { Command, CommanderError, InvalidArgumentError } from "commander";
import denoJson from "../deno.json" with { type: "json" };
import { InvalidValueError, McastError } from "../lib/errors.ts";

/** The project version, from deno.json. */
export const VERSION: string = denoJson.version;

/** Exit codes of every tool (CONTRACT "Exit codes"). */
export const EXIT = { ok: 0, runtime: 1, usage: 2, expectation: 3 } as const;

/** A usage error already reported by commander (it printed its own line). */
class ReportedUsageError extends Error {}

/**
 * A commander program with the project's conventions: `--version`, one-line errors, no
 * process.exit from inside commander (we decide the exit code), examples after the help.
 */
export function createProgram(name: string, description: string, examples: string[]): Command {
  const program = new Command(name)
    .description(description)
    .version(VERSION, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show this help with examples")
    .showHelpAfterError(false)
    .allowExcessArguments(false)
    .configureOutput({
      writeErr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
      writeOut: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
      outputError: (text, write) => write(`${name}: ${text.replace(/^error: /, "").trim()}\n`),
    })
    .exitOverride((error) => {
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        throw error;
      }
      throw new ReportedUsageError(error.message);
    });
  program.addHelpText(
    "after",
    `\nExamples:\n${examples.map((line) => `  ${line}`).join("\n")}\n`,
  );
  return program;
}

/**
 * Wraps a library parser as a commander argument parser: an {@linkcode InvalidValueError}
 * becomes commander's one-line "invalid argument" error.
 */
export function parser<T>(parse: (text: string) => T): (text: string) => T {
  return (text: string) => {
    try {
      return parse(text);
    } catch (error) {
      if (error instanceof InvalidValueError) {
        throw new InvalidArgumentError(`${error.expected}`);
      }
      throw error;
    }
  };
}

/** Parses an integer in [min, max], for ports, counts, TTLs. */
export function integerIn(what: string, min: number, max: number): (text: string) => number {
  return (text: string) => {
    const value = /^[+]?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${what} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** Parses a decimal number in [min, max], for seconds and percentages. */
export function numberIn(what: string, min: number, max: number): (text: string) => number {
  return (text: string) => {
    const value = /^[+]?(\d+(\.\d*)?|\.\d+)$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${what} must be a number from ${min} to ${max}`);
    }
    return value;
  };
}

/**
 * Runs a tool's main function and exits with its code. Usage errors (bad values) print one
 * line and exit 2; runtime failures (typed library errors) print one line and exit 1; anything
 * else is a bug and is rethrown with its stack.
 */
export async function runTool(
  name: string,
  main: (args: string[]) => Promise<number>,
): Promise<never> {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    code = exitCodeFor(name, error);
  }
  Deno.exit(code);
}

function exitCodeFor(name: string, error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof ReportedUsageError) return EXIT.usage;
  if (error instanceof InvalidValueError) {
    console.error(`${name}: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof McastError) {
    console.error(`${name}: ${error.message}`);
    return EXIT.runtime;
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    console.error(`${name}: ${error.message}`);
    return EXIT.runtime;
  }
  throw error;
}

/** Whether colour is wanted: a terminal, and NO_COLOR unset or empty. */
export function colorWanted(stream: { isTerminal(): boolean } = Deno.stdout): boolean {
  const noColor = Deno.env.get("NO_COLOR");
  return stream.isTerminal() && (noColor === undefined || noColor === "");
}
