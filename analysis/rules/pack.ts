/**
 * The project's security rules, run on every synth (see aspect.ts). Each rule lives in its own
 * file with its explanation and fix; `__tests__/analysis/rules/<file>.test.ts` holds a passing and a
 * failing case for each.
 *
 * | id                                   | file                              |
 * |--------------------------------------|-----------------------------------|
 * | DS-EC2-IMDSV2                        | imdsv2-required.ts                |
 * | DS-EC2-IMDS-HOP-LIMIT                | imds-hop-limit.ts                 |
 * | DS-EBS-ENCRYPTED                     | ebs-encrypted.ts                  |
 * | DS-SG-NO-OPEN-INGRESS                | no-open-ingress.ts                |
 * | DS-NET-NO-PUBLIC-IP-PRIVATE          | no-public-ip-in-private-subnet.ts |
 * | DS-NET-PUBLIC-IP-NO-INTERNET-INGRESS | public-ip-no-internet-ingress.ts  |
 * | DS-IAM-SCOPED                        | iam-scoped.ts                     |
 * | DS-NO-SECRETS                        | no-secrets.ts                     |
 */
import { ebsEncrypted } from "./ebs-encrypted.js";
import { iamScoped } from "./iam-scoped.js";
import { imdsHopLimit } from "./imds-hop-limit.js";
import { imdsv2Required } from "./imdsv2-required.js";
import { noOpenIngress } from "./no-open-ingress.js";
import { noPublicIpInPrivateSubnet } from "./no-public-ip-in-private-subnet.js";
import { noSecrets } from "./no-secrets.js";
import { publicIpNoInternetIngress } from "./public-ip-no-internet-ingress.js";
import { type SecurityRule } from "./rule.js";

export const SECURITY_RULES: readonly SecurityRule[] = [imdsv2Required, imdsHopLimit, ebsEncrypted, noOpenIngress, noPublicIpInPrivateSubnet, publicIpNoInternetIngress, iamScoped, noSecrets];
