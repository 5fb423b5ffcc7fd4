/**
 * Shell building blocks shared by every rendered script. The scripts themselves are shell source
 * files beside their renderers (templates/*.sh, bundled as text), so shellcheck reads them as
 * written; a renderer only prepends the config's values as quoted assignments. Every value that
 * reaches a script goes through `shellQuote`, so no config string can be read as shell syntax.
 */

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string | number): string {
  return `'${String(value).replace(/'/g, `'"'"'`)}'`;
}

/** A value a script receives: a scalar, or a bash array of scalars. */
export type ShellValue = string | number | readonly (string | number)[];

/** `NAME='value'` (or `NAME=('a' 'b')`) assignment lines, one per entry. */
export function shellAssignments(vars: Readonly<Record<string, ShellValue>>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`invalid shell variable name: ${name}`);
      return typeof value === "object" ? `${name}=(${value.map(shellQuote).join(" ")})` : `${name}=${shellQuote(value)}`;
    })
    .join("\n");
}

/**
 * The part of a shell source file that reaches rendered scripts: everything after its header, the
 * comment block (shebang, shellcheck directives, what the file does and which inputs it reads) that
 * ends at the first blank line.
 */
function shellBody(source: string): string {
  const end = source.indexOf("\n\n");
  if (!source.startsWith("#!/bin/bash\n") || end < 0) throw new Error("a shell source file starts with #!/bin/bash and a header that ends at a blank line");
  return source.slice(end + 2);
}

/**
 * A rendered script: the shebang, a one-line description naming its source files, the config's
 * values as quoted assignments, then the bodies of the source files in order, a blank line between
 * them. Comment lines stay in the source files: EC2 caps user-data at 16 KB, and the bastion's
 * user-data carries every script.
 */
export function renderShellScript(description: string, values: Readonly<Record<string, ShellValue>>, sources: Readonly<Record<string, string>>): string {
  const bodies = Object.values(sources).map((source) => shellBody(source).replace(/^[ \t]*#.*\n/gm, ""));
  return `#!/bin/bash\n# ${description} Source: ${Object.keys(sources).map((name) => `templates/${name}`).join(", ")}.\n${shellAssignments(values)}\n${bodies.join("\n")}`;
}

