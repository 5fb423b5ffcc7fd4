/**
 * `npm run test:timings [-- --top N] [-- --file <timings.json>]`: the slowest test files of the
 * last vitest run, and for the integration files how much of their wall time was CPU and how much
 * was waiting (scripts/timings-report.ts; every `npm test` and `npm run test:fast` writes the report).
 */
import { readFileSync } from "node:fs";
import { parseCommandLine, runCommand, CommandError, type CommandSpec } from "./cli.js";
import { formatTimings, timingsReportSchema } from "./timings-report.js";

const DEFAULT_FILE = "test-artifacts/timings.json";
const DEFAULT_TOP = 10;

const COMMAND: CommandSpec = {
  name: "test:timings",
  usage: `usage: npm run test:timings [-- --top N] [-- --file <timings.json>]
  --top   how many of the slowest files to list (default ${DEFAULT_TOP})
  --file  the report of a vitest run (default ${DEFAULT_FILE}, written by every npm test)`,
  untouched: "Nothing was printed.",
};

function main(argv: readonly string[]): void {
  const { values } = parseCommandLine(COMMAND, argv, { top: { type: "string", default: String(DEFAULT_TOP) }, file: { type: "string", default: DEFAULT_FILE } });
  const top = Number(values.top);
  if (!Number.isInteger(top) || top < 1) throw new CommandError(`--top: "${values.top}" is not a whole number of files of 1 or more\n${COMMAND.usage}`);
  const file = values.file as string;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CommandError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run npm test or npm run test:fast first, which write it`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CommandError(`${file}: not JSON (${(error as Error).message}); run the tests again to rewrite it`);
  }
  const parsed = timingsReportSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(top level)"}: ${issue.message}`);
    throw new CommandError(`${file}: not a timings report of this project:\n${problems.slice(0, 5).join("\n")}\nrun the tests again to rewrite it`);
  }
  process.stdout.write(formatTimings(parsed.data, file, top));
}

runCommand(COMMAND, main);
