/**
 * Cross-field rules of the site config, each a named function of the parsed config returning the
 * problems it finds (field path + message with the fix). The schema runs them all after the
 * fields themselves are valid; tests call each by name.
 */
import { bareMetalTypes, INSTANCE_TYPES, PRICES_REGION } from "./instance-types.js";
import { INSTALLER_BY_BOOT, nodeArchitecture } from "./talos.js";
import { COZYSTACK_ARM_ISSUE, COZYSTACK_RELEASES, cozystackRelease, type ImageArchitecture } from "./cozystack.js";
import { nodeTypePresets } from "./node-type-presets.js";
import { runningHoursPerWeek } from "../lib/cron.js";
import { ipv4ToInt, isIpv4 } from "../lib/net.js";
import type { Architecture, SiteConfig } from "./schema.js";
import type { Problem } from "./rules/problem.js";
import { existingModulesConsistent } from "./rules/existing-modules.js";
import { dhcpSettingsComplete, hostsInSubnets, nodeIpsDistinct, subnetsFitVpc } from "./rules/network.js";
import { ipxeBootHasAmi, sessionNodesConfigured } from "./rules/nodes.js";
import { raspberryPiMacs, raspberryPisAtHome, raspberryPisDistinct, raspberryPisWithoutCozystack } from "./rules/raspberry-pi.js";
import { amazonDnsOnlyInVpc, bastionPortsDistinct, mikrotikHasSources, piholeImageIsV5, s3CacheSupported } from "./rules/services.js";

export type { Problem } from "./rules/problem.js";

/** Tags the stack sets itself on every resource (Name per resource); a config tag must not replace them. */
export const STACK_TAG_KEYS = ["Project", "Site", "ManagedBy", "Name"] as const;

/** Compose service name of a registry cache, e.g. "registry-docker-io" (also its container's name). */
export function registryCacheServiceName(name: string): string {
  return `registry-${name.replace(/\./g, "-")}`;
}

/** Graviton families carry a "g" after the generation number (t4g, m7g, c7gn, r8g, x2gd) or are a1. */
export function isGravitonInstanceType(type: string): boolean {
  return /^(a1|[a-z]+\d+g[a-z]*)\./.test(type);
}

/** Each instance type field with the architecture it must be of and the field that sets it. */
function instanceTypeFields(c: SiteConfig): [(string | number)[], string, Architecture, string][] {
  const nodes = nodeArchitecture(c);
  const nodesField = c.talos.architecture === undefined ? "architecture" : "talos.architecture";
  return [
    [["bastion", "instanceType"], c.bastion.instanceType, c.architecture, "architecture"],
    [["talos", "nodeInstanceType"], c.talos.nodeInstanceType, nodes, nodesField],
    [["network", "natInstance", "instanceType"], c.network.natInstance.instanceType, c.architecture, "architecture"],
  ];
}

/** Rule availabilityZoneInRegion: the subnets' zone belongs to the provider's region. */
export function availabilityZoneInRegion(c: SiteConfig): Problem[] {
  const zone = c.aws.availabilityZone;
  if (zone.slice(0, -1) === c.aws.region) return [];
  return [{ path: ["aws", "availabilityZone"], message: `${zone} is not in aws.region ${c.aws.region}; use a zone of that region, e.g. "${c.aws.region}a"` }];
}

/**
 * Rule instanceTypesPriced: the budget guard fails closed, so every instance type must be in the
 * price table; an unknown one would make the projection a lower bound that passes any budget.
 */
export function instanceTypesPriced(c: SiteConfig): Problem[] {
  const known = Object.keys(INSTANCE_TYPES).join(", ");
  return instanceTypeFields(c)
    .filter(([, type]) => !Object.hasOwn(INSTANCE_TYPES, type))
    .map(([path, type]) => ({
      path,
      message: `${type} has no price in config/instance-types.ts, so the budget cannot be checked; use one of ${known}, or add its eu-west-1 price there`,
    }));
}

