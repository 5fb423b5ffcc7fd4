import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { talosAssets } from "../templates/talos-assets.js";
import { renderDnsmasqConfig } from "../templates/dnsmasq.js";
import { renderComposeFile } from "../templates/compose.js";
import { renderBastionBundle } from "../templates/bundle.js";
import { renderPiholeHosts } from "../templates/pihole.js";
import { renderBastionBootScript, renderBastionBootUnit, COMPOSE_PLUGIN } from "../templates/bastion-boot.js";
import { CLOUD_INIT_DEFAULT_PERMISSIONS, renderBastionCloudConfigFiles, renderBastionUserData, USER_DATA_LIMIT_BYTES } from "../templates/cloud-init.js";
import { FIRST_DEFAULTS } from "../config/designs.js";
import { mergeOverride } from "../config/load.js";
import { configProblems, firstDefaultsConfig, siteConfig } from "./helpers/synth.js";

// The bundle with its caches on a volume and a NAT instance; S3 caches: cache-bucket.test.ts.
const aws = firstDefaultsConfig();
const defaults = siteConfig();
const home = siteConfig({}, "home");

/** A config at the schema's limits: ten caches, Tailscale, a machine config URL. */
const largest = siteConfig({
  bastion: { tailscale: { enabled: true } },
  talos: { machineConfigUrl: "http://10.20.13.140:8080/assets/talos/machine-config-for-the-control-plane.yaml" },
  services: {
    registryCaches: ["docker.io", "registry.k8s.io", "quay.io", "gcr.io", "ghcr.io", "public.ecr.aws", "mcr.microsoft.com", "registry.gitlab.com", "nvcr.io", "cr.l5d.io"].map(
      (name, i) => ({ name, port: 5050 + i, upstream: `https://${name === "docker.io" ? "registry-1.docker.io" : name}` }),
    ),
  },
});

interface ComposeService {
  image: string;
  command?: string[];
  ports?: string[];
  volumes: string[];
  network_mode?: string;
  environment?: Record<string, string>;
  env_file?: string[];
  healthcheck?: { test: string[] };
}
const composeServices = (text: string) => (parseYaml(text) as { services: Record<string, ComposeService> }).services;

describe("dnsmasq.conf", () => {
  it("in AWS serves no TFTP by default (EC2 has no PXE), no DNS (Pi-hole has port 53) and no DHCP (the VPC's); home keeps TFTP", () => {
    const lines = renderDnsmasqConfig(aws).split("\n");
    expect(lines).toContain("port=0");
    expect(lines.filter((l) => l.includes("tftp"))).toEqual([]);
    expect(renderDnsmasqConfig(siteConfig({}, "home")).split("\n")).toContain("enable-tftp");
    expect(renderDnsmasqConfig(siteConfig({ bastion: { dnsmasq: { tftp: true } } })).split("\n")).toContain("enable-tftp");
    expect(lines).toContain("listen-address=10.20.13.140");
    expect(lines.filter((l) => l.startsWith("dhcp-"))).toEqual([]);
  });

  it("at home serves DHCP on the inner subnet with the iPXE boot rules", () => {
    const lines = renderDnsmasqConfig(home).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "dhcp-range=10.17.13.160,10.17.13.239,12h",
        "dhcp-option=option:router,10.17.13.249",
        "dhcp-option=option:dns-server,10.17.13.140",
        "dhcp-match=set:bios,option:client-arch,0",
        "dhcp-match=set:efi-x86_64,option:client-arch,7",
        "dhcp-match=set:efi-x86_64,option:client-arch,9",
        "dhcp-match=set:efi-arm64,option:client-arch,11",
        "dhcp-userclass=set:ipxe,iPXE",
        "dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe,,10.17.13.140",
        "dhcp-boot=tag:!ipxe,tag:efi-x86_64,ipxe.efi,,10.17.13.140",
        "dhcp-boot=tag:!ipxe,tag:efi-arm64,arm64/ipxe.efi,,10.17.13.140",
        "dhcp-boot=tag:ipxe,http://10.17.13.140:8080/boot.ipxe",
      ]),
    );
  });

  it("follows the config: matchbox port in the chain URL, TFTP off when the site says so", () => {
    const custom = siteConfig({ services: { matchboxPort: 9090 }, bastion: { dnsmasq: { tftp: false } } }, "home");
    const text = renderDnsmasqConfig(custom);
    expect(text).toContain("dhcp-boot=tag:ipxe,http://10.17.13.140:9090/boot.ipxe");
    expect(text).not.toContain("enable-tftp");
  });
});

