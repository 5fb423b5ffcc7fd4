/**
 * The bastion boot script's steps run for real in bash, sourced from the rendered script, with
 * only the outside world replaced: the AWS CLI, IMDS, `ip`, and the disk tools answer from
 * files and log every call. Each step runs twice; the second run must change nothing.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { renderBastionBootScript } from "../../templates/bastion-boot.js";
import { firstDefaultsConfig, siteConfig } from "../helpers/synth.js";
import { scratchDir } from "../helpers/processes.js";

// The boot with a cache volume and a NAT instance (the first defaults); the S3 boot below.
const script = renderBastionBootScript(firstDefaultsConfig());

/** Stand-ins defined after sourcing the script; functions take precedence over commands. */
const STUBS = String.raw`
set +e
sleep() { :; }
imds() {
  case $1 in
    meta-data/instance-id) echo i-new ;;
    meta-data/placement/region) echo eu-west-1 ;;
    meta-data/placement/availability-zone) echo eu-west-1a ;;
    meta-data/mac) echo 02:00:00:00:00:01 ;;
    meta-data/network/interfaces/macs/*/vpc-id) echo vpc-1 ;;
    dynamic/instance-identity/document) cat "$STATE/identity" 2>/dev/null ;;
  esac
}
# Answers line n of $STATE/<name>.answers on the n-th call; the last line repeats.
next_answer() {
  local n line
  n=$(cat "$STATE/$1.n" 2>/dev/null || echo 1)
  line=$(sed -n "$n p" "$STATE/$1.answers")
  [ -n "$line" ] || line=$(tail -n 1 "$STATE/$1.answers")
  echo $((n + 1)) > "$STATE/$1.n"
  printf '%s\n' "$line"
}
aws() {
  echo "aws $1 $2" >> "$STATE/calls"
  case "$1 $2" in
    "ec2 describe-volumes") next_answer volumes ;;
    "ec2 describe-network-interfaces") next_answer enis ;;
    "ec2 attach-network-interface") touch "$STATE/eni-up" ;;
    "ec2 attach-volume") : ;;
    "ssm get-parameter") cat "$STATE/parameter" ;;
  esac
}
ip() {
  case "$1 $2" in
    "-o -4") if [ -f "$STATE/eni-up" ]; then echo "3: ens6    inet 10.20.13.140/24 brd 10.20.13.255 scope global ens6"; fi ;;
    "rule show") cat "$STATE/rules" 2>/dev/null ;;
    "rule add") echo "ip $*" >> "$STATE/calls"; printf '100:\tfrom %s lookup %s\n' "$4" "$6" >> "$STATE/rules" ;;
    *) echo "ip $*" >> "$STATE/calls" ;;
  esac
}
blkid() { if [ -f "$STATE/formatted" ]; then return 0; fi; return "$(cat "$STATE/blkid-status")"; }
mkfs.xfs() { echo "mkfs.xfs $*" >> "$STATE/calls"; touch "$STATE/formatted"; }
mountpoint() { [ -f "$STATE/mounted" ]; }
mount() { echo "mount $*" >> "$STATE/calls"; touch "$STATE/mounted"; }
curl() { echo "curl $*" >> "$STATE/calls"; return "$(cat "$STATE/curl-status")"; }
VOLUME_DEVICE=$STATE/sdf
DATA_DIR=$STATE/data
BUNDLE_DIR=$STATE/bundle
`;

let state = "";
let bootFile = "";

beforeEach(() => {
  state = scratchDir("boot");
  bootFile = join(state, "deathstar-bastion-boot");
  writeFileSync(bootFile, script);
  writeFileSync(join(state, "calls"), "");
});

/** Runs `body` after sourcing the script and the stubs; returns its status, output and the calls it made. */
function step(body: string): { status: number | null; output: string; calls: string[] } {
  writeFileSync(join(state, "calls"), "");
  const result = spawnSync("bash", ["-c", `source "$BOOT"\n${STUBS}\n${body}`], {
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH, BOOT: bootFile, STATE: state },
  });
  if (result.error) throw result.error;
  const calls = readFileSync(join(state, "calls"), "utf8").split("\n").filter(Boolean);
  return { status: result.status, output: `${result.stdout}${result.stderr}`, calls };
}

