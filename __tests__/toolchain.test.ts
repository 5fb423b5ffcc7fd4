/**
 * scripts/toolchain.sh takes OpenTofu's release download and the provider's registry package where
 * they can be had, and builds from source when they cannot. The script is sourced and its own
 * functions run against a release server on 127.0.0.1 that refuses, serves a wrong checksum or
 * serves a good archive made here; the Go build (minutes to an hour) is replaced by a recorder, and
 * the OpenTofu in the good archive is a script that plays `tofu providers mirror` (the real one
 * needs the registry; the integration suite runs the real OpenTofu and provider).
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, scratchDir } from "./helpers/processes.js";

const REPO = join(import.meta.dirname, "..");
const VERSION = readFileSync(join(REPO, ".terraform-version"), "utf8").trim();
const PROVIDER_VERSION = /^aws_provider_version=(.+)$/m.exec(readFileSync(join(REPO, "scripts/toolchain.sh"), "utf8"))![1]!;
const PLATFORM = "linux_amd64";
const ARCHIVE = `tofu_${VERSION}_${PLATFORM}.tar.gz`;
const work = scratchDir("toolchain");

/**
 * The OpenTofu of the good archive: answers `version`, and `providers mirror` as the real one lays
 * out a packed mirror (a zip per platform) when FAKE_MIRROR=package, or fails as it fails offline.
 * It refuses to mirror unless called the way the script must call it.
 */
const FAKE_TOFU = `#!/bin/sh
set -eu
if [ "$1" = version ]; then echo "OpenTofu v${VERSION}"; echo "on ${PLATFORM}"; exit 0; fi
[ "$1 $2 $3" = "providers mirror -platform=${PLATFORM}" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
grep -q '"source":"hashicorp/aws","version":"${PROVIDER_VERSION}"' main.tf.json || { echo "no hashicorp/aws ${PROVIDER_VERSION} required" >&2; exit 2; }
[ ! -s "$TF_CLI_CONFIG_FILE" ] || { echo "a CLI config that may send hashicorp/aws elsewhere" >&2; exit 2; }
if [ "$FAKE_MIRROR" != package ]; then echo "Error: Failed to query available provider packages" >&2; exit 1; fi
dir="$4/registry.opentofu.org/hashicorp/aws"
mkdir -p "$dir"
python3 - "$dir/terraform-provider-aws_${PROVIDER_VERSION}_${PLATFORM}.zip" <<'PY'
import sys, zipfile
info = zipfile.ZipInfo("terraform-provider-aws_v${PROVIDER_VERSION}_x5")
info.external_attr = 0o755 << 16
with zipfile.ZipFile(sys.argv[1], "w") as package:
    package.writestr(info, "#!/bin/sh\\necho provider from the registry\\n")
PY
`;

/** The release files the server answers, by URL path; every request it gets, in order. */
const served = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let releases: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? "");
    const body = served.get(request.url ?? "");
    response.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  releases = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A release archive holding `tofu` with `content`, and its SHA256SUMS line. */
