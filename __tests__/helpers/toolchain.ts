/**
 * The cached toolchain written by scripts/setup.sh (`npm test` runs it first): paths of tofu,
 * the provider mirror's CLI config, the Python venv with moto and checkov, matchbox, Compose and talosctl.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "deathstar");

export interface Toolchain {
  readonly tofu: string;
  readonly tofuVersion: string;
  readonly awsProviderVersion: string;
  /** TF_CLI_CONFIG_FILE pointing tofu at the offline provider mirror. */
  readonly cliConfigFile: string;
  readonly venv: string;
  /** scripts/compose-check built: loads a compose file with compose-go, as `docker compose` does. */
  readonly composeCheck: string;
  /** scripts/talos-config-check: Talos' machinery generating, patching and validating machine configs. */
  readonly talosConfigCheck: string;
  /** matchbox built from its Go module; absent in a toolchain.env written before it was added. */
  readonly matchbox?: string;
  /** Docker Compose v2 built from its Go module; absent in a toolchain.env written before it was added. */
  readonly compose?: string;
  /** talosctl built from Talos' Go module at the lab's release; absent in a toolchain.env written before it was added. */
  readonly talosctl?: string;
  /** Extra variables for child processes. */
  readonly env: Readonly<Record<string, string>>;
}

export function toolchain(): Toolchain {
  const file = join(CACHE_DIR, "toolchain.env");
  if (!existsSync(file)) throw new Error(`${file} is missing: run "bash scripts/setup.sh" (npm test does) first`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  const get = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${file} has no ${name}`);
    return value;
  };
  return {
    tofu: get("DEATHSTAR_TOFU"),
    tofuVersion: get("DEATHSTAR_TOFU_VERSION"),
    awsProviderVersion: get("DEATHSTAR_AWS_PROVIDER_VERSION"),
    cliConfigFile: get("TF_CLI_CONFIG_FILE"),
    venv: get("DEATHSTAR_VENV"),
    composeCheck: get("DEATHSTAR_COMPOSE_CHECK"),
    talosConfigCheck: get("DEATHSTAR_TALOS_CONFIG_CHECK"),
    ...(env.DEATHSTAR_MATCHBOX ? { matchbox: env.DEATHSTAR_MATCHBOX } : {}),
    ...(env.DEATHSTAR_COMPOSE ? { compose: env.DEATHSTAR_COMPOSE } : {}),
    ...(env.DEATHSTAR_TALOSCTL ? { talosctl: env.DEATHSTAR_TALOSCTL } : {}),
    env,
  };
}