const answers = (name: string, lines: string[]) => writeFileSync(join(state, `${name}.answers`), `${lines.join("\n")}\n`);
const mutating = (calls: string[]) => calls.filter((c) => /attach-|mkfs|^mount |rule add|route replace/.test(c));

describe("persistent ENI", () => {
  it("waits while a predecessor holds it, attaches it once, routes replies through it, and changes nothing on a rerun", () => {
    answers("enis", ["eni-1 in-use i-old", "eni-1 available None", "eni-1 in-use i-new"]);
    const first = step("attach_persistent_eni && route_via_eni");
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain("ENI for 10.20.13.140 is in-use (attached to i-old); waiting");
    expect(mutating(first.calls)).toEqual([
      "aws ec2 attach-network-interface",
      "ip route replace 10.20.13.0/24 dev ens6 src 10.20.13.140 table 140",
      "ip route replace default via 10.20.13.1 dev ens6 table 140",
      "ip rule add from 10.20.13.140 lookup 140 priority 100",
    ]);

    const second = step("attach_persistent_eni && route_via_eni");
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain("already attached");
    // `ip route replace` is idempotent by definition; nothing else may happen again.
    expect(mutating(second.calls).filter((c) => !c.startsWith("ip route replace"))).toEqual([]);
  });
});

describe("cache volume", () => {
  beforeEach(() => {
    const made = spawnSync("mknod", [join(state, "sdf"), "b", "7", "250"]);
    if (made.status !== 0) throw new Error(`mknod needs root: ${made.stderr}`);
  });

  it("attaches the tagged volume once it is available, then finds it attached on a rerun", () => {
    answers("volumes", ["vol-1 in-use i-old eu-west-1a", "vol-1 available None eu-west-1a", "vol-1 in-use i-new eu-west-1a"]);
    const first = step("attach_cache_volume");
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain(join(state, "sdf"));
    expect(first.output).toContain("cache volume is in-use (attached to i-old); waiting");
    expect(mutating(first.calls)).toEqual(["aws ec2 attach-volume"]);

    const second = step("attach_cache_volume");
    expect(second.status, second.output).toBe(0);
    expect(mutating(second.calls)).toEqual([]);
  });

  it("refuses a volume in another availability zone with a pointer to the docs", () => {
    answers("volumes", ["vol-1 available None eu-west-1b"]);
    const result = step("attach_cache_volume");
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("cache volume vol-1 is in eu-west-1b but this instance is in eu-west-1a; see docs/troubleshooting.md");
    expect(mutating(result.calls)).toEqual([]);
  });

  it("formats a blank volume once, mounts it once, and leaves it alone on a rerun", () => {
    writeFileSync(join(state, "blkid-status"), "2");
    const first = step(`mount_cache_volume "$STATE/sdf"`);
    expect(first.status, first.output).toBe(0);
    expect(mutating(first.calls)).toEqual([`mkfs.xfs -q -L deathstar-cache ${state}/sdf`, `mount ${state}/sdf ${state}/data`]);
    const second = step(`mount_cache_volume "$STATE/sdf"`);
    expect(second.status, second.output).toBe(0);
    expect(mutating(second.calls)).toEqual([]);
  });

  it("never formats a device blkid cannot probe", () => {
    writeFileSync(join(state, "blkid-status"), "4");
    const result = step(`mount_cache_volume "$STATE/sdf"`);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("blkid exit 4); not formatting it");
    expect(mutating(result.calls)).toEqual([]);
  });
});

