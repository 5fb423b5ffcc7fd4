/**
 * CozyStack's install step for the pinned release (config/cozystack.ts), by the release's own
 * flow: in 0.x the `cozystack` ConfigMap and the installer manifest; in 1.x the operator
 * manifest and a platform `Package`. The networks are the ones the Talos patch gives the
 * cluster, so the two cannot drift. An own build (`talos.cozystack.ownBuild`) installs from its
 * own manifest.
 */
import { stringify } from "yaml";
import { cozystackRelease, type CozystackRelease } from "../config/cozystack.js";
import type { SiteConfig } from "../config/schema.js";
import { kubernetesEndpoint } from "./talos-cluster.js";

/** CozyStack's documented pod and service networks and cluster domain (its talosctl guide and test cluster). */
export const COZYSTACK_POD_SUBNET = "10.244.0.0/16";
export const COZYSTACK_SERVICE_SUBNET = "10.96.0.0/16";
export const COZYSTACK_DNS_DOMAIN = "cozy.local";
/** File name of the 0.x ConfigMap in the rendered folder. */
export const COZYSTACK_CONFIG_FILE = "cozystack-config.yaml";
/** File name of the 1.x platform Package in the rendered folder. */
export const COZYSTACK_PLATFORM_FILE = "cozystack-platform.yaml";
/** Kube-OVN's join network between nodes and pods: the release's documented default. */
export const COZYSTACK_JOIN_CIDR = "100.64.0.0/16";
/**
 * The platform PackageSource the 1.x operator creates at start-up (cmd/cozystack-operator/main.go,
 * installPlatformPackageSource: "cozystack." + the platform source name), and so the Package's name.
 */
const PLATFORM_PACKAGE = "cozystack.cozystack-platform";
/** How long the install commands wait for the operator and its PackageSource, in seconds. */
const OPERATOR_WAIT_SECONDS = 300;

/** The first address of a network: the pod network's gateway. */
function gatewayOf(cidr: string): string {
  const [network = ""] = cidr.split("/");
  const octets = network.split(".").map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join(".");
}

/** The release (or own build) install step's configuration file: the 0.x ConfigMap or the 1.x Package. */
export function cozystackConfigFile(config: Readonly<SiteConfig>): { name: string; content: string } {
  return cozystackRelease(config.talos.cozystack.version).installFlow === "configmap"
    ? { name: COZYSTACK_CONFIG_FILE, content: renderCozystackConfigMap(config) }
    : { name: COZYSTACK_PLATFORM_FILE, content: renderCozystackPlatformPackage(config) };
}

/** The `cozystack` ConfigMap in cozy-system that the 0.x installer reads. */
export function renderCozystackConfigMap(config: Readonly<SiteConfig>): string {
  return stringify(
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cozystack", namespace: "cozy-system" },
      data: {
        "bundle-name": config.talos.cozystack.bundle,
        "root-host": config.services.localDomain,
        "api-server-endpoint": kubernetesEndpoint(config),
        "ipv4-pod-cidr": COZYSTACK_POD_SUBNET,
        "ipv4-pod-gateway": gatewayOf(COZYSTACK_POD_SUBNET),
        "ipv4-svc-cidr": COZYSTACK_SERVICE_SUBNET,
        "ipv4-join-cidr": COZYSTACK_JOIN_CIDR,
      },
    },
    { lineWidth: 0 },
  );
}

/**
 * The platform Package the 1.x operator installs from (the release's hack/e2e-install-cozystack.bats
 * applies the same shape): the bundle's variant, the patch's networks, the site's host and API
 * endpoint, and the variant's bundles the lab turns off.
 */
export function renderCozystackPlatformPackage(config: Readonly<SiteConfig>): string {
  const bundle = cozystackRelease(config.talos.cozystack.version).bundles[config.talos.cozystack.bundle];
  const disabled = bundle?.disabledBundles ?? [];
  return stringify(
    {
      apiVersion: "cozystack.io/v1alpha1",
      kind: "Package",
      metadata: { name: PLATFORM_PACKAGE },
      spec: {
        variant: bundle?.variant,
        components: {
          platform: {
            values: {
              networking: {
                podCIDR: COZYSTACK_POD_SUBNET,
                podGateway: gatewayOf(COZYSTACK_POD_SUBNET),
                serviceCIDR: COZYSTACK_SERVICE_SUBNET,
                joinCIDR: COZYSTACK_JOIN_CIDR,
              },
              publishing: { host: config.services.localDomain, apiServerEndpoint: kubernetesEndpoint(config) },
              ...(disabled.length > 0 ? { bundles: Object.fromEntries(disabled.map((name) => [name, { enabled: false }])) } : {}),
            },
          },
        },
      },
    },
    { lineWidth: 0 },
  );
}

/** The manifest the install applies: the own build's, else the release's. */
export function cozystackInstallerManifest(config: Readonly<SiteConfig>): string {
  return config.talos.cozystack.ownBuild?.manifestUrl ?? cozystackRelease(config.talos.cozystack.version).installerManifest;
}

function heading(config: Readonly<SiteConfig>, release: CozystackRelease): string {
  const { version, bundle, ownBuild } = config.talos.cozystack;
  const build = ownBuild ? `own build (${ownBuild.architectures.join(", ")} images from ${ownBuild.registry})` : "upstream";
  return `# CozyStack ${version} ${build} (Talos ${release.talosVersion}), bundle ${bundle}`;
}

/** The release's install commands, with the rendered configuration file under `dir`. */
export function renderCozystackInstallCommands(config: Readonly<SiteConfig>, dir: string): string {
  const release = cozystackRelease(config.talos.cozystack.version);
  const manifest = cozystackInstallerManifest(config);
  const file = `${dir}/${cozystackConfigFile(config).name}`;
  const lines =
    release.installFlow === "configmap"
      ? [
          "kubectl create ns cozy-system --dry-run=client --output yaml | kubectl apply -f -",
          `kubectl apply -f ${file}`,
          `kubectl apply -f ${manifest}`,
          "kubectl logs -n cozy-system deploy/cozystack -f",
        ]
      : [
          // The manifest holds namespace cozy-system and the operator, which installs its CRDs and
          // the platform PackageSource when it starts (--install-crds, installPlatformPackageSource).
          `kubectl apply -f ${manifest}`,
          `kubectl wait deployment/cozystack-operator -n cozy-system --for=condition=Available --timeout=${OPERATOR_WAIT_SECONDS}s`,
          `timeout ${OPERATOR_WAIT_SECONDS} sh -ec 'until kubectl get packagesource ${PLATFORM_PACKAGE} >/dev/null 2>&1; do sleep 2; done'`,
          `kubectl apply -f ${file}`,
        ];
  return [heading(config, release), ...lines, "kubectl get hr -A", ""].join("\n");
}
