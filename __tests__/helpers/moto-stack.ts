/**
 * A synthesized stack applied with OpenTofu against its own moto server: the shared set-up of
 * integration tests that exercise one feature of the deployed stack.
 *
 * Closing stops moto without a `tofu destroy` first: the account goes with the server, and a
 * destroy of the default stack spends over two minutes in the provider's waiters (the dead-letter
 * queue alone: 15 consecutive "gone" reads) to prove nothing these tests ask. Destroy is asserted
 * where it is the subject: lifecycle.test.ts, existing-state.test.ts and the runbooks.
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
  /** Stops the API client and moto (with it, everything applied). */
  close(): Promise<void>;
}

/** Synthesizes `override` in a scratch project, applies it against a fresh moto server (stand-in AMIs for `site`). */
export async function applyAgainstMoto(name: string, site: Readonly<SiteConfig>, override: Readonly<Record<string, unknown>>, options: Omit<MotoOptions, "amis"> = {}): Promise<MotoStack> {
  const tools = toolchain();
  const moto = await MotoServer.start(tools.venv, { ...options, amis: standInAmis(site) });
  const api = new AwsApi(tools.venv, moto.endpoint, site.aws.region);
  const close = async () => {
    api.close();
    await moto.stop();
  };
  const { stackDir, json } = await synthProject(scratchDir(name), override);
  const targets = motoTargets(json);
  writeMotoOverride(stackDir, moto.endpoint, tools.awsProviderVersion, targets);
  const tofu = new Tofu(tools, stackDir, motoProxyEnv(moto.endpoint, targets));
  try {
    await tofu.init();
    await tofu.apply();
  } catch (error) {
    await close();
    throw error;
  }
  return { tools, moto, api, tofu, stackDir, close };
}
