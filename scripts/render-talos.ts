/**
 * `npm run render:talos -- --out <dir> [--site aws|home]`: writes the Talos machine-config
 * patches and a README with the exact talosctl commands for the configured site (DEATHSTAR_CONFIG
 * overrides apply). The folder is replaced whole, so a patch dropped from the config disappears.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadSiteConfig } from "../config/load.js";
import { replaceDirAtomically, writeFileAtomically } from "../lib/replace-dir.js";
import { SITES } from "../config/sites.js";
import { renderTalosFiles, TALOS_PATCH_DIR } from "../templates/talos-patches.js";
import { parseCommandLine, parseSite, runCommand, type CommandSpec } from "./cli.js";

const COMMAND: CommandSpec = {
  name: "render:talos",
  usage: `usage: npm run render:talos -- [--out <dir>] [--site <${Object.keys(SITES).join("|")}>]
  --out   folder of the patches and README (default: talos); only its patches/ folder is replaced
  --site  built-in site (default: aws; DEATHSTAR_CONFIG may name an override file, as for synth)`,
};

function main(argv: readonly string[]): void {
  const { values } = parseCommandLine(COMMAND, argv, { out: { type: "string", default: "talos" }, site: { type: "string", default: "aws" } });
  const config = loadSiteConfig({ site: parseSite(values.site, COMMAND.usage) });
  const out = values.out as string;
  const files = renderTalosFiles(config, out);

  // Only the rendered patch folder is replaced, as a whole; secrets and generated configs beside it stay.
  const prefix = `${TALOS_PATCH_DIR}/`;
  const entries = Object.entries(files);
  replaceDirAtomically(resolve(out, TALOS_PATCH_DIR), (scratch) => {
    for (const [path, content] of entries.filter(([path]) => path.startsWith(prefix))) {
      const target = join(scratch, path.slice(prefix.length));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  });
  for (const [path, content] of entries.filter(([path]) => !path.startsWith(prefix))) writeFileAtomically(resolve(out, path), content);
  process.stdout.write(`${Object.keys(files).map((path) => join(out, path)).join("\n")}\n`);
}

runCommand(COMMAND, main);