/**
 * Rule architectureMatchesInstanceTypes: the AMIs (Amazon Linux for the bastion and NAT instance,
 * Talos for the nodes) are chosen by `architecture` and `talos.architecture`, so every instance
 * type must be of its architecture, and arm64 nodes need an arm64 Talos installer.
 */
export function architectureMatchesInstanceTypes(c: SiteConfig): Problem[] {
  const problems: Problem[] = [];
  for (const [path, type, architecture, field] of instanceTypeFields(c)) {
    const arm64 = INSTANCE_TYPES[type]?.architecture === "arm64" || isGravitonInstanceType(type);
    if (architecture === "arm64" && !arm64) {
      problems.push({ path, message: `${type} is not a Graviton (arm64) type; use e.g. t4g.small, or set ${field} to "x86_64"` });
    } else if (architecture === "x86_64" && arm64) {
      problems.push({ path, message: `${type} is a Graviton (arm64) type but ${field} is "x86_64", which picks x86_64 AMIs; use an x86_64 type, or set ${field} to "arm64"` });
    }
  }
  if (nodeArchitecture(c) === "arm64" && /^ghcr\.io\/cozystack\/cozystack\/talos:/.test(c.talos.installImage ?? "")) {
    problems.push({
      path: ["talos", "installImage"],
      message: `CozyStack's published Talos installer is amd64-only; on arm64 leave talos.installImage unset (the default is factory.talos.dev/${INSTALLER_BY_BOOT[c.talos.boot]}/<schematic>:<version> for boot "${c.talos.boot}") or use your own arm64 build`,
    });
  }
  return problems;
}

/**
 * Rule registryCachesRenderDistinct: each cache becomes a Compose service named after it
 * ("docker.io" → registry-docker-io); two names that render alike would leave one cache out while
 * the Talos mirrors still point at its port.
 */
export function registryCachesRenderDistinct(c: SiteConfig): Problem[] {
  const seen = new Map<string, string>();
  return c.services.registryCaches.flatMap((cache, i) => {
    const service = registryCacheServiceName(cache.name);
    const first = seen.get(service);
    if (first === undefined) {
      seen.set(service, cache.name);
      return [];
    }
    const message =
      first === cache.name
        ? `${cache.name} has two caches; keep one per upstream`
        : `${cache.name} renders to the same Compose service as ${first} (${service}); one cache would disappear. Use the registry's own host name`;
    return [{ path: ["services", "registryCaches", i, "name"], message }];
  });
}

/** Rule upstreamsDistinct: two caches of one upstream registry split its cache and its mirror entries. */
export function upstreamsDistinct(c: SiteConfig): Problem[] {
  const seen = new Map<string, number>();
  return c.services.registryCaches.flatMap((cache, i) => {
    const key = cache.upstream.toLowerCase().replace(/:443$/, "");
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, i);
      return [];
    }
    return [{ path: ["services", "registryCaches", i, "upstream"], message: `${cache.upstream} is already the upstream of services.registryCaches.${first}; keep one cache per upstream` }];
  });
}

/** Rule scheduleRuns: a start and a stop that fire at the same times leave the bastion always stopped. */
export function scheduleRuns(c: SiteConfig): Problem[] {
  const { start, stop } = c.bastion.schedule;
  if (start !== stop && runningHoursPerWeek(start, stop) !== 0) return [];
  return [{ path: ["bastion", "schedule", "stop"], message: `fires at the same times as start ("${start}"), so the bastion would never run; stop it later, e.g. "0 23 * * *"` }];
}

/**
 * Rule dhcpRangeUsable: the pool runs forwards and hands out no address that is already taken
 * (the bastion's, a node's, the router's, the NAT instance's).
 */
