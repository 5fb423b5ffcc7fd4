/**
 * The adopt file: what `npm run adopt` decided about an existing state, and what the stack turns
 * into `moved` / `import` blocks at synth (config `existing.adoptFile`). Written by one command,
 * read by the stack; this schema is the contract between them.
 */
import { z } from "zod";
import { ConfigError, readRegularFile } from "./load.js";
import { ParseError, parseJson } from "./parse.js";

/** An adopt file lists a few dozen decisions; this leaves room for thousands. */
const MAX_ADOPT_FILE_BYTES = 4 * 1024 * 1024;

/** `type.name`, optionally inside modules and with an instance key: an OpenTofu resource address. */
const address = z
  .string()
  .max(512)
  .regex(/^(module\.[A-Za-z_][A-Za-z0-9_-]*(\[[^\]]+\])?\.)*[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[[^\]]+\])?$/, "must be a resource address");
/** Our own resources: root module, no instance key. */
const ownAddress = z.string().max(256).regex(/^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*$/, "must be a root resource address such as aws_vpc.main");

export const adoptFileSchema = z.strictObject({
  version: z.literal(1),
  /** The state file the decisions were made from (informational). */
  state: z.string().max(1024),
  /** Same state: rename the existing object to our address. */
  moved: z.array(z.strictObject({ from: address, to: ownAddress })),
  /** Other state (or none), or a route written inline in a table: take the object over by its import id. */
  import: z.array(z.strictObject({ to: ownAddress, id: z.string().min(1).max(1024) })),
  /**
   * Same state, `--unmatched forget`: old resources nothing matched leave the state and stay in
   * AWS (`removed` blocks with `destroy = false`). Resource addresses without instance keys.
   * @default none: the next apply destroys them
   */
  removed: z.array(z.strictObject({ from: address.refine((v) => !v.includes("["), { message: "must have no instance key" }) })).optional(),
  /**
   * Attributes set to the existing object's value because changing them would replace it
   * (e.g. a security group's description): adoption never destroys what it matched. Also
   * `count = 0` on our rule where the old group holds the same rule inline: it stays inline.
   */
  keep: z.array(z.strictObject({ address: ownAddress, attribute: z.string().regex(/^[a-z][a-z0-9_]*$/), value: z.unknown() })),
});

export type AdoptFile = z.infer<typeof adoptFileSchema>;

export function readAdoptFile(path: string): AdoptFile {
  const text = readRegularFile(path, MAX_ADOPT_FILE_BYTES, "existing.adoptFile");
  let parsed: unknown;
  try {
    parsed = parseJson(text, 16);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const where = error.at ? ` (line ${error.at.line}, column ${error.at.column})` : "";
    throw new ConfigError([`existing.adoptFile: ${path} is not valid JSON${where}: ${error.message}; run "npm run adopt" again`], path);
  }
  const result = adoptFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `existing.adoptFile ${issue.path.join(".")}: ${issue.message}`), path);
  }
  return result.data;
}
