/**
 * `npm run render -- --site home [--out DIR] [--force]`: writes the netboot bundle of a site
 * (compose.yaml, dnsmasq, matchbox, registry and Pi-hole configs, the Talos asset script) and
 * nothing else: no AWS resources, no secrets. The bundle is what the AWS bastion runs; at home
 * it is copied to the fileserver and started with `docker compose up -d`.
 * It is written all at once or not at all (ops/write-bundle.ts); a non-empty --out is replaced
 * only with --force.
 */
import { join, resolve } from "node:path";
import { loadSiteConfig } from "../config/load.js";
import { SITES, type SiteName } from "../config/sites.js";
import { renderBastionBundle } from "../templates/bundle.js";
import { RenderError, writeBundle } from "../ops/write-bundle.js";
import { parseCommandLine, parseSite, runCommand, type CommandSpec } from "./cli.js";

interface RenderOptions {
  readonly site: SiteName;
  /** Absolute path of the bundle dir. */
  readonly out: string;
  /** Replace a non-empty --out. */
  readonly force: boolean;
}

const USAGE = `usage: npm run render -- --site <${Object.keys(SITES).join("|")}> [--out <dir>] [--force]
  --site   built-in site to render (DEATHSTAR_CONFIG may name an override file, as for synth)
  --out    bundle dir (default: bundle/<site>); must be empty or absent unless --force
  --force  replace a non-empty --out as a whole`;

const COMMAND: CommandSpec = { name: "render", usage: USAGE };

/** The options of a command line (`--help` is the runner's). */
function parseRenderArgs(argv: readonly string[], cwd: string): RenderOptions {
  const { values } = parseCommandLine(COMMAND, argv, { site: { type: "string" }, out: { type: "string" }, force: { type: "boolean", default: false } });
  const site = parseSite(values.site, USAGE);
  if (values.out === "") throw new RenderError(`--out must not be empty\n${USAGE}`);
  return { site, out: resolve(cwd, values.out ?? join("bundle", site)), force: values.force ?? false };
}

function main(argv: readonly string[]): void {
  const options = parseRenderArgs(argv, process.cwd());
  const config = loadSiteConfig({ site: options.site });
  const files = renderBastionBundle(config);
  writeBundle(files, options.out, options.force);
  process.stdout.write(
    `wrote the ${config.site.name} bundle (${Object.keys(files).length} files) to ${options.out}\n` +
      'next: copy it to the netboot host and follow docs/bastion.md, "At home" (Pi-hole password, arm64 iPXE, Talos assets, docker compose up -d)\n',
  );
}

runCommand(COMMAND, main);