export function dhcpRangeUsable(c: SiteConfig): Problem[] {
  const { dhcp, rangeStart, rangeEnd, router } = c.bastion.dnsmasq;
  if (!dhcp || !rangeStart || !rangeEnd || !isIpv4(rangeStart) || !isIpv4(rangeEnd)) return [];
  const low = ipv4ToInt(rangeStart);
  const high = ipv4ToInt(rangeEnd);
  if (low > high) return [{ path: ["bastion", "dnsmasq", "rangeEnd"], message: `${rangeEnd} is below rangeStart ${rangeStart}; the range runs backwards` }];
  const taken: [string, string | undefined][] = [
    ["bastion.privateIp", c.bastion.privateIp],
    ...c.talos.nodeIps.map((ip, i) => [`talos.nodeIps.${i}`, ip] as [string, string]),
    ["bastion.dnsmasq.router", router],
    ["network.natInstance.eniAddress", c.network.natInstance.eniAddress],
  ];
  const covered = taken.filter(([, ip]) => ip !== undefined && isIpv4(ip) && ipv4ToInt(ip) >= low && ipv4ToInt(ip) <= high);
  if (covered.length === 0) return [];
  return [
    {
      path: ["bastion", "dnsmasq", "rangeStart"],
      message: `the range ${rangeStart}-${rangeEnd} covers ${covered.map(([field, ip]) => `${ip} (${field})`).join(", ")}; DHCP would hand fixed addresses to other machines. Move the range past them`,
    },
  ];
}

/**
 * Rule piholeUpstreamNotBastion: Pi-hole runs on the bastion; forwarding to the bastion, to
 * loopback or to 0.0.0.0/8 ("this host" on Linux) is a DNS loop.
 */
export function piholeUpstreamNotBastion(c: SiteConfig): Problem[] {
  return c.services.dnsUpstreams.flatMap((upstream, i) =>
    upstream === c.bastion.privateIp || /^(127|0)\./.test(upstream)
      ? [{ path: ["services", "dnsUpstreams", i], message: `${upstream} is the bastion itself, where Pi-hole runs: a DNS loop. Use the resolver Pi-hole forwards to (AmazonProvidedDNS in AWS, the router at home)` }]
      : [],
  );
}

/** Rule tagsKeepStackTags: the stack's own tags say what manages a resource; a config tag must not replace them. */
export function tagsKeepStackTags(c: SiteConfig): Problem[] {
  return Object.keys(c.tags)
    .filter((key) => STACK_TAG_KEYS.some((own) => own.toLowerCase() === key.toLowerCase()))
    .map((key) => ({ path: ["tags", key], message: `is set by the stack itself (${STACK_TAG_KEYS.join(", ")}); use another key` }));
}

/**
 * Rule installImageMatchesBoot: an Image Factory installer carries its platform; upgrading a node
 * with another boot mode's installer switches the node to that platform (a talos-ami node on the
 * metal installer loses its AWS platform integration).
 */
export function installImageMatchesBoot(c: SiteConfig): Problem[] {
  const platform = /^factory\.talos\.dev\/([a-z0-9-]+-installer)\//.exec(c.talos.installImage ?? "")?.[1];
  const expected = INSTALLER_BY_BOOT[c.talos.boot];
  if (platform === undefined || platform === expected || !(Object.values(INSTALLER_BY_BOOT) as string[]).includes(platform)) return [];
  return [
    {
      path: ["talos", "installImage"],
      message: `is an Image Factory ${platform} image but talos.boot is "${c.talos.boot}", whose nodes need ${expected}; leave talos.installImage unset to get factory.talos.dev/${expected}/<schematic>:<version>`,
    },
  ];
}

/**
 * Rule talosVersionMatchesCozystack: a CozyStack release is built and tested against one Talos
 * release (config/cozystack.ts); another Talos version is a combination nobody tested.
 */
export function talosVersionMatchesCozystack(c: SiteConfig): Problem[] {
  const { enabled, version } = c.talos.cozystack;
  const talos = COZYSTACK_RELEASES[version].talosVersion;
  if (!enabled || c.talos.version === talos) return [];
  return [
    {
      path: ["talos", "version"],
      message: `${c.talos.version} does not match CozyStack ${version} (talos.cozystack.version), which ships Talos ${talos}; set talos.version to "${talos}", or pin a CozyStack release built for ${c.talos.version}`,
    },
  ];
}

/**
 * Rule cozystackBundleFitsNodes: a bundle that runs KubeVirt needs /dev/kvm, which only bare-metal
 * types have; on any other AWS node type its virtual machines never start. Refused rather than
 * warned about, like the budget: the lab fails closed. The home site's nodes are its own machines.
 */
