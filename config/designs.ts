/**
 * The designs `npm run cost -- --compare` prices side by side. Each is an override merged over the
 * configured site, as DEATHSTAR_CONFIG is, so usage and everything a design does not name stay as
 * configured and the figures differ only by the design's choices.
 */
export interface CompareDesign {
  /** Column name, e.g. "seed". */
  readonly name: string;
  /** What the design is, for the reader of the table. */
  readonly description: string;
  /** Merged over the configured site. */
  readonly override: unknown;
}

/** The project's first defaults: what the cost levers are measured against. */
export const FIRST_DEFAULTS = {
  network: { nat: "instance" },
  bastion: { cacheStorage: "ebs", cacheVolumeGb: 20, market: "on-demand" },
  images: { registry: "registry:2.8.3" },
  talos: { nodeMarket: "on-demand", nodeCpuCredits: "unlimited" },
} as const;

export const COMPARED_DESIGNS: readonly CompareDesign[] = [
  { name: "configured", description: "this site as configured (the defaults, unless DEATHSTAR_CONFIG changes them)", override: {} },
  {
    name: "first-defaults",
    description: "the project's first defaults: a t4g.nano NAT instance, the caches on a 20 GB gp3 volume, bastion and nodes on-demand, nodes with unlimited CPU credits",
    override: FIRST_DEFAULTS,
  },
  {
    name: "all-levers",
    description:
      "every cost lever on: the bastion its own NAT and on spot, the caches on S3 (registry 3), nodes on spot with standard CPU credits " +
      "(a cluster bootstrap then runs at the T4g baseline)",
    override: {
      network: { nat: "bastion" },
      bastion: { cacheStorage: "s3", market: "spot" },
      images: { registry: "registry:3.0.0" },
      talos: { nodeMarket: "spot", nodeCpuCredits: "standard" },
    },
  },
  {
    name: "seed",
    description: "the seed's literal design: a managed NAT gateway, billed around the clock; the rest as the first defaults",
    override: { ...FIRST_DEFAULTS, network: { nat: "gateway" } },
  },
];
