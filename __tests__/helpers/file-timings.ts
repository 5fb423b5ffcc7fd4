/**
 * vitest setup file (both projects): what each test file cost, from before its imports to after
 * its last afterAll hook (this file's hook is registered first, and vitest runs after-hooks in
 * reverse order, its default `sequence.hooks: "stack"`, so it runs last), as the file
 * suite's meta `timings` (a CpuClock span, helpers/cpu-clock.ts). A worker runs one file at a time,
 * so the worker's CPU over that span is the file's; servers and tools the file started and stopped
 * are its children's share. helpers/timings-reporter.ts collects the figures into
 * test-artifacts/timings.json, which `npm run test:timings` reads.
 */
import { afterAll } from "vitest";
import { cpuClock, elapsed, type CpuClock } from "./cpu-clock.js";

declare module "vitest" {
  interface TaskMeta {
    timings?: CpuClock;
  }
}

const start = cpuClock();

// vitest hands hooks their fixtures first (an object pattern it parses), the suite second.
afterAll(({}, suite) => {
  suite.meta.timings = elapsed(start, cpuClock());
});
