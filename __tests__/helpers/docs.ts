/**
 * The shell blocks of the project's markdown (README.md, SECURITY.md, docs/*.md), read from the
 * files themselves so that a test runs a runbook's commands as written, not a copy of them.
 *
 * Every fenced shell block carries one marker on the line before its opening fence:
 * `<!-- runs: <test file> -->` (that test reads the block from the markdown and runs it) or
 * `<!-- not-run: <reason> -->`. `__tests__/docs.test.ts` enforces it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./project.js";

/** Fence languages that hold commands a reader types. */
export const SHELL_LANGUAGES: ReadonlySet<string> = new Set(["sh", "bash", "console", "shell"]);

export type DocMarker = { readonly kind: "runs"; readonly test: string } | { readonly kind: "not-run"; readonly reason: string };

export interface DocBlock {
  /** Repository-relative path of the markdown file, e.g. `docs/teardown.md`. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: string;
  /** Text of the nearest heading above the block, without the `#`s. */
  readonly heading: string;
  /** The marker on the line before the fence, when that line holds exactly one well-formed marker. */
  readonly marker?: DocMarker;
  /** Why the line before the fence is not exactly one well-formed marker (empty when it is). */
  readonly markerProblem?: string;
  /** The block's text, with the fence's own indentation removed (blocks inside list items). */
  readonly text: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const HEADING = /^#{1,6}\s+(.*?)\s*#*\s*$/;
const MARKER = /^<!--\s*(runs|not-run):\s*(.*?)\s*-->$/;
const ANY_COMMENT = /<!--/g;

/** README.md, SECURITY.md and every docs/*.md, repository-relative, sorted. */
export function docFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`);
  return ["README.md", "SECURITY.md", ...docs.sort()].filter((file) => existsSync(join(REPO_ROOT, file)));
}

/** Parses the line before a fence: a marker, or what is wrong with it. */
function parseMarker(previous: string | undefined): { marker?: DocMarker; markerProblem?: string } {
  const line = (previous ?? "").trim();
  if (!line.startsWith("<!--")) return { markerProblem: "no <!-- runs: … --> or <!-- not-run: … --> marker on the line before the fence" };
  if ((line.match(ANY_COMMENT) ?? []).length > 1) return { markerProblem: `more than one marker on one line: ${line}` };
  const match = MARKER.exec(line);
  if (!match) return { markerProblem: `not a marker (expected "<!-- runs: <test file> -->" or "<!-- not-run: <reason> -->"): ${line}` };
  const [, kind, value] = match as unknown as [string, "runs" | "not-run", string];
  if (!value) return { markerProblem: `${kind}: is empty` };
  return { marker: kind === "runs" ? { kind, test: value } : { kind, reason: value } };
}

/** Every fenced block of `file` in a shell language, in document order; `root` is the repository (or a copy of it) to read. */
export function shellBlocks(file: string, root = REPO_ROOT): DocBlock[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const blocks: DocBlock[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const headingMatch = HEADING.exec(lines[i]!);
    if (headingMatch) heading = headingMatch[1]!;
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, language] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let end = i + 1;
    // A closing fence: the same character, at least as long, nothing after it.
    const closing = new RegExp(`^\\s*${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    while (end < lines.length && !closing.test(lines[end]!)) body.push(lines[end++]!);
    if (SHELL_LANGUAGES.has(language.toLowerCase())) {
      blocks.push({
        file,
        line: i + 1,
        language,
        heading,
        ...parseMarker(lines[i - 1]),
        text: body.map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart())).join("\n"),
      });
    }
    i = end;
  }
  return blocks;
}

/**
 * The shell block of `file` under `heading` (the nearest heading above it); `index` picks among
 * several blocks of one section. Throws, listing the file's sections, when there is none: a
 * renamed heading fails the test that reads it instead of silently running nothing.
 */
export function docBlock(file: string, heading: string, index = 0): DocBlock {
  const blocks = shellBlocks(file);
  const found = blocks.filter((block) => block.heading === heading)[index];
  if (!found) {
    const sections = [...new Set(blocks.map((block) => `"${block.heading}"`))].join(", ");
    throw new Error(`${file} has no shell block #${index} under "${heading}"; sections with shell blocks: ${sections}`);
  }
  return found;
}

/**
 * The commands of the one shell block of `file` with a command that starts with `command`, read
 * from the repository at `root` (a fresh copy reads its own docs), for a test that follows a
 * runbook command by command. Throws unless exactly one block has such a command.
 */
export function blockCommandsWith(file: string, command: string, root = REPO_ROOT): string[] {
  const found = shellBlocks(file, root)
    .map((block) => blockCommands(block.text))
    .filter((commands) => commands.some((line) => line.startsWith(command)));
  if (found.length !== 1) throw new Error(`${file}: expected one shell block with a command starting "${command}", found ${found.length}`);
  return found[0]!;
}

/**
 * The commands of a block as a shell reads them: backslash continuations joined, a here-document
 * kept with the command that opens it, comment-only and blank lines dropped. Compound commands
 * spanning lines (`for … done`) are kept whole.
 */
export function blockCommands(text: string): string[] {
  const commands: string[] = [];
  const lines = text.split("\n");
  let current: string[] = [];
  let heredoc: string | undefined;
  let depth = 0;
  for (const line of lines) {
    if (heredoc !== undefined) {
      current.push(line);
      if (line.trim() === heredoc) heredoc = undefined;
    } else {
      if (current.length === 0 && (line.trim() === "" || line.trim().startsWith("#"))) continue;
      current.push(line);
      heredoc = /<<-?\s*['"]?(\w+)['"]?/.exec(line)?.[1];
      depth += (line.match(/^\s*(for|while|until|if|case)\b/) ? 1 : 0) - (line.match(/^\s*(done|fi|esac)\b/) ? 1 : 0);
    }
    if (heredoc === undefined && depth === 0 && !line.endsWith("\\")) {
      commands.push(current.join("\n"));
      current = [];
    }
  }
  if (current.length > 0) commands.push(current.join("\n"));
  return commands;
}

/** Inline code spans (`…`) of `file` that start with `program `, e.g. every `talosctl …` mentioned in prose. */
export function inlineCommands(file: string, program: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8").replace(/^\s*(`{3,}|~{3,})[\s\S]*?^\s*\1\s*$/gm, "");
  return [...text.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!).filter((span) => span.startsWith(`${program} `));
}
