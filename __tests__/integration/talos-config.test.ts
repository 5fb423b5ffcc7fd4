/**
 * The rendered Talos patches through Talos' own config machinery (scripts/talos-config-check, built
 * by the toolchain from github.com/siderolabs/talos/pkg/machinery at the lab's Talos release): generate a
 * control-plane config as `talosctl gen config` does, apply the patches as `--config-patch`,
 * `--config-patch-control-plane` and `apply-config --config-patch` do, validate strictly.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { AMD64_COZYSTACK_OVERRIDE, siteConfig } from "../helpers/synth.js";
import { toolchain } from "../helpers/toolchain.js";
import type { SiteConfig } from "../../config/schema.js";
import { renderTalosPatches, TALOS_PATCH_DIR } from "../../templates/talos-patches.js";
import { kubernetesEndpoint } from "../../templates/talos-cluster.js";
import { talosNodeName } from "../../config/site-view.js";
import { talosInstallImage } from "../../templates/talos-assets.js";
import { scratchDir } from "../helpers/processes.js";

let checker = "";
const work = scratchDir("talos-config");

interface CheckResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Writes `files` under a fresh folder and runs the checker with the given patch arguments. */
function check(config: Readonly<SiteConfig>, files: Record<string, string>, args: (dir: string) => string[]): CheckResult {
  const dir = scratchDir("case", work);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const result = spawnSync(
    checker,
    ["-cluster", config.talos.clusterName, "-endpoint", kubernetesEndpoint(config), "-talos-version", config.talos.version, ...args(dir)],
    { encoding: "utf8", timeout: 60_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The arguments the rendered README's talosctl commands use, for node `index`. */
function renderedArgs(config: Readonly<SiteConfig>, index: number) {
  return (dir: string) => [
    "-patch", `@${dir}/${TALOS_PATCH_DIR}/common.yaml`,
    ...(config.talos.cozystack.enabled ? ["-patch", `@${dir}/${TALOS_PATCH_DIR}/cozystack.yaml`] : []),
    "-patch-control-plane", `@${dir}/${TALOS_PATCH_DIR}/controlplane.yaml`,
    "-node-patch", `@${dir}/${TALOS_PATCH_DIR}/nodes/${talosNodeName(index)}.yaml`,
  ];
}

beforeAll(() => {
  checker = toolchain().talosConfigCheck;
});

describe("rendered patches pass Talos' strict validation", () => {
  const cases: [string, Readonly<SiteConfig>][] = [
    ["aws site with CozyStack on amd64 nodes", siteConfig(AMD64_COZYSTACK_OVERRIDE)],
    ["aws site without CozyStack (the default)", siteConfig()],
    ["home site", siteConfig({}, "home")],
  ];
  for (const [name, config] of cases) {
    it(`${name}: every node's config validates and keeps the rendered values`, () => {
      config.talos.nodeIps.forEach((_, index) => {
        const result = check(config, renderTalosPatches(config), renderedArgs(config, index));
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        const merged = parse(result.stdout) as {
          machine: {
            type: string;
            network: { hostname: string };
            install: { disk: string; image: string };
            registries: { mirrors: Record<string, { endpoints: string[] }> };
            nodeLabels?: Record<string, string>;
            files?: { path: string; op: string; permissions?: number }[];
          };
          cluster: {
            controlPlane: { endpoint: string };
            network: { cni?: { name: string } };
            allowSchedulingOnControlPlanes: boolean;
            controllerManager?: { extraArgs?: Record<string, string> };
            scheduler?: { extraArgs?: Record<string, string> };
          };
        };
        expect(merged.machine.type).toBe("controlplane");
        expect(merged.machine.network.hostname).toBe(talosNodeName(index));
        expect(merged.machine.install).toMatchObject({ disk: config.talos.installDisk, image: talosInstallImage(config.talos) });
        expect(merged.machine.registries.mirrors["ghcr.io"]!.endpoints).toEqual([`http://${config.bastion.privateIp}:5054`]);
        expect(merged.cluster.controlPlane.endpoint).toBe(`https://${config.talos.nodeIps[0]}:6443`);
        expect(merged.cluster.allowSchedulingOnControlPlanes).toBe(true);
        if (config.talos.cozystack.enabled) {
          expect(merged.cluster.network.cni?.name).toBe("none");
          // The release's own control-plane settings survive Talos' merge: the label Talos gives
          // control planes is gone, the metrics listen on every address, the LVM filter is written.
          expect(merged.machine.nodeLabels ?? {}).not.toHaveProperty("node.kubernetes.io/exclude-from-external-load-balancers");
          expect(merged.cluster.controllerManager?.extraArgs).toMatchObject({ "bind-address": "0.0.0.0" });
          expect(merged.cluster.scheduler?.extraArgs).toMatchObject({ "bind-address": "0.0.0.0" });
          expect(merged.machine.files).toContainEqual(expect.objectContaining({ path: "/etc/lvm/lvm.conf", op: "overwrite", permissions: 0o644 }));
        } else {
          // Talos' own default stays: without CozyStack nothing asks for the label to go.
          expect(merged.machine.nodeLabels).toHaveProperty("node.kubernetes.io/exclude-from-external-load-balancers");
        }
      });
    });
  }
});

describe("the checker rejects what Talos rejects", () => {
  const config = siteConfig();
  const withExtra = (extra: string) => ({ ...renderTalosPatches(config), "extra.yaml": extra });
  const args = (dir: string) => [...renderedArgs(config, 0)(dir), "-patch", `@${dir}/extra.yaml`];

  it("an unknown field", () => {
    const result = check(config, withExtra("machine:\n  kernel:\n    modulez:\n      - name: zfs\n"), args);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("unknown keys found during decoding");
  });

  it("a CNI name Talos does not know", () => {
    const result = check(config, withExtra("cluster:\n  network:\n    cni:\n      name: kube-ovn\n"), args);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("cni name should be one of");
  });
});