describe("compose.yaml", () => {
  const services = composeServices(renderComposeFile(aws));

  it("runs dnsmasq, matchbox, Pi-hole and one cache per upstream with the pinned images", () => {
    expect(Object.keys(services).sort()).toEqual(
      ["dnsmasq", "matchbox", "pihole", "registry-docker-io", "registry-gcr-io", "registry-ghcr-io", "registry-quay-io", "registry-registry-k8s-io"].sort(),
    );
    expect(services.dnsmasq!.image).toBe("quay.io/poseidon/dnsmasq:v0.5.0-40-g494d4e0");
    expect(services.matchbox!.image).toBe(aws.images.matchbox);
    expect(services.pihole!.image).toBe("pihole/pihole:2024.07.0");
    expect(services["registry-docker-io"]!.image).toBe(aws.images.registry);
  });

  it("makes matchbox listen on every address of the host, with its data dir on the persistent data dir", () => {
    const matchbox = services.matchbox!;
    expect(matchbox.command).toContain("-address=0.0.0.0:8080");
    expect(matchbox.network_mode).toBe("host");
    expect(matchbox.ports).toBeUndefined();
    expect(matchbox.volumes).toContain("./data/matchbox:/var/lib/matchbox");
    expect(matchbox.volumes).toContain("./matchbox/profiles:/var/lib/matchbox/profiles:ro");
  });

  it("runs each cache on the host network on its own port, stores it on the data dir and health-checks /v2/", () => {
    const expected = { "docker.io": 5050, "registry.k8s.io": 5051, "quay.io": 5052, "gcr.io": 5053, "ghcr.io": 5054 };
    for (const [name, port] of Object.entries(expected)) {
      const service = services[`registry-${name.replace(/\./g, "-")}`]!;
      expect(service.network_mode).toBe("host");
      expect(service.ports).toBeUndefined();
      expect(service.volumes).toEqual([`./registry/${name}/config.yml:/etc/docker/registry/config.yml:ro`, `./data/registry/${name}:/var/lib/registry`]);
      expect(service.healthcheck!.test.at(-1)).toBe(`http://127.0.0.1:${port}/v2/`);
    }
  });

  it("gives Pi-hole the v5 variables, upstream Amazon DNS derived from the VPC, and no password", () => {
    const pihole = services.pihole!;
    expect(pihole.environment).toEqual({
      TZ: "Europe/Dublin",
      PIHOLE_DNS_: "10.20.0.2",
      DNSMASQ_LISTENING: "all",
      FTLCONF_LOCAL_IPV4: "10.20.13.140",
      WEB_PORT: "8081",
    });
    expect(pihole.env_file).toEqual(["./secrets/pihole.env"]);
    const otherVpc = siteConfig({
      network: { vpcCidr: "10.30.0.0/16", publicSubnet: { cidr: "10.30.1.0/24" }, privateSubnet: { cidr: "10.30.13.0/24" }, natInstance: { eniAddress: "10.30.1.10" } },
      bastion: { privateIp: "10.30.13.140" },
      talos: { nodeIps: ["10.30.13.11"] },
      usage: { nodesPerSession: 1 },
    });
    expect(composeServices(renderComposeFile(otherVpc)).pihole!.environment!.PIHOLE_DNS_).toBe("10.30.0.2");
    expect(composeServices(renderComposeFile(home)).pihole!.environment!.PIHOLE_DNS_).toBe("10.17.13.249");
  });

  it("adds Tailscale only when enabled, its key from a root-only env file", () => {
    expect(services.tailscale).toBeUndefined();
    const tailscale = composeServices(renderComposeFile(siteConfig({ bastion: { tailscale: { enabled: true } } }))).tailscale!;
    expect(tailscale.image).toBe(aws.images.tailscale);
    expect(tailscale.env_file).toEqual(["./secrets/tailscale.env"]);
  });

  it("loads a cache's credentials env file only for a cache with credentials, and only into that cache", () => {
    const caches = aws.services.registryCaches.map((cache) => (cache.name === "docker.io" ? { ...cache, credentialsParameter: "/deathstar/registry/docker.io" } : cache));
    const withCredentials = composeServices(renderComposeFile(firstDefaultsConfig({ services: { registryCaches: caches } })));
    expect(withCredentials["registry-docker-io"]!.env_file).toEqual(["./secrets/registry-docker-io.env"]);
    const others = Object.entries(withCredentials).filter(([name]) => name !== "registry-docker-io" && name !== "pihole");
    expect(others.map(([, service]) => service.env_file).filter(Boolean)).toEqual([]);
    expect(Object.values(services).map((service) => service.env_file ?? []).flat()).toEqual(["./secrets/pihole.env"]);
  });
});

