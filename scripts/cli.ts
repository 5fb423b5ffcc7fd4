/**
 * The one way the project's commands (synth, render, render:talos, cost, teardown, adopt) take
 * their arguments and report expected failures: `--help` prints the usage and exits 0; a bad
 * config (ConfigError: field path + fix), a usage mistake or another expected failure prints its
 * message and what was left untouched, and exits 1 (adopt: 2, as documented) without a stack trace. Anything else is a bug
 * and keeps its stack.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../config/load.js";
import { SITES, type SiteName } from "../config/sites.js";
import { CommandError } from "../lib/command-error.js";

export { CommandError };

export interface CommandSpec {
  /** As the user types it after `npm run`, e.g. "render:talos". */
  readonly name: string;
  readonly usage: string;
  /** What an expected failure left untouched; default "Nothing was written." */
  readonly untouched?: string;
  /** Exit code of an expected failure; default 1. */
  readonly failureExitCode?: number;
  /** Error classes of the command's own that are expected failures, besides ConfigError and CommandError. */
  readonly expected?: readonly (abstract new (...args: never[]) => Error)[];
}

/** Parses `argv` strictly against `options`; a mistake is a CommandError carrying the usage. */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig["options"]>>(command: CommandSpec, argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (error) {
    throw new CommandError(`${(error as Error).message}\n${command.usage}`);
  }
}

/** The built-in site `--site` names (own keys only: "constructor" or "__proto__" is not a site). */
export function parseSite(value: string | undefined, usage: string): SiteName {
  if (value === undefined || value === "") throw new CommandError(`--site is required\n${usage}`);
  if (!Object.hasOwn(SITES, value)) throw new CommandError(`unknown site "${value}"; the built-in sites are ${Object.keys(SITES).join(", ")}\n${usage}`);
  return value as SiteName;
}

/** Runs `main` as the command's process: its return value is the exit code. */
export function runCommand(command: CommandSpec, main: (argv: readonly string[]) => number | void, argv: readonly string[] = process.argv.slice(2)): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return;
  }
  try {
    process.exitCode = main(argv) ?? 0;
  } catch (error) {
    const expected = error instanceof ConfigError || error instanceof CommandError || (command.expected ?? []).some((type) => error instanceof type);
    if (!expected) throw error;
    const own = error instanceof CommandError ? error.own : {};
    process.stderr.write(`${command.name}: ${(error as Error).message}\n${own.untouched ?? command.untouched ?? "Nothing was written."}\n`);
    process.exitCode = own.exitCode ?? command.failureExitCode ?? 1;
  }
}
