/** Cross-field rules about what the bastion serves: ports, Pi-hole, DNS, router access. */
import { piholeImageMajorVersion } from "../fields.js";
import type { SiteConfig } from "../schema.js";
import { AMAZON_PROVIDED_DNS } from "../site-view.js";
import type { Problem } from "./problem.js";

/** Rule bastionPortsDistinct: matchbox, the Pi-hole web UI and every registry cache listen on host ports of their own. */
export function bastionPortsDistinct(c: SiteConfig): Problem[] {
  const ports: [(string | number)[], number][] = [
    [["services", "matchboxPort"], c.services.matchboxPort],
    [["services", "piholeWebPort"], c.services.piholeWebPort],
    ...c.services.registryCaches.map((cache, i): [(string | number)[], number] => [["services", "registryCaches", i, "port"], cache.port]),
  ];
  const seen = new Map<number, string>();
  return ports.flatMap(([path, port]): Problem[] => {
    const first = seen.get(port);
    if (first) return [{ path, message: `port ${port} is already used by ${first}; every bastion service needs its own port` }];
    seen.set(port, path.join("."));
    return [];
  });
}

/** Rule piholeImageIsV5: Pi-hole v6 renamed every environment variable the bundle sets. */
export function piholeImageIsV5(c: SiteConfig): Problem[] {
  const major = piholeImageMajorVersion(c.images.pihole);
  if (major === undefined || major < 6) return [];
  return [{ path: ["images", "pihole"], message: `${c.images.pihole} is Pi-hole v6, whose environment variables differ from v5; pin a v5 tag such as "pihole/pihole:2024.07.0" until v6 is supported` }];
}

/** Rule amazonDnsOnlyInVpc: the VPC resolver exists only in a VPC. */
export function amazonDnsOnlyInVpc(c: SiteConfig): Problem[] {
  if (c.site.kind === "aws" || !c.services.dnsUpstreams.includes(AMAZON_PROVIDED_DNS)) return [];
  return [{ path: ["services", "dnsUpstreams"], message: `"AmazonProvidedDNS" exists only in a VPC; on a ${c.site.kind} site list real resolvers, e.g. the router's address` }];
}

/** Rule mikrotikHasSources: mikrotik-sg without a source would admit nobody. */
export function mikrotikHasSources(c: SiteConfig): Problem[] {
  if (!c.access.mikrotik.enabled || c.access.mikrotik.sources.length > 0) return [];
  return [{ path: ["access", "mikrotik", "sources"], message: "needs at least one /128 when access.mikrotik.enabled is true" }];
}

/** The registry image's major version from its tag ("registry:2.8.3" → 2), or undefined for a digest or another tag form. */
export function registryImageMajorVersion(image: string): number | undefined {
  const major = /:v?(\d+)\.\d+(\.\d+)?$/.exec(image)?.[1];
  return major === undefined ? undefined : Number(major);
}

/**
 * Rule s3CacheSupported: S3 cache storage is an AWS bucket behind the VPC's gateway endpoint, read
 * with the bastion's instance role. Registry 2.x cannot read that role while IMDSv2 is required:
 * its S3 driver is built with aws-sdk-go 1.15, which predates IMDSv2 session tokens (1.25.38), and
 * finds no credentials. Distribution 3.0 is built with a current SDK.
 */
export function s3CacheSupported(c: SiteConfig): Problem[] {
  if (c.bastion.cacheStorage !== "s3") return [];
  if (c.site.kind !== "aws") {
    return [{ path: ["bastion", "cacheStorage"], message: `"s3" stores the caches in an AWS bucket, which a ${c.site.kind} site does not have; use "ebs" (the caches live on the host's disk)` }];
  }
  const major = registryImageMajorVersion(c.images.registry);
  if (major !== undefined && major >= 3) return [];
  return [
    {
      path: ["images", "registry"],
      message:
        `${c.images.registry} ${major === undefined ? "has no version tag to check" : `is registry ${major}.x`}; bastion.cacheStorage "s3" needs registry 3.0 or later, ` +
        'whose S3 driver reads the instance role through IMDSv2 (2.x ships aws-sdk-go 1.15, which cannot); pin e.g. "registry:3.0.0", or use cacheStorage "ebs"',
    },
  ];
}
