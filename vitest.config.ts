import { defineConfig } from "vitest/config";

// Two projects: "fast" (pure renderers, config, synth assertions; seconds) and "integration"
// (real OpenTofu, moto, registry, matchbox, dnsmasq, QEMU; minutes). `npm test` runs both;
// `npm run test:fast` only the first.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a one-line summary.
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest.json" }]],
    projects: [
      {
        test: {
          name: "fast",
          include: ["__tests__/**/*.test.ts"],
          exclude: ["__tests__/integration/**"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["__tests__/integration/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
