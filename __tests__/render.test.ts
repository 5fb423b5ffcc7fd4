/**
 * `npm run render`: the site's netboot bundle on disk, exactly as rendered, written all at once,
 * never outside --out and never over a non-empty dir without --force.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isBundleScript, renderBastionBundle } from "../templates/bundle.js";
import { RenderError, writeBundle } from "../ops/write-bundle.js";
import { tempDir } from "./helpers/processes.js";
import { siteConfig } from "./helpers/synth.js";
import { bundleHost } from "./helpers/bundles.js";


const host = bundleHost();

/** Runs the render CLI's bundle in `cwd` (warm: bundle-host.test.ts holds it against cold runs); DEATHSTAR_CONFIG is cleared unless given. */
async function render(cwd: string, args: string[], env: Record<string, string> = {}) {
  const result = await host.run("scripts/render.ts", args, { cwd, env: { ...process.env, DEATHSTAR_CONFIG: "", ...env } });
  expect(result.crashed, result.stderr).toBe(false);
  return { status: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under `root`, relative path -> content. */
function readTree(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[relative(root, join(entry.parentPath, entry.name))] = readFileSync(join(entry.parentPath, entry.name), "utf8");
  }
  return files;
}

describe("npm run render", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir("render");
  });
  afterEach(() => dir.remove());

  it("writes exactly the home bundle, scripts executable, and nothing else", async () => {
    const result = await render(dir.path, ["--site", "home", "--out", "out"]);
    expect(result.status, result.stderr).toBe(0);
    const out = join(dir.path, "out");
    const bundle = renderBastionBundle(siteConfig({}, "home"));
    expect(readTree(out)).toEqual(bundle);
    for (const path of Object.keys(bundle)) {
      expect(statSync(join(out, path)).mode & 0o777, path).toBe(isBundleScript(path) ? 0o755 : 0o644);
    }
    expect(bundle["compose.yaml"]).toBeDefined();
    // No synth output, no scratch dirs: only the bundle.
    expect(readdirSync(dir.path)).toEqual(["out"]);
  });

  it("defaults --out to bundle/<site>", async () => {
    expect((await render(dir.path, ["--site", "home"])).status).toBe(0);
    expect(Object.keys(readTree(join(dir.path, "bundle/home")))).toContain("compose.yaml");
  });

  it("refuses a non-empty --out without --force and leaves it alone", async () => {
    mkdirSync(join(dir.path, "out"));
    writeFileSync(join(dir.path, "out/keep.txt"), "mine");
    const result = await render(dir.path, ["--site", "home", "--out", "out"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--force");
    expect(readTree(join(dir.path, "out"))).toEqual({ "keep.txt": "mine" });
  });

  it("replaces a non-empty --out as a whole with --force", async () => {
    mkdirSync(join(dir.path, "out"));
    writeFileSync(join(dir.path, "out/stale.txt"), "old");
    expect((await render(dir.path, ["--site", "home", "--out", "out", "--force"])).status).toBe(0);
    expect(readTree(join(dir.path, "out"))).toEqual(renderBastionBundle(siteConfig({}, "home")));
    expect(readdirSync(dir.path)).toEqual(["out"]);
  });

  it.each([".", "..", "/"])("never replaces --out %s, which holds the working dir", async (out) => {
    writeFileSync(join(dir.path, "keep.txt"), "mine");
    const result = await render(dir.path, ["--site", "home", "--out", out, "--force"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("refusing to use");
    expect(readTree(dir.path)).toEqual({ "keep.txt": "mine" });
  });

  it.each([[[]], [["--site", "mars"]], [["--site", "home", "--out", ""]], [["--site", "home", "--bogus"]], [["--site", "home", "extra"]]])(
    "refuses %j with the usage and writes nothing",
    async (argv) => {
      const result = await render(dir.path, argv);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/usage: npm run render/);
      expect(readdirSync(dir.path)).toEqual([]);
    },
  );

  it("writes nothing when the config is invalid", async () => {
    writeFileSync(join(dir.path, "bad.json"), JSON.stringify({ services: { matchboxPort: 80 } }));
    const result = await render(dir.path, ["--site", "home", "--out", "out"], { DEATHSTAR_CONFIG: join(dir.path, "bad.json") });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("services.matchboxPort");
    expect(readdirSync(dir.path)).toEqual(["bad.json"]);
  });

  it("renders the port an override file sets", async () => {
    writeFileSync(join(dir.path, "port.json"), JSON.stringify({ services: { matchboxPort: 8090 } }));
    expect((await render(dir.path, ["--site", "home", "--out", "out"], { DEATHSTAR_CONFIG: join(dir.path, "port.json") })).status).toBe(0);
    expect(readFileSync(join(dir.path, "out/dnsmasq/dnsmasq.conf"), "utf8")).toContain("http://10.17.13.140:8090/boot.ipxe");
  });
});

describe("writeBundle", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir("bundle");
  });
  afterEach(() => dir.remove());

  it.each(["../escape.txt", "a/../../escape.txt", "/etc/escape.txt", "."])("refuses %s before writing anything", (path) => {
    const out = join(dir.path, "out");
    expect(() => writeBundle({ "ok.txt": "fine", [path]: "x" }, out, false)).toThrow(RenderError);
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it("leaves no trace when a write fails midway", () => {
    const out = join(dir.path, "out");
    // "a" as a file, then "a/b" needs it to be a dir: the second write fails.
    expect(() => writeBundle({ a: "file", "a/b": "under a file" }, out, false)).toThrow();
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it("refuses an --out that is a file", () => {
    writeFileSync(join(dir.path, "out"), "");
    expect(() => writeBundle({ "x.txt": "" }, join(dir.path, "out"), true)).toThrow(/not a directory/);
  });
});
