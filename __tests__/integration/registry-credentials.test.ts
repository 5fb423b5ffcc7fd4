/**
 * Upstream credentials of a registry cache, end to end and for real, on loopback:
 *
 * - the site config is docs/bastion.md's example (its `yaml` block) with the stand-in as the
 *   docker.io upstream, the SSM parameter is created with the doc's own `aws ssm put-parameter`
 *   block against moto, and the rendered boot script's step reads it back with the AWS CLI, checks
 *   it with the upstream's token server (curl) and writes the cache's root-only env file;
 * - Compose resolves the rendered compose.yaml with that env file (`docker compose config`), and
 *   the cache runs as Debian's docker-registry (distribution 2.8) with the rendered config.yml and
 *   exactly that environment;
 * - the stand-in upstream is the same registry over TLS with token auth, the scheme Docker Hub
 *   uses (registry 2.8's proxy answers only bearer challenges: it sends no basic auth), behind a
 *   token server that refuses anyone without the credentials.
 *
 * A pull through the cache succeeds with the credentials and fails without them (registry 2.8
 * answers `manifest unknown`, the token server saw the refused request); credentials the upstream
 * refuses are logged with its 401 and left out; the secret is in neither config.yml, compose.yaml
 * nor the user-data.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderBastionBootScript } from "../../templates/bastion-boot.js";
import { renderBastionBundle } from "../../templates/bundle.js";
import { renderBastionCloudConfigFiles, renderBastionUserData } from "../../templates/cloud-init.js";
import { registryConfigPath, registryCredentialsEnvFile, registryServiceName } from "../../templates/compose.js";
import { renderRegistryCacheConfig, type RegistryCache } from "../../templates/registry.js";
import { docBlock } from "../helpers/docs.js";
import { MotoServer } from "../helpers/moto.js";
import { writeTree } from "../helpers/netboot.js";
import { REPO_ROOT } from "../helpers/project.js";
import { freePort, startProcess, tempDir, waitForHttp, waitUntil, type RunningProcess } from "../helpers/processes.js";
import { buildImage, MANIFEST_TYPE, pullImage, pushImage, REPOSITORY, TAG, type Image } from "../helpers/registry-image.js";
import { firstDefaultsConfig, siteConfig } from "../helpers/synth.js";
import { testCertificates } from "../helpers/tls.js";
import { toolchain } from "../helpers/toolchain.js";

const REGISTRY = "docker-registry";
const DOC = "docs/bastion.md";
const SECTION = "Registry credentials";
/** A Docker Hub-like account and access token, using every character the boot step lets through. */
const USERNAME = "deathstar_1";
const TOKEN = "dckr_pat_0123-Ab.c~d+e/f=";
const SERVICE = "stand-in-registry";
const ISSUER = "stand-in-auth";

/** The site config of the doc's example: the `yaml` block of its credentials section. */
function docExampleOverride(): Record<string, unknown> {
  const text = readFileSync(join(REPO_ROOT, DOC), "utf8");
  const section = text.slice(text.indexOf(`## ${SECTION}`));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`${DOC} has no yaml block under "## ${SECTION}"`);
  return parse(block) as Record<string, unknown>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * Token server of the stand-in upstream: hands out a pull token for the asked repository, signed
 * with the leaf key (its certificate in the `x5c` header, chained to the CA the registry trusts),
 * only to a client presenting the credentials by basic auth; anyone else gets a 401.
 */
function startTokenServer(tls: { cert: string; key: string }, port: number, requests: string[]): Promise<Server> {
  const key = createPrivateKey(readFileSync(tls.key));
  const x5c = [new X509Certificate(readFileSync(tls.cert)).raw.toString("base64")];
  const server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    const url = new URL(req.url ?? "/", `https://localhost:${port}`);
    const presented = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
    requests.push(presented === `${USERNAME}:${TOKEN}` ? "authorized" : presented ? "wrong credentials" : "anonymous");
    if (presented !== `${USERNAME}:${TOKEN}`) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: "incorrect username or password" }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = url.searchParams.getAll("scope").map((scope) => {
      const [type, name, actions] = scope.split(":");
      return { type, name, actions: actions!.split(",").filter((action) => action === "pull") };
    });
    const header = base64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c }));
    const claims = base64url(JSON.stringify({ iss: ISSUER, sub: USERNAME, aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access }));
    const signature = sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" });
    const token = `${header}.${claims}.${base64url(signature)}`;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** GET over TLS trusting the test CA (fetch cannot take a CA): status and headers. */
