/**
 * CozyStack releases this lab knows how to install: each release is built and tested against one
 * Talos version, so the site pins a release and `talos.version` must be that release's Talos.
 * Every fact below names the release's own file it was read from (tag and commit), so moving the
 * pin means reading the new release's files, not guessing.
 */

/** Image architectures as container registries and Talos name them (Go's GOARCH). */
export type ImageArchitecture = "amd64" | "arm64";

/**
 * A CozyStack bundle and what it needs from the nodes. In 0.x a bundle is the ConfigMap's
 * `bundle-name`; in 1.x it is the platform `Package`'s `variant` with some of its bundles turned off.
 */
export interface CozystackBundle {
  /** Runs KubeVirt, which needs /dev/kvm: only bare-metal instance types have it. */
  readonly needsKvm: boolean;
  /** What the bundle installs, in a few words, for docs and messages. */
  readonly summary: string;
  /** 1.x: the platform Package's `spec.variant`. */
  readonly variant?: string;
  /** 1.x: the variant's bundles this lab turns off (`bundles.<name>.enabled: false` in the Package's platform values). */
  readonly disabledBundles?: readonly string[];
}

/**
 * How a release installs. "configmap" (0.x): create namespace cozy-system, apply the `cozystack`
 * ConfigMap, apply the release's installer manifest. "operator" (1.x): apply the release's
 * cozystack-operator manifest (namespace and operator; the operator installs its CRDs and the
 * platform PackageSource), then a platform `Package`.
 */
export type CozystackInstallFlow = "configmap" | "operator";

/** One supported CozyStack release. */
export interface CozystackRelease {
  /** Commit of the release tag in github.com/cozystack/cozystack. */
  readonly commit: string;
  /** The Talos release CozyStack builds its installer image from and tests against. */
  readonly talosVersion: string;
  /** Where `talosVersion` comes from: the release's imager profile (`version:`). */
  readonly talosVersionSource: string;
  /**
   * The architectures the release publishes images and Talos assets for. A node of another
   * architecture pulls a manifest without its platform (no matching manifest) or an amd64 binary
   * (exec format error) at the install's first pod.
   */
  readonly imageArchitectures: readonly ImageArchitecture[];
  /** The release's files that say which architectures it builds, each with what it says. */
  readonly imageArchitectureSources: readonly string[];
  readonly installFlow: CozystackInstallFlow;
  /**
   * The manifest the install applies, a release asset built by the release's Makefile (`helm
   * template` of packages/core/installer): the whole installer in 0.x, the operator in 1.x.
   */
  readonly installerManifest: string;
  /** Where the install commands come from. */
  readonly installFlowSource: string;
  /**
   * The Kubernetes version the release's own test cluster runs (`talosctl gen config
   * --kubernetes-version`), when the release pins one: a newer talosctl defaults to a Kubernetes
   * the release does not support.
   */
  readonly kubernetesVersion?: string;
  /** The Talos machine-config patch the release applies to its own test cluster; `__tests__/fixtures/cozystack/` holds a copy. */
  readonly talosPatchSource: string;
  /** Bundles for Talos nodes (the hosted and generic variants are for a Kubernetes CozyStack does not manage). */
  readonly bundles: Readonly<Record<string, CozystackBundle>>;
}

const REPO = "https://github.com/cozystack/cozystack";
const at = (tag: string, path: string) => `${REPO}/blob/${tag}/${path}`;

