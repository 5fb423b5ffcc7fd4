/** Baseline for `npm run bench`: a minimal two-resource cdktf app, imported and synthesized the same way as main.ts. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";

const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? join(tmpdir(), "deathstar-bench-minimal") });
const stack = new TerraformStack(app, "minimal");
new AwsProvider(stack, "aws", { region: "eu-west-1" });
const vpc = new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });
new Subnet(stack, "subnet", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24" });
app.synth();
