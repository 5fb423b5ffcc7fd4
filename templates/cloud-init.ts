/**
 * The bastion's EC2 user-data: a `#cloud-config` document that writes the bundle to
 * /opt/deathstar, the boot script and its systemd unit, then enables the unit. cloud-init runs
 * once per instance; the unit runs on every boot, so a reboot or a replacement converges to the
 * same state. No secret and no Terraform reference is in here: secrets are SSM parameter names.
 *
 * EC2 caps user-data at 16 KB, so bundle files are written gzip+base64 (`encoding: gz+b64`);
 * `renderBastionCloudConfigFiles` returns the same files uncompressed for inspection.
 */
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import type { SiteConfig } from "../config/schema.js";
import { BOOT_SCRIPT_PATH, BOOT_UNIT_NAME, BUNDLE_DIR, renderBastionBootScript, renderBastionBootUnit } from "./bastion-boot.js";
import { isBundleScript, renderBastionBundle } from "./bundle.js";

/** EC2's limit on user-data, before base64. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/**
 * The mode cloud-init gives a written file that names none (`DEFAULT_PERMS = 0o644` in
 * cloudinit/config/cc_write_files.py): entries with this mode leave `permissions` out, about
 * 25 bytes each of the 16 KB.
 */
export const CLOUD_INIT_DEFAULT_PERMISSIONS = "0644";

export interface CloudConfigFile {
  readonly path: string;
  /** Octal mode as cloud-init expects it, e.g. "0644". */
  readonly permissions: string;
  readonly content: string;
}

/** Every file the user-data writes, uncompressed, by absolute path on the bastion. */
export function renderBastionCloudConfigFiles(config: Readonly<SiteConfig>): CloudConfigFile[] {
  const bundle = Object.entries(renderBastionBundle(config)).map(([path, content]) => ({
    path: `${BUNDLE_DIR}/${path}`,
    permissions: isBundleScript(path) ? "0755" : "0644",
    content,
  }));
  return [
    ...bundle,
    { path: BOOT_SCRIPT_PATH, permissions: "0755", content: renderBastionBootScript(config) },
    { path: `/etc/systemd/system/${BOOT_UNIT_NAME}`, permissions: "0644", content: renderBastionBootUnit() },
  ];
}

export function renderBastionUserData(config: Readonly<SiteConfig>): string {
  const document = {
    write_files: renderBastionCloudConfigFiles(config).map((file) => ({
      path: file.path,
      ...(file.permissions === CLOUD_INIT_DEFAULT_PERMISSIONS ? {} : { permissions: file.permissions }),
      encoding: "gz+b64",
      content: gzipSync(file.content, { level: 9 }).toString("base64"),
    })),
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", BOOT_UNIT_NAME],
    ],
  };
  return `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
}
