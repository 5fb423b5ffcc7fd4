/**
 * The home site's dnsmasq for real, in a network namespace of the test's own: the rendered
 * dnsmasq.conf with one path changed (the TFTP root: the test's, in place of the container's), its
 * lease file in the test's dir. Used by the DHCP test (a veth to a client namespace) and the U-Boot
 * test (a tap device QEMU attaches to).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SiteConfig } from "../../config/schema.js";
import { renderDnsmasqConfig } from "../../templates/dnsmasq.js";
import { startProcess, waitUntil, type RunningProcess } from "./processes.js";

/** `ip` with its output captured; fails with ip's message. */
export const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });

/** A namespace or interface name unique per run (interface names have 15 characters at most). */
export const uniqueName = (prefix: string) => `${prefix}${randomBytes(3).toString("hex")}`;

/** Deletes the namespaces that exist of `names` (with them their veth and tap devices). */
export function deleteNamespaces(...names: string[]): void {
  for (const ns of names) {
    try {
      ip("netns", "delete", ns);
    } catch {
      // never created
    }
  }
}

/**
 * Starts dnsmasq in `ns` with the rendered config of `config` serving TFTP from `tftpRoot`, its
 * config, lease file and log in `dir`; resolves once it serves DHCP. dnsmasq reads the TFTP root
 * after dropping root, so `dir` is made world-readable.
 */
export async function startHomeDnsmasq(config: Readonly<SiteConfig>, ns: string, dir: string, tftpRoot: string): Promise<RunningProcess> {
  if (process.getuid?.() !== 0) throw new Error("network namespaces need root (npm test runs as root in CI)");
  const rendered = renderDnsmasqConfig(config);
  if (rendered.match(/^tftp-root=.*$/gm)?.length !== 1) throw new Error("the rendered dnsmasq.conf should have one tftp-root line");
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "dnsmasq.conf"), rendered.replace(/^tftp-root=.*$/m, `tftp-root=${tftpRoot}`));
  const server = startProcess(
    "ip",
    [
      ...["netns", "exec", ns, "dnsmasq", "--keep-in-foreground", `--conf-file=${join(dir, "dnsmasq.conf")}`],
      // Test-only: the lease file in the temp dir, no pid file.
      ...[`--dhcp-leasefile=${join(dir, "leases")}`, "--pid-file="],
    ],
    { name: "dnsmasq", logFile: join(dir, "dnsmasq.log") },
  );
  await waitUntil("dnsmasq to serve DHCP", () => server.log().includes("DHCP, IP range"), { timeoutMs: 20_000, process: server });
  return server;
}
