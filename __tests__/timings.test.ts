/**
 * `npm run test:timings` on a fixture report, and the figures behind the reports every run writes:
 * the clock counts a waited-for child's CPU as the child itself counts it, and the reporter takes
 * each file's figures from the meta the setup file leaves.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleHost } from "./helpers/bundles.js";
import { cpuClock, elapsed } from "./helpers/cpu-clock.js";
import { scratchDir } from "./helpers/processes.js";
import { timingsReport } from "./helpers/timings-reporter.js";
import { timingsReportSchema, TIMINGS_METHOD } from "../scripts/timings-report.js";

const REPO = join(import.meta.dirname, "..");
const FIXTURE = "__tests__/fixtures/timings/timings.json";
const host = bundleHost(1);
const work = scratchDir("timings");

async function timings(args: readonly string[]) {
  const result = await host.run("scripts/timings.ts", args, { cwd: REPO, env: { ...process.env } });
  expect(result.crashed, result.stderr).toBe(false);
  return result;
}

describe("npm run test:timings", () => {
  it("lists the slowest files, then splits the integration files' wall time into CPU and waiting", async () => {
    const result = await timings(["--file", FIXTURE, "--top", "4"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        `Test files by wall time, slowest first: 4 of 6 (${FIXTURE}; run started 2026-12-01T10:00:00.000Z, 900.0 s; load average 1.50 at the start, 2.25 at the end, on 2 cores)`,
        "",
        "  wall s  CPU s  worker s  children s  waiting s  state   project      file",
        "   600.0  150.0      30.0       120.0      450.0  passed  integration  __tests__/integration/lifecycle.test.ts",
        "   240.0   60.0      12.0        48.0      180.0  failed  integration  __tests__/integration/journey.test.ts",
        "    20.0   18.0       2.0        16.0        2.0  passed  fast         __tests__/hostile-config.test.ts",
        // Children on two cores at once: more CPU than wall time, nothing waited.
        "    10.0   15.0       1.0        14.0        0.0  passed  integration  __tests__/integration/parallel.test.ts",
        "",
        "Integration files: their wall time as CPU (the worker and its children: tofu, the provider, moto, QEMU) and waiting",
        "(timers such as the provider's waiters, network, disk, or a core busy with other work):",
        "",
        "  wall s  CPU s    CPU  waiting s  waiting  file",
        "   600.0  150.0   25 %      450.0     75 %  __tests__/integration/lifecycle.test.ts",
        "   240.0   60.0   25 %      180.0     75 %  __tests__/integration/journey.test.ts",
        "    10.0   15.0  150 %        0.0      0 %  __tests__/integration/parallel.test.ts",
        "   850.0  225.0   26 %      630.0     74 %  all 3 integration files",
        "",
        "Method: (the method, as the reporter writes it)",
        "",
      ].join("\n"),
    );
  });

  it("lists ten files by default, a file that never loaded last", async () => {
    const result = await timings(["--file", FIXTURE]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("slowest first: 6 of 6");
    expect(result.stdout).toMatch(/^ +- +- +- +- +- +failed +fast +__tests__\/broken\.test\.ts$/m);
    expect(result.stdout.indexOf("broken.test.ts")).toBeGreaterThan(result.stdout.indexOf("config.test.ts"));
  });

  it("answers --help with its usage and exit 0", async () => {
    const result = await timings(["--help"]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: npm run test:timings\b/) });
  });

  it.each([
    ["a missing report", ["--file", "test-artifacts/none.json"], /^test:timings: test-artifacts\/none\.json: cannot read it \(ENOENT\); run npm test or npm run test:fast first/],
    ["a report of another kind", ["--file", "package.json"], /^test:timings: package\.json: not a timings report of this project:\nversion: /],
    ["a report that is not JSON", ["--file", "README.md"], /^test:timings: README\.md: not JSON/],
    ["--top 0", ["--file", FIXTURE, "--top", "0"], /^test:timings: --top: "0" is not a whole number of files of 1 or more\nusage: npm run test:timings/],
    ["an unknown option", ["--slowest"], /^test:timings: Unknown option '--slowest'/],
  ])("refuses %s: the reason, exit 1, nothing printed", async (_, args, message) => {
    const result = await timings(args);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Nothing was printed\.\n$/);
  });
});

describe("the figures", () => {
  it("the clock counts a waited-for child's CPU as the child counts its own", () => {
    const before = cpuClock();
    // A child that burns 300 ms of its own CPU (not of wall time, which a loaded machine would hand
    // out to others) and reports what it used.
    const burn = "const used = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }; while (used() < 300); process.stdout.write(String(used()));";
    const child = spawnSync(process.execPath, ["-e", burn], { encoding: "utf8" });
    const span = elapsed(before, cpuClock());
    const childOwn = Number(child.stdout);
    expect(childOwn).toBeGreaterThan(100);
    // The child's own count leaves out its start before the script and its exit: /proc sees at least as much,
    // to the clock tick (10 ms), and not seconds more.
    expect(span.childrenMs!).toBeGreaterThanOrEqual(childOwn - 20);
    expect(span.childrenMs!).toBeLessThan(childOwn + 1_000);
    expect(span.wallMs).toBeGreaterThanOrEqual(300);
  });

  it("the reporter turns each file's meta into a line of the report the command reads", async () => {
    const module = (moduleId: string, project: string, state: "passed" | "failed", timings?: { wallMs: number; selfMs: number; childrenMs: number | null }) =>
      ({ moduleId: join(REPO, moduleId), project: { name: project }, state: () => state, meta: () => ({ timings }) }) as unknown as Parameters<typeof timingsReport>[0][number];
    const report = timingsReport(
      [module("__tests__/a.test.ts", "fast", "passed", { wallMs: 1500, selfMs: 900, childrenMs: 300 }), module("__tests__/integration/b.test.ts", "integration", "failed")],
      { startedAt: "2026-12-01T10:00:00.000Z", wallMs: 2000, loadAverage: { start: [1, 1, 1], end: [2, 2, 2] } },
    );
    expect(timingsReportSchema.parse(report)).toEqual(report);
    expect(report.method).toBe(TIMINGS_METHOD);
    expect(report.files).toEqual([
      { file: "__tests__/a.test.ts", project: "fast", state: "passed", wallMs: 1500, cpuMs: { worker: 900, children: 300 } },
      { file: "__tests__/integration/b.test.ts", project: "integration", state: "failed", wallMs: null, cpuMs: null },
    ]);
    writeFileSync(join(work, "report.json"), JSON.stringify(report));
    const printed = await timings(["--file", join(work, "report.json")]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^ +1\.5 +1\.2 +0\.9 +0\.3 +0\.3 +passed +fast +__tests__\/a\.test\.ts$/m);
  });
});