export const COZYSTACK_RELEASES = {
  "v0.41.11": {
    commit: "b1dac3c3c963e938b0e7082615987838c22ae5e3",
    talosVersion: "v1.11.6",
    talosVersionSource: at("v0.41.11", "packages/core/talos/images/talos/profiles/installer.yaml"),
    imageArchitectures: ["amd64"],
    imageArchitectureSources: [
      `${at("v0.41.11", "packages/core/talos/images/talos/profiles/installer.yaml")} (arch: amd64)`,
      `${at("v0.41.11", "hack/upload-assets.sh")} (release assets kernel-amd64, metal-amd64, nocloud-amd64 only)`,
      `${at("v0.41.11", "scripts/common-envs.mk")} (PLATFORM ?= empty: images are built for the build machine's amd64 only)`,
    ],
    installFlow: "configmap",
    installerManifest: `${REPO}/releases/download/v0.41.11/cozystack-installer.yaml`,
    installFlowSource: "https://github.com/cozystack/website/blob/main/content/en/docs/v0/install/cozystack/_index.md",
    talosPatchSource: at("v0.41.11", "hack/e2e-prepare-cluster.bats"),
    bundles: {
      // packages/core/platform/bundles/distro-full.yaml: monitoring and the operators are `optional: true`.
      "distro-full": {
        needsKvm: false,
        summary: "Kubernetes, Cilium, cert-manager, LINSTOR storage, MetalLB; monitoring and the database operators only when listed in bundle-enable (optional); no KubeVirt, no Kube-OVN",
      },
      "paas-full": { needsKvm: true, summary: "distro-full plus Kube-OVN, KubeVirt virtual machines, tenant Kubernetes clusters and the dashboard" },
    },
  },
  "v1.6.2": {
    commit: "bfde94fd26d35c5f0281a1285f194e7ca3041b6a",
    talosVersion: "v1.13.6",
    talosVersionSource: at("v1.6.2", "packages/core/talos/images/talos/profiles/installer.yaml"),
    imageArchitectures: ["amd64"],
    imageArchitectureSources: [
      `${at("v1.6.2", "packages/core/talos/images/talos/profiles/installer.yaml")} (arch: amd64)`,
      `${at("v1.6.2", "hack/upload-assets.sh")} (release assets kernel-amd64, metal-amd64, nocloud-amd64 only)`,
      `${at("v1.6.2", "hack/common-envs.mk")} (PLATFORM ?= empty: images are built for the build machine's amd64 only)`,
      `${at("v1.6.2", "packages/system/dashboard/Makefile")} (--platform=linux/amd64)`,
    ],
    installFlow: "operator",
    // The Makefile's `manifests` target renders it (helm template of packages/core/installer,
    // variant talos); hack/upload-assets.sh attaches it to the release.
    installerManifest: `${REPO}/releases/download/v1.6.2/cozystack-operator-talos.yaml`,
    installFlowSource: at("v1.6.2", "hack/e2e-install-cozystack.bats"),
    kubernetesVersion: "v1.33.12",
    talosPatchSource: at("v1.6.2", "hack/e2e-prepare-cluster.bats"),
    bundles: {
      // packages/core/platform/values-isp-full.yaml turns on the iaas, paas and naas bundles;
      // templates/bundles/iaas.yaml installs KubeVirt, its CDI and the tenant clusters.
      "isp-full": {
        needsKvm: true,
        variant: "isp-full",
        summary: "the release's own test install: Kube-OVN and Cilium, LINSTOR, the iaas bundle (KubeVirt, tenant Kubernetes clusters), paas and naas",
      },
      "isp-full-no-iaas": {
        needsKvm: false,
        variant: "isp-full",
        disabledBundles: ["iaas"],
        summary: "isp-full without its iaas bundle: no KubeVirt, no tenant clusters; networking, LINSTOR, paas and naas",
      },
    },
  },
} as const satisfies Readonly<Record<string, CozystackRelease>>;

export type CozystackVersion = keyof typeof COZYSTACK_RELEASES;

/**
 * The release the built-in sites pin: the newest whose Talos minor line (1.11) the lab's
 * toolchain validates (scripts/talos-config-check pins Talos' machinery at its Talos version,
 * scripts/toolchain.sh builds talosctl v1.11.5 for the docs' flag checks). v1.6.2 is selectable;
 * docs/cozystack.md, "Which release", gives the reasons and what moving the pin takes.
 */
export const PINNED_COZYSTACK_VERSION: CozystackVersion = "v0.41.11";

export function cozystackRelease(version: CozystackVersion): CozystackRelease {
  return COZYSTACK_RELEASES[version];
}

/** The bundle names of every release, for the schema (a rule checks that the bundle is the release's). */
export const COZYSTACK_BUNDLE_NAMES = [...new Set(Object.values(COZYSTACK_RELEASES).flatMap((r) => Object.keys(r.bundles)))] as [string, ...string[]];

/** The upstream tracker issue of CozyStack on ARM ("[Epic] Cozystack on ARM", open). */
export const COZYSTACK_ARM_ISSUE = "cozystack/cozystack#903";

/**
 * CozyStack's documented "small lab" node: 4 cores, 16 GB RAM, a 32 GB system disk
 * (cozystack.io, Getting started → Hardware requirements).
 */
export const COZYSTACK_MIN_NODE = { vcpus: 4, memoryGiB: 16, systemDiskGb: 32 } as const;
