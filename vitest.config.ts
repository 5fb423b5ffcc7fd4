import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { defineConfig, type Plugin } from "vitest/config";

/** Shell source files (templates/*.sh) import as their text, as esbuild's text loader bundles them (scripts/build.mjs). */
const shellSourceAsText: Plugin = {
  name: "shell-source-as-text",
  enforce: "pre",
  load(id) {
    return id.endsWith(".sh") ? `export default ${JSON.stringify(readFileSync(id, "utf8"))};` : undefined;
  },
};

/**
 * Integration files run side by side, this many at a time: most of their wall time is spent
 * waiting (the AWS provider's waiters poll moto, which answers at once; QEMU and dockerd boots),
 * so a third file in flight on two cores still shortens the run. Every file brings its own moto,
 * network namespaces, dockerd and scratch directories, so none sees another's.
 */
const INTEGRATION_WORKERS = Number(process.env.DEATHSTAR_INTEGRATION_WORKERS ?? 3);
/** The integration files that boot machines in QEMU. */
const EMULATION = "__tests__/integration/qemu-*.test.ts";

/** A test or hook of the projects that run real programs may take this long (an apply, a boot). */
const REAL_PROGRAMS_TIMEOUT_MS = 900_000;

// Three projects: "fast" (pure renderers, config, synth assertions; seconds), "integration" (real
// OpenTofu, moto, registry, matchbox, dnsmasq; minutes) and "emulation" (the QEMU boots). `npm test`
// runs them in that order; `npm run test:fast` only the first.
export default defineConfig({
  plugins: [shellSourceAsText],
  // Vitest keeps each file's last duration here and starts the longest files first. Beside the
  // cached toolchain rather than in node_modules, so a fresh clone schedules as well as a warm one.
  cacheDir: join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "deathstar", "vite"),
  test: {
    // Builds dist/ once (the commands tests run as the operator does, `node dist/...`).
    globalSetup: ["__tests__/helpers/build.ts"],
    // Each file's wall time, its worker's CPU and its children's CPU, for `npm run test:timings`.
    setupFiles: ["__tests__/helpers/file-timings.ts"],
    // The JSON report lets .ci/run print a one-line summary; test-artifacts/timings.json holds the timings.
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest.json" }], "./__tests__/helpers/timings-reporter.ts"],
    projects: [
      {
        // Each project takes the plugins and global setup above.
        extends: true,
        test: {
          name: "fast",
          include: ["__tests__/**/*.test.ts"],
          exclude: ["__tests__/integration/**"],
          testTimeout: 30_000,
          // Both cores (vitest's default leaves one free), and the files of a worker share one module
          // graph: cdktf and the provider classes load once per worker, not once per file (about
          // two thirds of the project's wall time went to those imports). No fast test mocks
          // modules or changes process-wide state; scratch directories are each file's own.
          maxWorkers: 2,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["__tests__/integration/**/*.test.ts"],
          exclude: [EMULATION],
          testTimeout: REAL_PROGRAMS_TIMEOUT_MS,
          hookTimeout: REAL_PROGRAMS_TIMEOUT_MS,
          maxWorkers: INTEGRATION_WORKERS,
          // After the fast project (projects with different worker counts need their own group).
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          // QEMU's emulated CPUs (TCG) take a core each and boot against timers of their firmware
          // (U-Boot's DHCP and TFTP retries): alone, after the others, rather than beside them.
          name: "emulation",
          include: [EMULATION],
          testTimeout: REAL_PROGRAMS_TIMEOUT_MS,
          hookTimeout: REAL_PROGRAMS_TIMEOUT_MS,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