describe("bundle", () => {
  it("holds every file the host needs, and each parses back", () => {
    const bundle = renderBastionBundle(aws);
    expect(Object.keys(bundle).sort()).toEqual([
      "compose.yaml",
      "dnsmasq/dnsmasq.conf",
      "matchbox/groups/default.json",
      "matchbox/groups/talos-1.json",
      "matchbox/groups/talos-2.json",
      "matchbox/groups/talos-3.json",
      "matchbox/profiles/talos-maintenance.json",
      "pihole/05-deathstar-hosts.conf",
      "registry/docker.io/config.yml",
      "registry/gcr.io/config.yml",
      "registry/ghcr.io/config.yml",
      "registry/quay.io/config.yml",
      "registry/registry.k8s.io/config.yml",
      "scripts/fetch-talos-assets.sh",
    ]);
    for (const [path, text] of Object.entries(bundle)) {
      if (path.endsWith(".json")) expect(() => JSON.parse(text), path).not.toThrow();
      if (path.endsWith(".yaml") || path.endsWith(".yml")) expect(parseYaml(text), path).toBeTypeOf("object");
    }
    const cache = parseYaml(bundle["registry/docker.io/config.yml"]!) as { http: { addr: string }; proxy: { remoteurl: string }; storage: { filesystem: { rootdirectory: string } } };
    expect(cache.proxy.remoteurl).toBe("https://registry-1.docker.io");
    expect(cache.http.addr).toBe(":5050");
    expect(cache.storage.filesystem.rootdirectory).toBe("/var/lib/registry");
  });

  it("records the lab's hosts for Pi-hole under the local domain", () => {
    expect(renderPiholeHosts(aws).split("\n").filter((l) => l.startsWith("host-record="))).toEqual([
      "host-record=bastion.deathstar.internal,10.20.13.140",
      "host-record=talos-1.deathstar.internal,10.20.13.11",
      "host-record=talos-2.deathstar.internal,10.20.13.12",
      "host-record=talos-3.deathstar.internal,10.20.13.13",
      "host-record=nat.deathstar.internal,10.20.1.10",
    ]);
    expect(renderPiholeHosts(home)).not.toContain("nat.");
  });

  it("downloads the Talos assets from Image Factory and checks them against recorded sums", () => {
    const script = renderBastionBundle(aws)["scripts/fetch-talos-assets.sh"]!;
    const { kernel, initramfs } = talosAssets(aws);
    expect(script).toContain(`TALOS_ASSETS=('${kernel.path}' '${kernel.url}' '${initramfs.path}' '${initramfs.url}')`);
    expect(script).toContain('fetch_asset "${TALOS_ASSETS[@]:i:2}"');
    expect(script).toContain("sha256sum --quiet --check");
  });
});

