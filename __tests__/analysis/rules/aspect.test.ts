import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { App, Testing } from "cdktf";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { describe, expect, it } from "vitest";
import { SecurityRuleError } from "../../../analysis/rules/aspect.js";
import { SECURITY_RULES } from "../../../analysis/rules/pack.js";
import { DeathStarStack } from "../../../stacks/deathstar.js";
import { siteConfig, synthStack } from "../../helpers/synth.js";
import { scratchDir } from "../../helpers/processes.js";

const RULES_DIR = join(import.meta.dirname, "../../../analysis/rules");
/** Files in analysis/rules that are machinery, not rules. */
const NOT_RULES = new Set(["rule.ts", "pack.ts", "aspect.ts", "policy-document.ts"]);

/** A real stack plus resources that break three rules; tokens (subnet id, SG id) must resolve for the rules to see them. */
function stackWithViolations(app: App): DeathStarStack {
  const stack = new DeathStarStack(app, siteConfig());
  const privateSubnet = stack.node.findAll().find((c): c is Subnet => c instanceof Subnet && c.friendlyUniqueId === "private")!;
  const probe = new Instance(stack, "probe", {
    ami: "ami-0123456789abcdef0",
    instanceType: "t4g.nano",
    subnetId: privateSubnet.id,
    associatePublicIpAddress: true,
    rootBlockDevice: { encrypted: true },
    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
  });
  probe.overrideLogicalId("probe");
  const open = new VpcSecurityGroupIngressRule(stack, "open", { securityGroupId: "sg-0123456789abcdef0", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" });
  open.overrideLogicalId("open_ssh");
  return stack;
}

describe("security rules on the synthesized stack", () => {
  it.each([
    ["NAT instance", {}],
    ["NAT gateway, MikroTik group", { network: { nat: "gateway" }, access: { mikrotik: { enabled: true, sources: ["2001:db8::1/128"] } } }],
    ["bastion as its own NAT", { network: { nat: "bastion" } }],
  ])("pass on the built-in AWS site (%s)", (_name, overrides) => {
    expect(() => synthStack(siteConfig(overrides))).not.toThrow();
  });

  it("fail synth with every violation's rule, resource address and fix", () => {
    const error = (() => {
      try {
        Testing.synth(stackWithViolations(Testing.app()), true);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SecurityRuleError);
    const violations = (error as SecurityRuleError).violations.map((v) => `${v.ruleId} ${v.address}`);
    expect(violations).toEqual(["DS-NET-NO-PUBLIC-IP-PRIVATE aws_instance.probe", "DS-SG-NO-OPEN-INGRESS aws_vpc_security_group_ingress_rule.open_ssh"]);
    const message = (error as Error).message;
    expect(message).toContain("[DS-NET-NO-PUBLIC-IP-PRIVATE] aws_instance.probe: associate_public_ip_address is true in private subnet ${aws_subnet.private.id}");
    expect(message).toContain("[DS-SG-NO-OPEN-INGRESS] aws_vpc_security_group_ingress_rule.open_ssh: cidr_ipv4 allows ingress from 0.0.0.0/0");
    expect(message.match(/^ {6}fix: /gm)).toHaveLength(2);
  });

  it("write nothing when a rule fails during app.synth()", () => {
    const outdir = scratchDir("rules");
    const app = new App({ outdir, skipValidation: false });
    stackWithViolations(app);
    expect(() => app.synth()).toThrow(SecurityRuleError);
    expect(existsSync(join(outdir, "stacks", "deathstar", "cdk.tf.json"))).toBe(false);
  });

  it("keep one rule per file, each in the pack with a unique id and its own test file", () => {
    const ruleFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith(".ts") && !NOT_RULES.has(f));
    expect(ruleFiles).toHaveLength(SECURITY_RULES.length);
    expect(new Set(SECURITY_RULES.map((r) => r.id)).size).toBe(SECURITY_RULES.length);
    const tests = readdirSync(import.meta.dirname);
    for (const file of ruleFiles) expect(tests).toContain(`${basename(file, ".ts")}.test.ts`);
    for (const rule of SECURITY_RULES) {
      expect(rule.explanation.length).toBeGreaterThan(40);
      expect(rule.fix.length).toBeGreaterThan(40);
    }
  });
});