function httpsGet(url: string, ca: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    request(url, { ca: readFileSync(ca) }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    })
      .on("error", reject)
      .end();
  });
}

describe("registry cache with upstream credentials from SSM, against an upstream that requires them", () => {
  let config: ReturnType<typeof siteConfig>;
  let cache: RegistryCache;
  let bundle: Record<string, string>;
  let bundleDir = "";
  let dir: ReturnType<typeof tempDir>;
  let moto: MotoServer | undefined;
  let tokenServer: Server | undefined;
  const running: RunningProcess[] = [];
  const tokenRequests: string[] = [];
  let ca = "";
  let image: Image;

  /** Runs the cache with its rendered config.yml (loopback address, private storage) and `env`. */
  async function startCache(name: string, env: Record<string, string>): Promise<{ url: string; process: RunningProcess }> {
    const port = await freePort();
    const configFile = join(dir.path, `${name}.yml`);
    writeFileSync(configFile, renderRegistryCacheConfig(cache, { addr: `127.0.0.1:${port}`, storage: { driver: "filesystem", rootDirectory: join(dir.path, `${name}-data`) }, expiryDays: siteConfig().bastion.cacheExpiryDays }));
    // Go's TLS client trusts the test CA through SSL_CERT_FILE, as the bastion trusts the real ones.
    const proc = startProcess(REGISTRY, ["serve", configFile], { name, logFile: join(dir.path, `${name}.log`), env: { ...env, SSL_CERT_FILE: ca } });
    running.push(proc);
    await waitForHttp(`http://127.0.0.1:${port}/v2/`, proc);
    return { url: `http://127.0.0.1:${port}`, process: proc };
  }

  /** The environment Compose gives the cache's container, resolved by Compose itself from the bundle. */
  function composeEnvironment(): Record<string, string> {
    const { compose } = toolchain();
    if (!compose) throw new Error("the toolchain has no Docker Compose: run bash scripts/setup.sh");
    const resolved = JSON.parse(execFileSync(compose, ["--file", join(bundleDir, "compose.yaml"), "config", "--format", "json"], { encoding: "utf8" })) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    return resolved.services[registryServiceName(cache)]!.environment ?? {};
  }

  /** The environment the bundle's compose.yaml gives the cache's service itself, before any env file. */
  function bundleEnvironment(): Record<string, string> {
    const file = parse(readFileSync(join(bundleDir, "compose.yaml"), "utf8")) as { services: Record<string, { environment?: Record<string, string> }> };
    return file.services[registryServiceName(cache)]!.environment ?? {};
  }

  /** `aws ssm put-parameter --overwrite` of the cache's parameter, against moto. */
  function storeCredentials(value: string): void {
    const args = ["ssm", "put-parameter", "--region", "eu-west-1", "--name", cache.credentialsParameter!, "--type", "SecureString", "--overwrite", "--value", value];
    execFileSync("aws", args, { env: { ...process.env, ...moto!.awsEnv() }, stdio: "ignore" });
  }

  /**
   * Runs the rendered boot script's credentials step as main() would: sourced, with only the
   * instance metadata stood in for; the AWS CLI talks to moto and curl to the stand-in upstream.
   * Asynchronous: the token server answers from this process's event loop.
   */
  async function bootStep(): Promise<{ status: number | null; output: string }> {
    const script = renderBastionBootScript(config);
    expect(script).toContain(`\nREGISTRY_CREDENTIALS=('${cache.credentialsParameter}' '${registryCredentialsEnvFile(cache)}' '${cache.upstream}')\n`);
    // main()'s own line for the credentials, run as it stands in the script.
    const step = script.split("\n").find((line) => line.includes("write_registry_credentials \"${REGISTRY_CREDENTIALS"))!.trim();
    const stubs = `imds() { [ "$1" = meta-data/placement/region ] && echo eu-west-1; }\nsleep() { :; }\nBUNDLE_DIR=${bundleDir}`;
    const child = spawn("bash", ["-c", `source ${join(dir.path, "boot.sh")}\n${stubs}\n${step}`], { env: { ...process.env, ...moto!.awsEnv(), CURL_CA_BUNDLE: ca } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { status, output };
  }

  beforeAll(async () => {
    dir = tempDir("registry-credentials");
    image = buildImage(dir.path);
    const certs = testCertificates(join(dir.path, "tls"), ["localhost"]);
    ca = certs.caFile;
    const [upstreamPort, tokenPort] = [await freePort(), await freePort()];
    const upstreamUrl = `https://localhost:${upstreamPort}`;

    // The doc's example, with the stand-in as the docker.io cache's upstream.
    const override = docExampleOverride() as { services: { registryCaches: { credentialsParameter?: string; upstream: string }[] } };
    const entry = override.services.registryCaches.find((c) => c.credentialsParameter !== undefined)!;
    entry.upstream = upstreamUrl;
    // The caches on the bastion's volume with registry 2.8 (the first defaults): the credentials'
    // path is the same on S3, and Debian's registry 2.8 is what runs here.
    config = firstDefaultsConfig(override);
    cache = config.services.registryCaches.find((c) => c.credentialsParameter !== undefined)!;
    bundle = renderBastionBundle(config);
    bundleDir = join(dir.path, "bundle");
    writeTree(bundleDir, { ...bundle, "secrets/pihole.env": "WEBPASSWORD='unused'\n" });
    writeFileSync(join(dir.path, "boot.sh"), renderBastionBootScript(config));

    // The image goes in while the stand-in is still open; then it restarts on the same storage,
    // over TLS and with token auth.
    const storage = { filesystem: { rootdirectory: join(dir.path, "upstream-data") } };
    writeTree(dir.path, { "upstream-open.yml": stringify({ version: 0.1, storage, http: { addr: `127.0.0.1:${upstreamPort}` } }) });
    const open = startProcess(REGISTRY, ["serve", join(dir.path, "upstream-open.yml")], { name: "open upstream", logFile: join(dir.path, "upstream-open.log") });
    await waitForHttp(`http://127.0.0.1:${upstreamPort}/v2/`, open);
    await pushImage(`http://127.0.0.1:${upstreamPort}`, image);
    await open.stop();

    tokenServer = await startTokenServer(certs.leaf, tokenPort, tokenRequests);
    writeTree(dir.path, {
      "upstream.yml": stringify({
        version: 0.1,
        storage,
        http: { addr: `127.0.0.1:${upstreamPort}`, tls: { certificate: certs.leaf.cert, key: certs.leaf.key } },
        auth: { token: { realm: `https://localhost:${tokenPort}/token`, service: SERVICE, issuer: ISSUER, rootcertbundle: ca } },
      }),
    });
    const upstream = startProcess(REGISTRY, ["serve", join(dir.path, "upstream.yml")], { name: "upstream registry", logFile: join(dir.path, "upstream.log") });
    running.push(upstream);
    const answered = () => httpsGet(`${upstreamUrl}/v2/`, ca).then(() => true, () => false);
    await waitUntil("the stand-in upstream to answer over TLS", answered, { timeoutMs: 20_000, process: upstream });
    const challenge = await httpsGet(`${upstreamUrl}/v2/`, ca);
    expect(challenge.status, "the stand-in upstream requires authentication").toBe(401);
    expect(challenge.headers["www-authenticate"]).toContain(`Bearer realm="https://localhost:${tokenPort}/token"`);

    moto = await MotoServer.start(toolchain().venv);
  }, 120_000);

  afterAll(async () => {
    for (const proc of running.reverse()) await proc.stop();
    await new Promise((resolve) => (tokenServer ? tokenServer.close(resolve) : resolve(undefined)));
    await moto?.stop();
    dir?.remove();
  });

  it("the doc's put-parameter stores the credentials; the boot step checks them with the upstream and writes the cache's root-only env file", async () => {
    const put = docBlock(DOC, SECTION);
    expect(put.text).toContain(`--name ${cache.credentialsParameter}`);
    // The doc's placeholder value, filled with this test's sample credentials.
    const script = put.text.replace(/--value '[^']*'/, `--value '${USERNAME}:${TOKEN}'`);
    const created = spawnSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8", env: { ...process.env, ...moto!.awsEnv() } });
    expect(created.status, created.stderr).toBe(0);

    tokenRequests.length = 0;
    const { status, output } = await bootStep();
    expect(status, output).toBe(0);
    expect(output).not.toContain(TOKEN);
    expect(tokenRequests, "the boot step asked the upstream's token server with the credentials").toEqual(["authorized"]);
    const envFile = join(bundleDir, registryCredentialsEnvFile(cache));
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(bundleDir, "secrets")).mode & 0o777).toBe(0o700);
    expect(composeEnvironment()).toEqual({ ...bundleEnvironment(), REGISTRY_PROXY_USERNAME: USERNAME, REGISTRY_PROXY_PASSWORD: TOKEN });
  }, 60_000);

  it("pulls through the cache with the credentials: the token server saw them, the digests are the pushed ones", async () => {
    const withCredentials = await startCache("cache-with-credentials", composeEnvironment());
    tokenRequests.length = 0;
    expect(await pullImage(withCredentials.url)).toEqual({ manifestDigest: image.manifestDigest, blobDigests: [...image.blobs.keys()] });
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((r) => r === "authorized")).toBe(true);
    expect(withCredentials.process.log()).not.toContain(TOKEN);
  }, 60_000);

  it("without credentials the same pull fails: the token server refuses it, registry 2.8 answers manifest unknown", async () => {
    const anonymous = await startCache("cache-without-credentials", {});
    tokenRequests.length = 0;
    const response = await fetch(`${anonymous.url}/v2/${REPOSITORY}/manifests/${TAG}`, { headers: { accept: MANIFEST_TYPE } });
    // registry 2.8 does not pass the upstream's 401 on: it finds no tag and says so.
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("MANIFEST_UNKNOWN");
    expect(tokenRequests).toContain("anonymous");
    expect(tokenRequests).not.toContain("authorized");
  }, 60_000);

  it("credentials the upstream refuses: the boot step logs its 401 and leaves them out, so the cache pulls anonymously", async () => {
    const wrong = "dckr_pat_revoked0123";
    storeCredentials(`${USERNAME}:${wrong}`);
    const { status, output } = await bootStep();
    expect(status, output).toBe(0);
    expect(output).toContain(`${cache.upstream} refused the credentials in SSM parameter ${cache.credentialsParameter} (HTTP 401 from its token server)`);
    expect(output).not.toContain(wrong);
    expect(readFileSync(join(bundleDir, registryCredentialsEnvFile(cache)), "utf8")).toBe("");
    expect(composeEnvironment()).toEqual(bundleEnvironment());
    expect(Object.keys(bundleEnvironment()).filter((key) => key.startsWith("REGISTRY_PROXY_"))).toEqual([]);
  }, 60_000);

  it("a value that is not username:token in YAML-safe characters fails the step, naming the parameter", async () => {
    for (const value of ["dckr_pat_without_a_username", `${USERNAME}:#comment`, `${USERNAME}: leading-space`]) {
      storeCredentials(value);
      const { status, output } = await bootStep();
      expect(status, value).not.toBe(0);
      expect(output).toContain(`SSM parameter ${cache.credentialsParameter} must hold username:token`);
    }
  }, 60_000);

  it("keeps the secret out of config.yml, compose.yaml and the user-data", () => {
    const cacheConfig = bundle[registryConfigPath(cache)]!;
    expect(parse(cacheConfig)).toMatchObject({ proxy: { remoteurl: cache.upstream } });
    expect(bundle["compose.yaml"]).toContain(`./${registryCredentialsEnvFile(cache)}`);
    const texts = [cacheConfig, bundle["compose.yaml"]!, renderBastionUserData(config), ...renderBastionCloudConfigFiles(config).map((file) => file.content)];
    for (const text of texts) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(USERNAME);
    }
  });
});