export function cozystackBundleFitsNodes(c: SiteConfig): Problem[] {
  const { enabled, version, bundle } = c.talos.cozystack;
  const type = c.talos.nodeInstanceType;
  const info = INSTANCE_TYPES[type];
  // An unpriced type is instanceTypesPriced's to report; whether it is metal is unknown.
  if (c.site.kind !== "aws" || !enabled || info === undefined || info.bareMetal) return [];
  const { bundles } = cozystackRelease(version);
  if (!bundles[bundle]?.needsKvm) return [];
  const metal = bareMetalTypes(info.architecture);
  const withoutKvm = Object.entries(bundles)
    .filter(([, b]) => !b.needsKvm)
    .map(([name]) => `"${name}"`);
  const metalTypes = metal.length > 0 ? metal.map((m) => `${m.type} ($${m.usdPerHour}/h)`).join(", ") : `none of architecture ${info.architecture} is in config/instance-types.ts yet`;
  return [
    {
      path: ["talos", "cozystack", "bundle"],
      message:
        `"${bundle}" runs KubeVirt, which needs /dev/kvm, but talos.nodeInstanceType ${type} is not bare metal and has none; ` +
        `set talos.nodeInstanceType to a metal type (${PRICES_REGION} per node: ${metalTypes}), or talos.cozystack.bundle to ${withoutKvm.join(" or ")}, which runs without KVM`,
    },
  ];
}

/** Rule cozystackBundleOfRelease: each release has its own bundles (0.x bundle names, 1.x variants). */
export function cozystackBundleOfRelease(c: SiteConfig): Problem[] {
  const { version, bundle } = c.talos.cozystack;
  const bundles = Object.keys(cozystackRelease(version).bundles);
  if (bundles.includes(bundle)) return [];
  return [{ path: ["talos", "cozystack", "bundle"], message: `"${bundle}" is not a bundle of CozyStack ${version} (talos.cozystack.version); use one of ${bundles.map((b) => `"${b}"`).join(", ")}` }];
}

/** The nodes' architecture as images name it. */
const IMAGE_ARCH: Readonly<Record<Architecture, ImageArchitecture>> = { arm64: "arm64", x86_64: "amd64" };

/**
 * Rule cozystackImagesRunOnNodes: CozyStack's images must exist for the nodes' architecture.
 * Every upstream release publishes amd64 only (config/cozystack.ts names the files that say so),
 * so on arm64 nodes the install fails at its first pod (no matching manifest, or exec format
 * error). Two ways out: amd64 nodes beside the Graviton bastion, or an own build with arm64 images.
 */
export function cozystackImagesRunOnNodes(c: SiteConfig): Problem[] {
  const { enabled, version, ownBuild } = c.talos.cozystack;
  if (!enabled) return [];
  const nodes = IMAGE_ARCH[nodeArchitecture(c)];
  if (ownBuild) {
    if (ownBuild.architectures.includes(nodes)) return [];
    return [
      {
        path: ["talos", "cozystack", "ownBuild", "architectures"],
        message: `the own build publishes ${ownBuild.architectures.join(", ")} images, but the nodes are ${nodes}; build its images for ${nodes} too, or set talos.architecture to match the build`,
      },
    ];
  }
  const release = cozystackRelease(version);
  if (release.imageArchitectures.includes(nodes)) return [];
  // The amd64 way out names the type `npm run cost` prices for it: the cheapest amd64 node of CozyStack's size.
  const amd64Type = nodeTypePresets("x86_64").find((preset) => preset.name === "cozystack")?.instanceType;
  const nodeSource = c.talos.architecture === undefined ? `architecture "${c.architecture}", which talos.architecture defaults to` : `talos.architecture "${c.talos.architecture}"`;
  return [
    {
      path: ["talos", "cozystack", "enabled"],
      message:
        `CozyStack ${version} publishes ${release.imageArchitectures.join(", ")} images only, but the nodes are ${nodes} (talos.nodeInstanceType ${c.talos.nodeInstanceType}, ${nodeSource}): ` +
        `its install would fail at the first pod with "exec format error" or "no matching manifest". CozyStack on ARM is open upstream (${COZYSTACK_ARM_ISSUE}). ` +
        `Either run ${release.imageArchitectures.join(", ")} nodes beside the Graviton bastion: set talos.architecture to "x86_64" and talos.nodeInstanceType to ${amd64Type ? `e.g. "${amd64Type}"` : "an amd64 type"}; ` +
        `or install an own build with ${nodes} images: set talos.cozystack.ownBuild (docs/cozystack.md, "An own arm64 build"); or set talos.cozystack.enabled to false`,
    },
  ];
}

