/**
 * vitest reporter: writes test-artifacts/timings.json after every run, the per-file figures that
 * helpers/file-timings.ts measured in the workers (wall, the worker's CPU, its waited-for
 * children's CPU) with the machine's load around the run. `npm run test:timings` prints it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join, relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";
import { TIMINGS_METHOD, type TimingsReport } from "../../scripts/timings-report.js";

const ROOT = join(import.meta.dirname, "..", "..");
export const TIMINGS_FILE = join(ROOT, "test-artifacts", "timings.json");

/** The report of a run, from its modules as vitest hands them to reporters. */
export function timingsReport(modules: readonly Pick<TestModule, "moduleId" | "project" | "state" | "meta">[], run: Pick<TimingsReport, "startedAt" | "wallMs" | "loadAverage">): TimingsReport {
  return {
    version: 1,
    method: TIMINGS_METHOD,
    ...run,
    cores: availableParallelism(),
    files: modules.map((module) => {
      const timings = module.meta().timings;
      return {
        file: relative(ROOT, module.moduleId),
        project: module.project.name,
        state: module.state(),
        wallMs: timings?.wallMs ?? null,
        cpuMs: timings ? { worker: timings.selfMs, children: timings.childrenMs } : null,
      };
    }),
  };
}

export default class TimingsReporter implements Reporter {
  private started = { at: new Date(), ms: performance.now(), load: loadavg() };

  onTestRunStart(): void {
    this.started = { at: new Date(), ms: performance.now(), load: loadavg() };
  }

  onTestRunEnd(modules: readonly TestModule[]): void {
    if (modules.length === 0) return;
    const report = timingsReport(modules, {
      startedAt: this.started.at.toISOString(),
      wallMs: performance.now() - this.started.ms,
      loadAverage: { start: this.started.load, end: loadavg() },
    });
    mkdirSync(dirname(TIMINGS_FILE), { recursive: true });
    writeFileSync(TIMINGS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  }
}
