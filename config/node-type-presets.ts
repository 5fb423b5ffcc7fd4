/**
 * The node types `npm run cost` compares, each read off the price table by what it can run: the
 * cheapest that holds a Talos control plane (the seed's t4g.small), the cheapest of CozyStack's
 * documented node size, and the cheapest bare-metal type (the only kind with /dev/kvm, which
 * KubeVirt needs); beside arm64 nodes also the cheapest amd64 node of CozyStack's size, the
 * architecture upstream CozyStack publishes images for. A price change moves a preset; a new type
 * joins when it is cheaper.
 */
import { COZYSTACK_MIN_NODE, cozystackRelease, type CozystackVersion, type ImageArchitecture } from "./cozystack.js";
import { TALOS_CONTROL_PLANE_MIN_MEMORY_GIB } from "./talos.js";
import { INSTANCE_TYPES, type InstanceTypeInfo } from "./instance-types.js";

export interface NodeTypePreset {
  /** "talos", "cozystack", "metal", or "configured" for the site's own type. */
  readonly name: string;
  /** What the preset is the cheapest of, for the table's reader ("" for the configured type). */
  readonly criterion: string;
  readonly instanceType: string;
  readonly info: InstanceTypeInfo;
}

const cozystackSized = (i: InstanceTypeInfo) => i.vcpus >= COZYSTACK_MIN_NODE.vcpus && i.memoryGiB >= COZYSTACK_MIN_NODE.memoryGiB;
const COZYSTACK_SIZE = `>= ${COZYSTACK_MIN_NODE.vcpus} vCPU / ${COZYSTACK_MIN_NODE.memoryGiB} GiB, CozyStack's documented node`;

const PRESETS: readonly { readonly name: string; readonly criterion: string; readonly fits: (info: InstanceTypeInfo) => boolean }[] = [
  { name: "talos", criterion: `>= ${TALOS_CONTROL_PLANE_MIN_MEMORY_GIB} GiB, a Talos control plane`, fits: (i) => i.memoryGiB >= TALOS_CONTROL_PLANE_MIN_MEMORY_GIB },
  { name: "cozystack", criterion: COZYSTACK_SIZE, fits: cozystackSized },
  { name: "metal", criterion: "bare metal, /dev/kvm for KubeVirt", fits: (i) => i.bareMetal === true },
];

/** The priced types of an architecture, cheapest first. */
function typesOf(architecture: InstanceTypeInfo["architecture"]): [string, InstanceTypeInfo][] {
  return Object.entries(INSTANCE_TYPES)
    .filter(([, info]) => info.architecture === architecture)
    .sort(([, a], [, b]) => a.usdPerHour - b.usdPerHour);
}

/**
 * The presets of an architecture, each the cheapest priced type that fits; one with no fitting
 * type is left out. Beside arm64 nodes, "cozystack-amd64": the cheapest amd64 type of CozyStack's
 * size (talos.architecture "x86_64"), where upstream CozyStack's images run.
 */
export function nodeTypePresets(architecture: InstanceTypeInfo["architecture"]): NodeTypePreset[] {
  const candidates = typesOf(architecture);
  const presets = PRESETS.flatMap(({ name, criterion, fits }) => {
    const cheapest = candidates.find(([, info]) => fits(info));
    return cheapest ? [{ name, criterion, instanceType: cheapest[0], info: cheapest[1] }] : [];
  });
  const amd64 = architecture === "arm64" ? typesOf("x86_64").find(([, info]) => cozystackSized(info)) : undefined;
  return amd64 ? [...presets, { name: "cozystack-amd64", criterion: `${COZYSTACK_SIZE}, on amd64 (talos.architecture "x86_64"), where upstream CozyStack's images run`, instanceType: amd64[0], info: amd64[1] }] : presets;
}

/**
 * The presets of the site's architecture, and the configured node type as one more row
 * ("configured") when it is none of them, so the comparison always shows the current choice.
 */
export function nodeTypesToCompare(architecture: InstanceTypeInfo["architecture"], configured: string): NodeTypePreset[] {
  const presets = nodeTypePresets(architecture);
  const info = INSTANCE_TYPES[configured];
  if (!info || presets.some((p) => p.instanceType === configured)) return presets;
  return [...presets, { name: "configured", criterion: "", instanceType: configured, info }];
}

/**
 * The bundles of a CozyStack release a node type can run: none where the release (or the own
 * build, by its `architectures`) publishes no images for the type's architecture; else all on bare
 * metal and those without KVM elsewhere.
 */
export function bundlesFor(version: CozystackVersion, info: InstanceTypeInfo, ownBuildArchitectures?: readonly ImageArchitecture[]): string[] {
  const published = ownBuildArchitectures ?? cozystackRelease(version).imageArchitectures;
  if (!published.includes(info.architecture === "arm64" ? "arm64" : "amd64")) return [];
  return Object.entries(cozystackRelease(version).bundles)
    .filter(([, bundle]) => info.bareMetal === true || !bundle.needsKvm)
    .map(([name]) => name);
}
