/**
 * A synthesized stack applied with OpenTofu against its own moto server: the shared set-up of
 * integration tests that exercise one feature of the deployed stack.
 */
import { AwsApi } from "./aws-api.js";
import { MotoServer, standInAmis, type MotoOptions } from "./moto.js";
import { synthProject } from "./project.js";
import { scratchDir } from "./processes.js";
import type { SiteConfig } from "../../config/schema.js";
import { motoProxyEnv, motoTargets, Tofu, writeMotoOverride } from "./tofu.js";
import { toolchain, type Toolchain } from "./toolchain.js";

export interface MotoStack {
  readonly tools: Toolchain;
  readonly moto: MotoServer;
  readonly api: AwsApi;
  readonly tofu: Tofu;
  readonly stackDir: string;
  /** Destroys what was applied, then stops the API client and moto. */
  close(): Promise<void>;
}

/** Synthesizes `override` in a scratch project, applies it against a fresh moto server (stand-in AMIs for `site`). */
export async function applyAgainstMoto(name: string, site: Readonly<SiteConfig>, override: Readonly<Record<string, unknown>>, options: Omit<MotoOptions, "amis"> = {}): Promise<MotoStack> {
  const tools = toolchain();
  const moto = await MotoServer.start(tools.venv, { ...options, amis: standInAmis(site) });
  const api = new AwsApi(tools.venv, moto.endpoint, site.aws.region);
  let applied = false;
  const close = async () => {
    if (applied) await tofu.destroy().catch(() => undefined);
    api.close();
    await moto.stop();
  };
  const { stackDir, json } = await synthProject(scratchDir(name), override);
  const targets = motoTargets(json);
  writeMotoOverride(stackDir, moto.endpoint, tools.awsProviderVersion, targets);
  const tofu = new Tofu(tools, stackDir, motoProxyEnv(moto.endpoint, targets));
  try {
    await tofu.init();
    applied = true; // from here on a failure may have created something: destroy it
    await tofu.apply();
  } catch (error) {
    await close();
    throw error;
  }
  return { tools, moto, api, tofu, stackDir, close };
}
