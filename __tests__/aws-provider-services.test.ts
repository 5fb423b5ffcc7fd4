/**
 * scripts/aws-provider-services.py, which limits a source build of the AWS provider to the services
 * the stack uses (scripts/toolchain.sh), run on a small source tree laid out as the provider's two
 * generated files are: the service registry and the SDK client accessors. The real provider's
 * source is built with it by the toolchain; every integration test then runs that build.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir, tempDir } from "./helpers/processes.js";
import { AMD64_COZYSTACK_OVERRIDE, firstDefaultsConfig, siteConfig, synthStack } from "./helpers/synth.js";
import { motoTargets } from "./helpers/tofu.js";

const SCRIPT = join(import.meta.dirname, "..", "scripts", "aws-provider-services.py");
/** The services scripts/toolchain.sh builds the provider with. */
const BUILT_SERVICES = /^aws_provider_services="([^"]+)"$/m.exec(readFileSync(join(import.meta.dirname, "..", "scripts", "toolchain.sh"), "utf8"))![1]!.split(" ");
const MODULE = "github.com/hashicorp/terraform-provider-aws";
const work = scratchDir("aws-provider-services");

const accessor = (name: string, pkg: string) => `func (c *AWSClient) ${name}Client(ctx context.Context) *${pkg}.Client {\n\treturn errs.Must(client[*${pkg}.Client](ctx, c, names.${name}, make(map[string]any)))\n}\n\n`;

/** ec2 imports organizations; each service calls its own client; a test file calls another. */
function sourceTree(): string {
  const root = tempDir("source", work).path;
  const files: Record<string, string> = {
    "internal/provider/sdkv2/service_packages_gen.go": `package sdkv2

import (
\t"context"

\t"${MODULE}/internal/conns"
\t"${MODULE}/internal/service/ec2"
\t"${MODULE}/internal/service/organizations"
\t"${MODULE}/internal/service/sagemaker"
)

func servicePackages(ctx context.Context) []conns.ServicePackage {
\tv := []conns.ServicePackage{
\t\tec2.ServicePackage(ctx),
\t\torganizations.ServicePackage(ctx),
\t\tsagemaker.ServicePackage(ctx),
\t}

\treturn v
}
`,
    "internal/conns/awsclient_gen.go": `package conns

import (
\t"context"

\t"github.com/aws/aws-sdk-go-v2/service/ec2"
\t"github.com/aws/aws-sdk-go-v2/service/organizations"
\t"github.com/aws/aws-sdk-go-v2/service/sagemaker"
\t"${MODULE}/internal/errs"
\t"${MODULE}/names"
)

${accessor("EC2", "ec2")}${accessor("Organizations", "organizations")}${accessor("SageMaker", "sagemaker")}`.trimEnd() + "\n",
    "internal/service/ec2/vpc.go": `package ec2\n\nimport "${MODULE}/internal/service/organizations"\n\nfunc f(c x) { c.EC2Client(ctx); organizations.F() }\n`,
    "internal/service/ec2/vpc_test.go": `package ec2\n\nfunc g(c x) { c.SageMakerClient(ctx) }\n`,
    "internal/service/organizations/account.go": `package organizations\n\nfunc F(c x) { c.OrganizationsClient(ctx) }\n`,
    "internal/service/sagemaker/domain.go": `package sagemaker\n\nfunc h(c x) { c.SageMakerClient(ctx) }\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const trim = (root: string, ...services: string[]) => spawnSync("python3", [SCRIPT, root, ...services], { encoding: "utf8" });
const read = (root: string, path: string) => readFileSync(join(root, path), "utf8");

describe("aws-provider-services.py", () => {
  it("registers only the named services and keeps the clients the compiled code calls, with their SDK imports", () => {
    const root = sourceTree();
    const result = trim(root, "ec2");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("registered 1 services, compiling 2, 2 SDK clients");
    const registry = read(root, "internal/provider/sdkv2/service_packages_gen.go");
    expect(registry.match(/\w+\.ServicePackage\(ctx\)/g)).toEqual(["ec2.ServicePackage(ctx)"]);
    expect(registry).not.toMatch(/service\/(organizations|sagemaker)"/);
    const clients = read(root, "internal/conns/awsclient_gen.go");
    // organizations is compiled (ec2 imports it), so the client it calls stays; a test file's call does not count.
    expect(clients.match(/func \(c \*AWSClient\) (\w+)/g)).toEqual(["func (c *AWSClient) EC2Client", "func (c *AWSClient) OrganizationsClient"]);
    expect(clients).toContain('"github.com/aws/aws-sdk-go-v2/service/organizations"');
    expect(clients).not.toContain("sagemaker");
    expect(clients).toContain(`"${MODULE}/names"`);
  });

  it("gives the same files when run twice", () => {
    const root = sourceTree();
    trim(root, "ec2", "sagemaker");
    const first = [read(root, "internal/provider/sdkv2/service_packages_gen.go"), read(root, "internal/conns/awsclient_gen.go")];
    expect(trim(root, "ec2", "sagemaker").status).toBe(0);
    expect([read(root, "internal/provider/sdkv2/service_packages_gen.go"), read(root, "internal/conns/awsclient_gen.go")]).toEqual(first);
  });

  it("refuses a service the source does not have, naming it", () => {
    const root = sourceTree();
    const result = trim(root, "ec2", "nosuchservice");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no service package internal/service/nosuchservice");
  });

  it("refuses generated files of another shape instead of building something else", () => {
    const root = sourceTree();
    const path = join(root, "internal/conns/awsclient_gen.go");
    writeFileSync(path, read(root, "internal/conns/awsclient_gen.go").replace("func (c *AWSClient) SageMakerClient(ctx context.Context) *sagemaker.Client {", "func (c *AWSClient) SageMakerClient(ctx context.Context, region string) *sagemaker.Client {"));
    const result = trim(root, "ec2");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("accessors of an unexpected shape");
  });
});

describe("the services the toolchain builds the provider with", () => {
  it("include every AWS service a synthesized stack calls (by its endpoint name, as the tests point them at moto)", () => {
    const stacks = [
      siteConfig(),
      firstDefaultsConfig(),
      siteConfig({ network: { nat: "gateway" }, access: { mikrotik: { enabled: true, sources: ["2001:db8::1/128"] } } }),
      siteConfig({ talos: { boot: "ipxe", ipxeAmiId: "ami-0123456789abcdef0" } }),
      siteConfig({ talos: { nodeMarket: "spot" } }),
      siteConfig(AMD64_COZYSTACK_OVERRIDE),
    ].map((config) => synthStack(config));
    const called = new Set(stacks.flatMap((stack) => motoTargets(stack).services));
    expect(called.size).toBeGreaterThan(10);
    expect([...called].filter((service) => !BUILT_SERVICES.includes(service))).toEqual([]);
  });
});