/**
 * Rule cozystackOwnBuildComplete: an own build installs from its own manifest (the release's
 * would pull the upstream images), and its images come through a registry cache on the bastion
 * like every other image the nodes pull.
 */
export function cozystackOwnBuildComplete(c: SiteConfig): Problem[] {
  const { ownBuild, version } = c.talos.cozystack;
  if (!ownBuild) return [];
  const problems: Problem[] = [];
  if (ownBuild.manifestUrl === undefined) {
    const release = cozystackRelease(version);
    const asset = release.installerManifest.split("/").pop();
    problems.push({
      path: ["talos", "cozystack", "ownBuild", "manifestUrl"],
      message: `is required for an own build: the URL of the build's own ${asset} (the release's would install the upstream ${release.imageArchitectures.join(", ")} images), e.g. "https://github.com/<owner>/<fork>/releases/download/${version}/${asset}"`,
    });
  }
  if (!c.services.registryCaches.some((cache) => cache.name === ownBuild.registry)) {
    problems.push({
      path: ["talos", "cozystack", "ownBuild", "registry"],
      message: `${ownBuild.registry} has no cache in services.registryCaches, so the nodes would pull the build's images past the bastion; use one of ${c.services.registryCaches.map((cache) => cache.name).join(", ")}, or add a cache for ${ownBuild.registry}`,
    });
  }
  return problems;
}

/**
 * Rule bastionHasEgress: an AWS bastion needs egress at every boot (EC2 API to attach its ENI and volume, dnf, SSM, the
 * compose download): without it, its boot unit retries forever while the instance bills.
 */
export function bastionHasEgress(c: SiteConfig): Problem[] {
  if (c.site.kind !== "aws" || c.network.nat !== "none") return [];
  return [
    {
      path: ["network", "nat"],
      message:
        '"none" leaves the bastion without egress (EC2 API for its ENI and volume, dnf, SSM, the compose download) and it retries forever while billed; set "bastion" (the bastion is its own NAT), "instance" (a t4g.nano on the bastion\'s schedule) or "gateway" (managed NAT Gateway, always on)',
    },
  ];
}

/** Every cross-field rule, by name, in the order their problems are reported. */
export const SITE_RULES = {
  subnetsFitVpc,
  hostsInSubnets,
  nodeIpsDistinct,
  bastionPortsDistinct,
  ipxeBootHasAmi,
  sessionNodesConfigured,
  dhcpSettingsComplete,
  piholeImageIsV5,
  amazonDnsOnlyInVpc,
  existingModulesConsistent,
  availabilityZoneInRegion,
  // Before instanceTypesPriced: an x86 type on arm64 is first of all the wrong architecture.
  architectureMatchesInstanceTypes,
  instanceTypesPriced,
  registryCachesRenderDistinct,
  upstreamsDistinct,
  scheduleRuns,
  dhcpRangeUsable,
  piholeUpstreamNotBastion,
  tagsKeepStackTags,
  installImageMatchesBoot,
  talosVersionMatchesCozystack,
  cozystackBundleOfRelease,
  cozystackBundleFitsNodes,
  cozystackImagesRunOnNodes,
  cozystackOwnBuildComplete,
  bastionHasEgress,
  mikrotikHasSources,
  s3CacheSupported,
  raspberryPisAtHome,
  raspberryPisDistinct,
  raspberryPiMacs,
  raspberryPisWithoutCozystack,
} as const;
