// `npm run build`: bundles the project's commands with esbuild into dist/ (what `cdktf synth` and
// every `npm run <command>` execute). Shell source files (templates/*.sh) are bundled as text.
// Each output replaces its old copy by a rename, so a command already running from dist/ (or one
// started while another builds) never reads a half-written file.
import { buildSync } from "esbuild";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The entry points: synth, then every `npm run` command and the benchmark's baseline app. */
const ENTRIES = ["main.ts", ...["adopt", "bench", "bench-minimal", "cost", "render", "render-talos", "schema", "session", "teardown", "timings"].map((name) => `scripts/${name}.ts`)];

const { outputFiles } = buildSync({
  entryPoints: ENTRIES,
  bundle: true,
  platform: "node",
  format: "cjs",
  packages: "external",
  loader: { ".sh": "text" },
  sourcemap: true,
  outExtension: { ".js": ".cjs" },
  outdir: "dist",
  logLevel: "warning",
  write: false,
});
for (const file of outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  const scratch = `${file.path}.${process.pid}.tmp`;
  writeFileSync(scratch, file.contents);
  renameSync(scratch, file.path);
}
