/**
 * The owner's hand-written lab (__tests__/fixtures/owner-lab): a VPC module with only a public
 * subnet and a jump-host module, as `existing.modules` entries that keep them in module mode.
 */
import { join } from "node:path";
import { REPO_ROOT } from "./project.js";

export const OWNER_LAB_DIR = join(REPO_ROOT, "__tests__", "fixtures", "owner-lab");

/** The lab's two modules, with their sources under `modulesDir` (relative to the project root). */
export function ownerLabModules(modulesDir: string) {
  const network = {
    name: "network",
    source: `${modulesDir}/vpc`,
    inputs: { name: "homelab", cidr: "10.20.0.0/16", azs: ["eu-west-1a"], public_subnets: ["10.20.1.0/24"] },
    outputs: { vpcId: "vpc_id", publicSubnetId: { output: "public_subnet_ids", index: 0 } },
  };
  const jump = {
    name: "jump",
    source: `${modulesDir}/bastion`,
    inputs: {
      name: "homelab-jump",
      vpc_id: { fromModule: "network", output: "vpc_id" },
      subnet_id: { fromModule: "network", output: "public_subnet_ids", index: 0 },
      ami_id: "ami-0a1b2c3d4e5f60718",
      ssh_from: ["2001:db8::10/128"],
    },
    outputs: {},
  };
  return { network, jump };
}
