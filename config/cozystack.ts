/**
 * CozyStack releases this lab knows how to install: each release is built and tested against one
 * Talos version, so the site pins a release and `talos.version` must be that release's Talos.
 * Every fact below names the release's own file it was read from (tag and commit), so moving the
 * pin means reading the new release's files, not guessing.
 */

/** A CozyStack bundle (the ConfigMap's `bundle-name`) and what it needs from the nodes. */
export interface CozystackBundle {
  /** Runs KubeVirt, which needs /dev/kvm: only bare-metal instance types have it. */
  readonly needsKvm: boolean;
  /** What the bundle installs, in a few words, for docs and messages. */
  readonly summary: string;
}

/** One supported CozyStack release. */
export interface CozystackRelease {
  /** Commit of the release tag in github.com/cozystack/cozystack. */
  readonly commit: string;
  /** The Talos release CozyStack builds its installer image from and tests against. */
  readonly talosVersion: string;
  /** Where `talosVersion` comes from: the release's imager profile (`version:`). */
  readonly talosVersionSource: string;
  /**
   * The install flow the release documents: "configmap" = create namespace cozy-system, apply the
   * `cozystack` ConfigMap, apply the release's installer manifest (CozyStack 0.x).
   */
  readonly installFlow: "configmap";
  /** The installer manifest, a release asset built by the release's Makefile (`helm template` of packages/core/installer). */
  readonly installerManifest: string;
  /** Where the install commands come from. */
  readonly installFlowSource: string;
  /** The Talos machine-config patch the release applies to its own test cluster; `__tests__/fixtures/cozystack/` holds a copy. */
  readonly talosPatchSource: string;
  /** Bundles for Talos nodes (the `-hosted` bundles are for a Kubernetes CozyStack does not manage). */
  readonly bundles: Readonly<Record<string, CozystackBundle>>;
}

const REPO = "https://github.com/cozystack/cozystack";

export const COZYSTACK_RELEASES = {
  "v0.41.11": {
    commit: "b1dac3c3c963e938b0e7082615987838c22ae5e3",
    talosVersion: "v1.11.6",
    talosVersionSource: `${REPO}/blob/v0.41.11/packages/core/talos/images/talos/profiles/installer.yaml`,
    installFlow: "configmap",
    installerManifest: `${REPO}/releases/download/v0.41.11/cozystack-installer.yaml`,
    installFlowSource: "https://github.com/cozystack/website/blob/main/content/en/docs/v0/install/cozystack/_index.md",
    talosPatchSource: `${REPO}/blob/v0.41.11/hack/e2e-prepare-cluster.bats`,
    bundles: {
      "distro-full": { needsKvm: false, summary: "Kubernetes, Cilium, LINSTOR storage, monitoring and the database operators; no KubeVirt, no Kube-OVN" },
      "paas-full": { needsKvm: true, summary: "distro-full plus Kube-OVN, KubeVirt virtual machines, tenant Kubernetes clusters and the dashboard" },
    },
  },
} as const satisfies Readonly<Record<string, CozystackRelease>>;

export type CozystackVersion = keyof typeof COZYSTACK_RELEASES;

/** The release the built-in sites pin. */
export const PINNED_COZYSTACK_VERSION: CozystackVersion = "v0.41.11";

