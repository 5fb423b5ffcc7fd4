import { gunzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { type SecurityRule } from "./rule.js";
import { nestedBlocks, stringLeaves, type SynthesizedBlock } from "../synthesized.js";

/** Values that are credentials whatever their context. */
const KEY_MATERIAL: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: "a private key block", pattern: /-----BEGIN (?!CERTIFICATE|TRUSTED CERTIFICATE|PUBLIC KEY|X509 CRL)[A-Z0-9 ]*-----/ },
  { name: "an AWS access key id", pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "a Tailscale key", pattern: /\btskey-[A-Za-z0-9-]{6,}/ },
  { name: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/ },
  { name: "a Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
];

/** Names that announce a secret: a value next to them must be a reference, not the secret. */
const SECRET_NAME = /(password|passwd|secret|token|authkey|auth[_-]key|api[_-]?key|private[_-]?key)$/i;

/**
 * A value that points at a secret instead of being one: a shell/template expansion, an SSM
 * parameter name ("/deathstar/..."), a file reference (tailscale --auth-key=file:...) or a
 * Terraform reference ("${...}").
 */
function isSecretReference(value: string): boolean {
  return value === "" || /^(\$|\/|file:|\{\{)/.test(value);
}

/** `NAME=value`, `name: value` and `--name=value` assignments in scripts and config text. */
const ASSIGNMENT = /([A-Za-z0-9_-]+)[ \t]*[:=][ \t]*(["']?)([^\s"']*)/g;

export function secretsInText(text: string): string[] {
  const found = KEY_MATERIAL.filter(({ pattern }) => pattern.test(text)).map(({ name }) => `contains ${name}`);
  for (const [, name, , value] of text.matchAll(ASSIGNMENT)) {
    if (SECRET_NAME.test(name!) && !isSecretReference(value!)) found.push(`assigns a literal to ${name}`);
  }
  return found;
}

function secretsInPair(key: string, value: unknown): string[] {
  const text = typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
  const found = KEY_MATERIAL.filter(({ pattern }) => pattern.test(text)).map(({ name }) => `contains ${name}`);
  if (SECRET_NAME.test(key) && !isSecretReference(text)) found.push(`holds a literal value under a secret's name`);
  return found;
}

/** User-data as the instance sees it: base64-decoded and gunzipped when it is. */
export function decodeUserData(value: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return value;
  const bytes = Buffer.from(value, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzipSync(bytes).toString("utf8");
  const text = bytes.toString("utf8");
  // Text that happens to be valid base64 ("true", "abcd") decodes to binary: keep it as it was.
  return /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes("\ufffd") ? text : value;
}

/**
 * Every text the user-data delivers: the decoded document and, for `#cloud-config`, each
 * `write_files` entry decoded from its `encoding` (b64, gz+b64...), where a secret could hide twice encoded.
 */
export function userDataTexts(value: string): string[] {
  const document = decodeUserData(value);
  if (!document.startsWith("#cloud-config")) return [document];
  let parsed: unknown;
  try {
    parsed = parseYaml(document);
  } catch {
    return [document];
  }
  const files = nestedBlocks((parsed as Record<string, unknown> | null)?.write_files);
  const embedded = files.flatMap((file) => {
    if (typeof file.content !== "string") return [];
    const encoding = typeof file.encoding === "string" ? file.encoding.toLowerCase() : "text/plain";
    if (!/^(b64|base64|gz\+b64|gz\+base64|gzip\+b64|gzip\+base64)$/.test(encoding)) return [];
    const bytes = Buffer.from(file.content, "base64");
    return [(encoding.startsWith("gz") ? gunzipSync(bytes) : bytes).toString("utf8")];
  });
  return [document, ...embedded];
}

/** [where, key, value] of every tag a block sets, in any of the shapes providers use. */
function tags(block: SynthesizedBlock): [string, string, unknown][] {
  const a = block.attributes;
  const entries = (where: string, map: unknown) =>
    typeof map === "object" && map !== null ? Object.entries(map).map(([k, v]) => [`${where}.${k}`, k, v] as [string, string, unknown]) : [];
  return [
    ...entries("tags", a.tags),
    ...entries("tags_all", a.tags_all),
    ...nestedBlocks(a.tag_specifications).flatMap((spec, i) => entries(`tag_specifications.${i}.tags`, spec.tags)),
    ...nestedBlocks(a.tag).map((tag, i) => [`tag.${i}.value`, String(tag.key), tag.value] as [string, string, unknown]),
    ...nestedBlocks(a.default_tags).flatMap((dt, i) => entries(`default_tags.${i}.tags`, dt.tags)),
  ];
}

function blockProblems(block: SynthesizedBlock): string[] {
  const a = block.attributes;
  const problems: string[] = [];
  for (const key of ["user_data", "user_data_base64"]) {
    if (typeof a[key] === "string") problems.push(...userDataTexts(a[key]).flatMap(secretsInText).map((p) => `${key} ${p}`));
  }
  for (const [where, key, value] of tags(block)) problems.push(...secretsInPair(key, value).map((p) => `${where} ${p}`));
  if (block.kind === "output") {
    problems.push(...secretsInPair(block.name, a.value).map((p) => `value ${p}`));
    const exposed = /ssm_parameter\.[A-Za-z0-9_-]+\.(value|insecure_value)\b/.exec(JSON.stringify(a.value ?? ""));
    if (exposed) problems.push(`value exposes ${exposed[0]} (outputs are printed and stored in state)`);
  }
  if (block.kind === "variable") problems.push(...secretsInPair(block.name, a.default).map((p) => `default ${p}`));
  // Values in SSM resources or decrypted reads land in the state file.
  if (block.kind === "resource" && block.type === "aws_ssm_parameter" && (a.value !== undefined || a.insecure_value !== undefined)) {
    problems.push("sets the parameter's value, which is then stored in state; create the SecureString out of band and reference it by name");
  }
  if (block.kind === "data" && block.type === "aws_ssm_parameter" && a.with_decryption !== false) {
    problems.push("reads the decrypted value into state; read it on the instance at boot instead (with_decryption = false if only metadata is needed)");
  }
  // Unmistakable key material is a leak wherever it sits (the same finding from a tag or output is reported once).
  for (const leaf of stringLeaves(a)) {
    for (const { name, pattern } of KEY_MATERIAL) if (pattern.test(leaf.value)) problems.push(`${leaf.path} contains ${name}`);
  }
  return [...new Set(problems)];
}

/** Secrets live in SSM Parameter Store and are read by name at boot; their values never reach the stack. */
export const noSecrets: SecurityRule = {
  id: "DS-NO-SECRETS",
  explanation: "No secret-looking value (password, token, auth key, key material) sits in user-data, tags, outputs, variable defaults or any attribute, and no secret value is stored in state.",
  fix: "Store the secret as an SSM SecureString, put its parameter name in config (bastion.secrets) and read the value on the instance at boot.",
  check(block) {
    return block.kind === "provider" || block.kind === "resource" || block.kind === "data" || block.kind === "output" || block.kind === "variable"
      ? blockProblems(block)
      : [];
  },
};