describe("cache bucket (bastion.cacheStorage s3)", () => {
  const s3Script = renderBastionBootScript(siteConfig({ bastion: { cacheStorage: "s3" }, images: { registry: "registry:3.0.0" } }));
  // The instance identity document as IMDS serves it: pretty-printed JSON, one key a line.
  const identity = ["{", '  "accountId" : "210987654321",', '  "architecture" : "arm64",', '  "region" : "eu-west-1",', '  "instanceId" : "i-new"', "}"].join("\n");

  beforeEach(() => writeFileSync(bootFile, s3Script));

  it("names the bucket after the account in the registry env file, makes the data dir, touches no volume, and changes nothing on a rerun", () => {
    writeFileSync(join(state, "identity"), `${identity}\n`);
    const first = step("use_cache_bucket");
    expect(first.status, first.output).toBe(0);
    expect(readFileSync(join(state, "bundle", "registry", "s3.env"), "utf8")).toBe("REGISTRY_STORAGE_S3_BUCKET=deathstar-registry-cache-eu-west-1-210987654321\n");
    expect(statSync(join(state, "data")).isDirectory()).toBe(true);
    expect(first.output).toContain("registry caches store to s3://deathstar-registry-cache-eu-west-1-210987654321");
    expect(first.calls).toEqual([]);
    const before = statSync(join(state, "bundle", "registry", "s3.env")).mtimeMs;
    const second = step("use_cache_bucket");
    expect(second.status, second.output).toBe(0);
    expect(statSync(join(state, "bundle", "registry", "s3.env")).mtimeMs).toBe(before);
  });

  it("fails with a reason when the identity document names no account", () => {
    writeFileSync(join(state, "identity"), "{}\n");
    const result = step("use_cache_bucket");
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("no account id in the instance identity document");
    expect(existsSync(join(state, "bundle", "registry", "s3.env"))).toBe(false);
  });

  it("runs the bucket step instead of the volume steps", () => {
    const main = step("declare -f main");
    expect(main.output).toMatch(/if \[ "\$CACHE_STORAGE" = s3 \]; then\s+use_cache_bucket;\s+else\s+device=\$\(attach_cache_volume\);\s+mount_cache_volume "\$device";/);
  });
});

describe("secrets", () => {
  const envFile = () => join(state, "bundle", "secrets", "pihole.env");

  it("writes the SSM value to a root-only env file without logging it, and leaves the file alone on a rerun", () => {
    writeFileSync(join(state, "parameter"), "correct horse battery staple\n");
    const first = step("write_secret /deathstar/pihole/web-password WEBPASSWORD secrets/pihole.env");
    expect(first.status, first.output).toBe(0);
    expect(readFileSync(envFile(), "utf8")).toBe("WEBPASSWORD='correct horse battery staple'\n");
    expect(statSync(envFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, "bundle", "secrets")).mode & 0o777).toBe(0o700);
    expect(first.output).not.toContain("horse");

    const before = statSync(envFile());
    const second = step("write_secret /deathstar/pihole/web-password WEBPASSWORD secrets/pihole.env");
    expect(second.status, second.output).toBe(0);
    expect(statSync(envFile()).ino).toBe(before.ino);
    expect(statSync(envFile()).mtimeMs).toBe(before.mtimeMs);
  });

  it("refuses a value an env file cannot carry", () => {
    writeFileSync(join(state, "parameter"), "it's\n");
    const result = step("write_secret /deathstar/pihole/web-password WEBPASSWORD secrets/pihole.env");
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("contains a quote or a newline");
    expect(existsSync(envFile())).toBe(false);
  });
});

describe("egress", () => {
  it("passes once every upstream answers and fails with a pointer to the NAT when one never does", () => {
    writeFileSync(join(state, "curl-status"), "0");
    const up = step("wait_for_egress");
    expect(up.status, up.output).toBe(0);
    expect(up.calls.map((c) => c.split(" ").at(-1))).toEqual([
      "https://registry-1.docker.io/v2/",
      "https://registry.k8s.io/v2/",
      "https://quay.io/v2/",
      "https://gcr.io/v2/",
      "https://ghcr.io/v2/",
    ]);

    writeFileSync(join(state, "curl-status"), "7");
    const down = step("wait_for_egress");
    expect(down.status).not.toBe(0);
    expect(down.output).toContain("https://registry-1.docker.io is unreachable; check the NAT");
  });
});