describe("Pi-hole version and DNS upstream rules", () => {
  it("rejects a Pi-hole v6 tag, naming the field and the fix", () => {
    expect(configProblems({ images: { pihole: "pihole/pihole:2025.02.0" } })).toEqual([
      expect.stringMatching(/^images\.pihole: pihole\/pihole:2025\.02\.0 is Pi-hole v6.*pin a v5 tag/),
    ]);
    expect(configProblems({ images: { pihole: "pihole/pihole:2024.07.0" } })).toEqual([]);
  });

  it("rejects AmazonProvidedDNS outside AWS", () => {
    expect(configProblems({ services: { dnsUpstreams: ["AmazonProvidedDNS"] } }, "home")).toEqual([
      expect.stringMatching(/^services\.dnsUpstreams: "AmazonProvidedDNS" exists only in a VPC/),
    ]);
  });
});

describe("boot script", () => {
  const script = renderBastionBootScript(aws);
  const main = script.slice(script.indexOf("\nmain() {"));
  const order = (step: string) => {
    const at = main.indexOf(step);
    expect(at, step).toBeGreaterThan(0);
    return at;
  };

  it("attaches the ENI and volume before using them, and starts the caches only after egress is up", () => {
    expect(order("use_amazon_dns")).toBeLessThan(order("attach_persistent_eni"));
    expect(order("attach_persistent_eni")).toBeLessThan(order("route_via_eni"));
    expect(order("attach_cache_volume")).toBeLessThan(order("mount_cache_volume"));
    expect(order("mount_cache_volume")).toBeLessThan(order("wait_for_egress"));
    expect(order("wait_for_egress")).toBeLessThan(order("up --detach"));
    expect(order("write_secret")).toBeLessThan(order("up --detach"));
  });

  it("reads secrets by SSM name only, and quotes every config value", () => {
    // Three arguments of write_secret per secret: SSM parameter, variable, env file.
    expect(script).toContain("SECRETS=('/deathstar/pihole/web-password' 'WEBPASSWORD' 'secrets/pihole.env')\n");
    expect(script).toContain('write_secret "${SECRETS[@]:i:3}"');
    expect(renderBastionBootScript(siteConfig({ bastion: { tailscale: { enabled: true } } }))).toContain(
      "SECRETS=('/deathstar/pihole/web-password' 'WEBPASSWORD' 'secrets/pihole.env' '/deathstar/tailscale/auth-key' 'TS_AUTHKEY' 'secrets/tailscale.env')\n",
    );
    expect(script).toContain("ENI_ADDRESS='10.20.13.140'");
    expect(script).toContain("AMAZON_DNS='10.20.0.2'");
    expect(script).toContain(`UPSTREAMS=('https://registry-1.docker.io' 'https://registry.k8s.io' 'https://quay.io' 'https://gcr.io' 'https://ghcr.io')`);
  });

  it("reads a cache's credentials only when it names a parameter, before the containers start", () => {
    expect(script).toContain("REGISTRY_CREDENTIALS=()\n");
    // The functions that check and write credentials are left out when no cache has any (user-data size).
    expect(script).not.toContain("write_registry_credentials() {");
    const caches = aws.services.registryCaches.map((cache) => (cache.name === "docker.io" ? { ...cache, upstream: "https://mirror.gcr.io", credentialsParameter: "/deathstar/registry/docker.io" } : cache));
    const withCredentials = renderBastionBootScript(siteConfig({ services: { registryCaches: caches } }));
    expect(withCredentials).toContain("REGISTRY_CREDENTIALS=('/deathstar/registry/docker.io' 'secrets/registry-docker-io.env' 'https://mirror.gcr.io')\n");
    expect(withCredentials).toContain("write_registry_credentials() {");
    const step = 'write_registry_credentials "${REGISTRY_CREDENTIALS[@]:i:3}"';
    expect(withCredentials.indexOf(step)).toBeGreaterThan(0);
    expect(withCredentials.indexOf(step)).toBeLessThan(withCredentials.indexOf('"${COMPOSE[@]}" up --detach'));
    const [first, ...rest] = aws.services.registryCaches;
    expect(configProblems({ services: { registryCaches: [{ ...first!, credentialsParameter: "deathstar/registry" }, ...rest] } })).toEqual([
      'services.registryCaches.0.credentialsParameter: must be an SSM parameter name starting with "/", e.g. "/deathstar/pihole/web-password"',
    ]);
  });

  it("installs Compose pinned by version and checksum for the configured architecture", () => {
    expect(script).toContain(`COMPOSE_URL='https://github.com/docker/compose/releases/download/${COMPOSE_PLUGIN.version}/docker-compose-linux-aarch64'`);
    expect(script).toContain(`COMPOSE_SHA256='${COMPOSE_PLUGIN.sha256.arm64}'`);
    const x86 = renderBastionBootScript(siteConfig({ architecture: "x86_64", bastion: { instanceType: "t3.small" }, network: { natInstance: { instanceType: "t3.nano" } }, talos: { nodeInstanceType: "t3.small" } }));
    expect(x86).toContain("docker-compose-linux-x86_64");
  });

  it("is run by a unit that retries until it succeeds and takes the containers down on stop", () => {
    const unit = renderBastionBootUnit();
    expect(unit).toContain("ExecStart=/usr/local/sbin/deathstar-bastion-boot");
    expect(unit).toContain("Restart=on-failure");
    expect(unit).toContain("ExecStop=-/usr/bin/docker compose --file /opt/deathstar/compose.yaml down");
  });

  it("stops before the data dir's mount and Docker, so the containers are down before the volume unmounts", () => {
    expect(renderBastionBootUnit()).toMatch(/^After=network-online\.target docker\.service opt-deathstar-data\.mount$/m);
  });
});

