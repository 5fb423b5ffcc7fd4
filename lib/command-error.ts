/**
 * The expected failure of a command, shared by the commands (scripts/cli.ts reports it) and the
 * libraries they call (ops/): a message in words, no stack trace.
 */

/** An expected failure of a command (a usage mistake, a refused target, a failed step): reported in words, no stack trace. */
export class CommandError extends Error {
  override readonly name: string = "CommandError";
  constructor(
    message: string,
    /** This failure's own exit code and what it left untouched, where they differ from the command's. */
    readonly own: { readonly exitCode?: number; readonly untouched?: string } = {},
  ) {
    super(message);
  }
}
