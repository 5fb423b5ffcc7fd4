/**
 * `npm run render:talos -- --out <dir> [--site aws|home]`: writes the Talos machine-config
 * patches and a README with the exact talosctl commands for the configured site (DEATHSTAR_CONFIG
 * overrides apply). The folder is replaced whole, so a patch dropped from the config disappears.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadSiteConfig } from "../config/load.js";
import { SITES, type SiteName } from "../config/sites.js";
import { renderTalosFiles, TALOS_PATCH_DIR } from "../templates/talos-patches.js";

function main(): void {
  const { values } = parseArgs({
    options: { out: { type: "string", default: "talos" }, site: { type: "string", default: "aws" } },
    strict: true,
  });
  const site = values.site as string;
  if (!(site in SITES)) throw new ConfigError([`--site: "${site}" is not one of ${Object.keys(SITES).join(", ")}`], "render:talos");
  const config = loadSiteConfig({ site: site as SiteName });
  const out = values.out as string;
  const files = renderTalosFiles(config, out);

  // Only the rendered patch folder is replaced; secrets and generated configs beside it stay.
  const patchDir = resolve(out, TALOS_PATCH_DIR);
  const scratch = `${patchDir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    const target = path.startsWith(`${TALOS_PATCH_DIR}/`) ? join(scratch, path.slice(TALOS_PATCH_DIR.length + 1)) : resolve(out, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  rmSync(patchDir, { recursive: true, force: true });
  renameSync(scratch, patchDir);
  process.stdout.write(`${Object.keys(files).map((path) => join(out, path)).join("\n")}\n`);
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
