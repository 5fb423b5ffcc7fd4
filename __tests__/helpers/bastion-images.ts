/**
 * The bastion's images, made here by `docker import` and tagged with the references the rendered
 * compose.yaml names, so that file runs unchanged:
 * - registry: Debian's docker-registry (distribution 2.8) as `registry serve <config.yml>`;
 * - matchbox: the binary scripts/toolchain.sh builds from its Go module;
 * - dnsmasq: Debian's dnsmasq;
 * - Pi-hole: a stand-in (Pi-hole cannot be built here): Debian's dnsmasq, which is what Pi-hole's
 *   FTL resolver embeds, started with Pi-hole's mounts and variables (PIHOLE_DNS_ upstreams,
 *   records from /etc/dnsmasq.d). It answers DNS on :53 and nothing else (no web UI).
 * Every image trusts `caBundle`, the test CA of the stand-in upstream registries.
 */
import { join } from "node:path";
import type { SiteConfig } from "../../config/schema.js";
import { buildRootfs, type Dockerd } from "./docker.js";
import { matchboxBinary } from "./netboot.js";

const DNSMASQ = "/usr/sbin/dnsmasq";
const REGISTRY = "/usr/bin/docker-registry";
const CA_PATH = "etc/ssl/certs/ca-certificates.crt";

const PIHOLE_STAND_IN = `#!/bin/sh
# Pi-hole stand-in: dnsmasq with Pi-hole v5's upstream variable and its /etc/dnsmasq.d.
set -e
args=""
IFS=';'
for server in $PIHOLE_DNS_; do args="$args --server=$server"; done
unset IFS
exec /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-dir=/etc/dnsmasq.d --log-facility=- --log-queries --user=root $args
`;

export async function importBastionImages(docker: Dockerd, config: Readonly<SiteConfig>, workDir: string, caBundle: string): Promise<void> {
  const files = { [CA_PATH]: caBundle };
  const images: { ref: string; binaries: Record<string, string>; files: Record<string, string>; changes: string[] }[] = [
    { ref: config.images.registry, binaries: { "/bin/registry": REGISTRY }, files, changes: ['ENTRYPOINT ["/bin/registry"]', 'CMD ["serve", "/etc/docker/registry/config.yml"]'] },
    { ref: config.images.matchbox, binaries: { "/matchbox": matchboxBinary() }, files, changes: ['ENTRYPOINT ["/matchbox"]'] },
    { ref: config.images.dnsmasq, binaries: { [DNSMASQ]: DNSMASQ }, files, changes: [`ENTRYPOINT ["${DNSMASQ}"]`] },
    {
      ref: config.images.pihole,
      binaries: { [DNSMASQ]: DNSMASQ },
      files: { ...files, "standin/pihole.sh": PIHOLE_STAND_IN },
      changes: ['ENTRYPOINT ["/bin/sh", "/standin/pihole.sh"]'],
    },
  ];
  for (const [i, image] of images.entries()) {
    const root = join(workDir, `rootfs-${i}`);
    buildRootfs(root, image.binaries, image.files);
    await docker.importImage(root, image.ref, image.changes);
  }
}