function releaseArchive(content: string): { archive: Buffer; sums: string } {
  const dir = join(work, `archive-${createHash("sha256").update(content).digest("hex").slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tofu"), content);
  chmodSync(join(dir, "tofu"), 0o755);
  execFileSync("tar", ["-czf", join(dir, ARCHIVE), "-C", dir, "tofu"]);
  const archive = readFileSync(join(dir, ARCHIVE));
  return { archive, sums: `${"0".repeat(64)}  tofu_${VERSION}_linux_arm64.tar.gz\n${createHash("sha256").update(archive).digest("hex")}  ${ARCHIVE}\n` };
}

function serve(files: Record<string, string | Buffer>): void {
  served.clear();
  for (const [name, body] of Object.entries(files)) served.set(`/v${VERSION}/${name}`, Buffer.from(body));
}

/** A PATH without any tofu, so only the script's own choice can provide one. */
const pathWithoutTofu = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "" && !existsSync(join(dir, "tofu"))).join(delimiter);

/**
 * Sources the toolchain with its cache in `cache`, the Go build replaced by a recorder (each call a
 * line in <cache>/builds, the output a script saying "built from source"), runs `steps`, and
 * returns what it printed, the builds and the time it took.
 */
async function toolchain(cache: string, base: string, steps: string, env: Record<string, string> = {}) {
  const script = `
    set -euo pipefail
    source "${REPO}/scripts/toolchain.sh"
    platform() { echo ${PLATFORM}; }
    go_build_module() { mkdir -p "$cache"; printf '%s\\n' "$1 $2" >> "$cache/builds"; mkdir -p "$(dirname "$3")"; printf '#!/bin/sh\\necho built from source\\n' > "$3"; chmod +x "$3"; }
    ${steps}`;
  const started = performance.now();
  // Asynchronous: the release server answers from this process's event loop.
  const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "bash",
      ["-c", script],
      { encoding: "utf8", env: { ...process.env, PATH: pathWithoutTofu, XDG_CACHE_HOME: cache, DEATHSTAR_TOFU_RELEASES_URL: base, FAKE_MIRROR: "fail", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
  const builds = existsSync(join(cache, "deathstar", "builds")) ? readFileSync(join(cache, "deathstar", "builds"), "utf8").trim().split("\n") : [];
  return { ...result, builds, ms: performance.now() - started };
}

const tofuIn = (cache: string) => join(cache, "deathstar", "tofu", VERSION, "tofu");
const providerDir = (cache: string) => join(cache, "deathstar", "provider-mirror", "registry.opentofu.org", "hashicorp", "aws", PROVIDER_VERSION, PLATFORM);
const run = (file: string) => execFileSync(file, ["version"], { encoding: "utf8" }).split("\n")[0];

describe("OpenTofu: the release download first, the source build when it fails", () => {
  it("a release server that refuses the connection sends it to the source build at once", async () => {
    const cache = join(work, "refused");
    const result = await toolchain(cache, `http://127.0.0.1:${await freePort()}`, `provide_tofu; echo "tofu_bin=$tofu_bin"`);
    expect(result.status, result.stderr).toBe(0);
    expect(result.builds).toEqual([`github.com/opentofu/opentofu v${VERSION}`]);
    expect(result.stdout).toContain(`tofu_bin=${tofuIn(cache)}`);
    expect(run(tofuIn(cache))).toBe("built from source");
    expect(result.stderr).toContain("no OpenTofu release download; building it from source");
    expect(result.ms).toBeLessThan(10_000);
  });

  it.each([
    ["an archive that does not match its SHA256SUMS line", (good: ReturnType<typeof releaseArchive>) => good.sums.replace(/^[0-9a-f]{64}(?=  tofu_.*_linux_amd64)/m, "f".repeat(64)), "does not match its SHA256SUMS line"],
    ["SHA256SUMS without a line for the archive", () => `${"0".repeat(64)}  tofu_${VERSION}_darwin_arm64.tar.gz\n`, `lists no ${ARCHIVE}`],
  ])("%s is not installed: the source build takes over", async (_, sums, reason) => {
    const cache = join(work, reason.replaceAll(" ", "-"));
    const good = releaseArchive(FAKE_TOFU);
    serve({ [ARCHIVE]: good.archive, [`tofu_${VERSION}_SHA256SUMS`]: sums(good) });
    const result = await toolchain(cache, releases, "provide_tofu");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(reason);
    expect(result.builds).toEqual([`github.com/opentofu/opentofu v${VERSION}`]);
    expect(run(tofuIn(cache))).toBe("built from source");
  });

  it("an archive whose tofu is another version is not installed", async () => {
    const cache = join(work, "other-version");
    const other = releaseArchive(`#!/bin/sh\necho "OpenTofu v1.0.0"\n`);
    serve({ [ARCHIVE]: other.archive, [`tofu_${VERSION}_SHA256SUMS`]: other.sums });
    const result = await toolchain(cache, releases, "provide_tofu");
    expect(result.stderr).toContain(`holds no OpenTofu v${VERSION}`);
    expect(result.builds).toEqual([`github.com/opentofu/opentofu v${VERSION}`]);
  });
});

