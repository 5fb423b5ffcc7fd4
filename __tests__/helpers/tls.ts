/** A throwaway CA and one server certificate for `hosts`, made with openssl for one test run. */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificates {
  /** PEM file of the CA, for clients (CURL_CA_BUNDLE, an image's CA bundle). */
  readonly caFile: string;
  readonly leaf: { readonly cert: string; readonly key: string };
}

export function testCertificates(dir: string, hosts: readonly string[]): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "1", "-subj", "/CN=deathstar test CA");
  openssl("req", ...ec, "-keyout", path("leaf.key"), "-out", path("leaf.csr"), "-subj", `/CN=${hosts[0]}`, "-addext", `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}`);
  openssl("x509", "-req", "-in", path("leaf.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial", "-out", path("leaf.crt"), "-days", "1", "-copy_extensions", "copy");
  return { caFile: path("ca.crt"), leaf: { cert: path("leaf.crt"), key: path("leaf.key") } };
}