describe("cloud-init user-data", () => {
  interface WriteFile {
    path: string;
    permissions?: string;
    encoding: string;
    content: string;
  }
  const parse = (text: string) => parseYaml(text) as { write_files: WriteFile[]; runcmd: string[][] };

  it("is a #cloud-config that writes exactly the rendered files and enables the boot unit", () => {
    const text = renderBastionUserData(aws);
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const document = parse(text);
    const expected = renderBastionCloudConfigFiles(aws);
    expect(document.write_files.map((f) => f.path)).toEqual(expected.map((f) => f.path));
    document.write_files.forEach((file, i) => {
      expect(file.encoding).toBe("gz+b64");
      // cloud-init's own default mode is left out (CLOUD_INIT_DEFAULT_PERMISSIONS).
      expect(file.permissions ?? CLOUD_INIT_DEFAULT_PERMISSIONS).toBe(expected[i]!.permissions);
      expect(gunzipSync(Buffer.from(file.content, "base64")).toString("utf8")).toBe(expected[i]!.content);
    });
    expect(document.runcmd).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "deathstar-bastion.service"],
    ]);
  });

  it("writes the bundle to /opt/deathstar and the scripts executable", () => {
    const files = renderBastionCloudConfigFiles(aws);
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(byPath.get("/opt/deathstar/compose.yaml")!.permissions).toBe("0644");
    expect(byPath.get("/opt/deathstar/scripts/fetch-talos-assets.sh")!.permissions).toBe("0755");
    expect(byPath.get("/usr/local/sbin/deathstar-bastion-boot")!.permissions).toBe("0755");
    expect(byPath.get("/etc/systemd/system/deathstar-bastion.service")).toBeDefined();
    expect([...byPath.keys()].some((p) => p.includes("secrets/"))).toBe(false);
  });

  it("stays under EC2's 16 KB limit, even for the largest config the schema allows", () => {
    // The default (S3 caches, the bastion its own NAT) and the first defaults (a cache volume, a NAT instance).
    const largestOnVolume = siteConfig(mergeOverride(largest, FIRST_DEFAULTS) as Record<string, unknown>);
    for (const config of [defaults, largest, largestOnVolume]) {
      expect(Buffer.byteLength(renderBastionUserData(config))).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    }
  });

  it("renders the same bytes every time (no plan diff without a config change)", () => {
    expect(renderBastionUserData(defaults)).toBe(renderBastionUserData(siteConfig()));
  });
});
