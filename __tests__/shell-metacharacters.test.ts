/**
 * Shell metacharacters never reach a boot script unquoted: the schema refuses them in every string
 * field, and the renderers quote whatever they are given (checked here with values that bypass
 * validation, through bash -n and by running the rendered assignments; shellcheck reads the same
 * scripts in the integration tests).
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, mergeOverride, validateSiteConfig } from "../config/load.js";
import { SITES } from "../config/sites.js";
import { renderNatInstanceScript } from "../templates/nat-instance.js";
import { shellAssignments } from "../templates/shell.js";
import { hostileNatInput, hostileScripts, hostileValues } from "./helpers/hostile-shell.js";
import { scratchDir } from "./helpers/processes.js";

const work = scratchDir("shell");
const canary = join(work, "canary");
const HOSTILE = hostileValues(canary);

type Path = (string | number)[];

function stringLeaves(value: unknown, path: Path = []): Path[] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, [...path, i]));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

function withValue(config: unknown, path: Path, value: string): unknown {
  const copy = structuredClone(config) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

/** Every string field of both built-in sites, plus the optional ones and a tag. */
const withOptionals = mergeOverride(SITES.aws, {
  talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0", machineConfigUrl: "http://10.20.13.140:8080/talos/controlplane.yaml" },
  bastion: { dnsmasq: { dhcp: true, tftp: true, rangeStart: "10.20.13.160", rangeEnd: "10.20.13.239", router: "10.20.13.254" } },
  services: { registryCaches: SITES.aws.services.registryCaches.map((cache) => ({ ...cache, credentialsParameter: `/deathstar/registry/${cache.name}` })) },
  tags: { Owner: "lab" },
});
const fields = [
  ...stringLeaves(withOptionals).map((path) => ["aws", withOptionals, path] as const),
  ...stringLeaves(SITES.home).map((path) => ["home", SITES.home, path] as const),
];

function shell(command: string, args: string[], input?: string): string {
  return execFileSync(command, args, { input, encoding: "utf8", timeout: 30_000, stdio: ["pipe", "pipe", "pipe"] });
}

describe("shell metacharacters", () => {
  it("the base config with every optional field set is itself valid", () => {
    expect(() => validateSiteConfig(withOptionals, "test")).not.toThrow();
    expect(fields.length).toBeGreaterThan(50);
  });

  it.each(fields.map(([site, base, path]) => [`${site} ${path.join(".")}`, base, path] as const))(
    "are refused in %s",
    (_name, base, path) => {
      for (const value of HOSTILE) {
        let error: unknown;
        try {
          validateSiteConfig(withValue(base, path, value), "test");
        } catch (caught) {
          error = caught;
        }
        expect(error, `${path.join(".")} accepted ${JSON.stringify(value)}`).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).problems.some((p) => p.startsWith(`${path.join(".")}:`))).toBe(true);
      }
    },
  );

  describe("rendered unvalidated into the NAT instance script", () => {
    const input = hostileNatInput(canary);
    const script = renderNatInstanceScript(input);

    it("keeps every value literal when the assignments run", () => {
      const assignments = shellAssignments({ ENI_ADDRESS: input.eniAddress, VPC_CIDR: input.vpcCidr, PUBLIC_ROUTER: input.publicSubnetRouter });
      expect(script).toContain(`\n${assignments}\n`);
      const printed = shell("bash", ["-c", `${assignments}\nprintf '%s\\0' "$ENI_ADDRESS" "$VPC_CIDR" "$PUBLIC_ROUTER"`]);
      expect(printed.split("\0").slice(0, 3)).toEqual([input.eniAddress, input.vpcCidr, input.publicSubnetRouter]);
      expect(existsSync(canary)).toBe(false);
    });
  });

  // shellcheck reads the same scripts in __tests__/integration/bastion-tools.test.ts (it is not an npm package).
  describe("rendered unvalidated into every shell script", () => {
    const scripts = hostileScripts(canary);

    it("covers the NAT setup, the boot script and the Talos asset fetcher", () => {
      expect(scripts.length).toBeGreaterThanOrEqual(3);
    });

    it.each(scripts.map((script) => [script.name, script.content] as const))("%s passes bash -n", (name, content) => {
      expect(content, "the hostile values must reach the script for this test to mean anything").toContain(`touch ${canary}`);
      const file = join(work, name);
      writeFileSync(file, content);
      expect(shell("bash", ["-n", file])).toBe("");
    });
  });
});