describe("a release server with a good archive", () => {
  const good = releaseArchive(FAKE_TOFU);

  it("installs the checked archive's tofu, builds nothing, and asks nothing again once cached", async () => {
    const cache = join(work, "good");
    serve({ [ARCHIVE]: good.archive, [`tofu_${VERSION}_SHA256SUMS`]: good.sums });
    requests.length = 0;
    const result = await toolchain(cache, releases, "provide_tofu");
    expect(result.status, result.stderr).toBe(0);
    expect(result.builds, result.stderr).toEqual([]);
    expect(readFileSync(tofuIn(cache), "utf8")).toBe(FAKE_TOFU);
    expect(result.stderr).toMatch(new RegExp(`downloaded OpenTofu v${VERSION.replaceAll(".", "\\.")} \\(checked against its SHA256SUMS\\)`));
    expect(requests).toEqual([`/v${VERSION}/tofu_${VERSION}_SHA256SUMS`, `/v${VERSION}/${ARCHIVE}`]);
    const again = await toolchain(cache, releases, "provide_tofu");
    expect([again.status, again.builds, requests.length]).toEqual([0, [], 2]);
  });

  it("the provider: a registry that cannot be reached sends it to the source build", async () => {
    const cache = join(work, "provider-offline");
    serve({ [ARCHIVE]: good.archive, [`tofu_${VERSION}_SHA256SUMS`]: good.sums });
    const result = await toolchain(cache, releases, "provide_tofu; provide_aws_provider", { FAKE_MIRROR: "fail" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("Failed to query available provider packages");
    expect(result.builds).toEqual([expect.stringMatching(/^github\.com\/hashicorp\/terraform-provider-aws v1\.60\.1-/)]);
    expect(run(join(providerDir(cache), `terraform-provider-aws_v${PROVIDER_VERSION}`))).toBe("built from source");
    expect(result.stderr).toMatch(/building it from source with: autoscaling budgets cloudwatch ec2 /);
    // Warm: the same build is kept; a build of another service list is built again.
    const again = await toolchain(cache, releases, "provide_tofu; provide_aws_provider", { FAKE_MIRROR: "fail" });
    expect([again.status, again.builds]).toEqual([0, result.builds]);
    const other = await toolchain(cache, releases, 'aws_provider_services="ec2 meta sts"; provide_tofu; provide_aws_provider', { FAKE_MIRROR: "fail" });
    expect(other.status, other.stderr).toBe(0);
    expect(other.builds).toHaveLength(2);
    expect(other.stderr).toContain("building it from source with: ec2 meta sts");
  });

  it("the provider: the registry's package, mirrored by tofu, unpacked where tofu init looks; nothing built, nothing fetched again", async () => {
    const cache = join(work, "provider-registry");
    serve({ [ARCHIVE]: good.archive, [`tofu_${VERSION}_SHA256SUMS`]: good.sums });
    const result = await toolchain(cache, releases, "provide_tofu; provide_aws_provider", { FAKE_MIRROR: "package" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.builds).toEqual([]);
    expect(result.stderr).toContain(`downloaded hashicorp/aws ${PROVIDER_VERSION} from its registry`);
    expect(execFileSync(join(providerDir(cache), `terraform-provider-aws_v${PROVIDER_VERSION}_x5`), { encoding: "utf8" })).toBe("provider from the registry\n");
    // Warm: the mirror is not asked again (FAKE_MIRROR=fail would now fail it), the build not run.
    const again = await toolchain(cache, releases, "provide_tofu; provide_aws_provider", { FAKE_MIRROR: "fail" });
    expect([again.status, again.builds, again.stderr]).toEqual([0, [], ""]);
  });
});
