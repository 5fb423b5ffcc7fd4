/**
 * test-artifacts/timings.json, which every vitest run writes (__tests__/helpers/timings-reporter.ts),
 * and the tables `npm run test:timings` prints from it: the slowest test files, and for the
 * integration files how much of their wall time was CPU and how much was waiting.
 */
import { z } from "zod";

/** How the figures are taken; written into every report. */
export const TIMINGS_METHOD =
  "Per test file, in its vitest worker, from before the file's imports to after its last afterAll hook: " +
  "wall time (performance.now()), the worker's CPU (process.cpuUsage(), user + system) and the CPU of the worker's " +
  "children that exited and were waited for in that span (/proc/self/stat cutime + cstime, which include their own " +
  "waited-for children: tofu, the provider plugin, moto, QEMU). A worker runs one file at a time. Not counted: a child " +
  "still running when the file ends, and processes outside the worker's tree (a daemon that detaches, containers under " +
  "dockerd's shims). Waiting is wall minus CPU: timers, network, disk, or a core busy with other work.";

const span = z.number().finite().nonnegative();

export const timingsReportSchema = z.object({
  version: z.literal(1),
  method: z.string(),
  startedAt: z.string(),
  wallMs: span,
  loadAverage: z.object({ start: z.array(z.number()).length(3), end: z.array(z.number()).length(3) }),
  cores: z.number().int().positive(),
  files: z.array(
    z.object({
      file: z.string().min(1),
      project: z.string(),
      state: z.string(),
      /** null: the file never reached the recorder (it failed to load). */
      wallMs: span.nullable(),
      /** children null: no /proc on that machine. */
      cpuMs: z.object({ worker: span, children: span.nullable() }).nullable(),
    }),
  ),
});

export type TimingsReport = z.infer<typeof timingsReportSchema>;
type FileTimings = TimingsReport["files"][number];

/** The projects of vitest.config.ts that run real programs (the QEMU files run in their own). */
export const INTEGRATION_PROJECTS: readonly string[] = ["integration", "emulation"];

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? "-" : (ms / 1000).toFixed(1));
const cpuOf = (file: FileTimings) => (file.cpuMs ? file.cpuMs.worker + (file.cpuMs.children ?? 0) : null);
/** Wall time no process of the file's tree spent on a CPU; zero when its processes ran on several cores at once. */
const waitingOf = (file: FileTimings) => {
  const cpu = cpuOf(file);
  return file.wallMs === null || cpu === null ? null : Math.max(0, file.wallMs - cpu);
};

/** Figures right-aligned, words (the columns in `text`) left-aligned. */
function table(rows: readonly (readonly string[])[], text: readonly number[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const cell = (value: string, column: number) => (text.includes(column) ? value.padEnd(widths[column]!) : value.padStart(widths[column]!));
  return rows.map((row) => `  ${row.map(cell).join("  ")}`.trimEnd()).join("\n");
}

/** The slowest `top` files by wall time, then the integration files' wall time split into CPU and waiting. */
export function formatTimings(report: TimingsReport, source: string, top: number): string {
  const byWall = [...report.files].sort((a, b) => (b.wallMs ?? -1) - (a.wallMs ?? -1) || a.file.localeCompare(b.file));
  const shown = byWall.slice(0, top);
  const load = (values: readonly number[]) => values[0]!.toFixed(2);
  const noChildren = report.files.some((file) => file.cpuMs !== null && file.cpuMs.children === null);
  const lines = [
    `Test files by wall time, slowest first: ${shown.length} of ${report.files.length} (${source}; run started ${report.startedAt}, ` +
      `${seconds(report.wallMs)} s; load average ${load(report.loadAverage.start)} at the start, ${load(report.loadAverage.end)} at the end, on ${report.cores} cores)`,
    "",
    table([
      ["wall s", "CPU s", "worker s", "children s", "waiting s", "state", "project", "file"],
      ...shown.map((file) => [
        seconds(file.wallMs),
        seconds(cpuOf(file)),
        seconds(file.cpuMs?.worker),
        seconds(file.cpuMs?.children),
        seconds(waitingOf(file)),
        file.state,
        file.project,
        file.file,
      ]),
    ], [5, 6, 7]),
  ];
  const integration = byWall.filter((file) => INTEGRATION_PROJECTS.includes(file.project) && file.wallMs !== null);
  if (integration.length > 0) {
    const sum = (pick: (file: FileTimings) => number | null) => integration.reduce((total, file) => total + (pick(file) ?? 0), 0);
    const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)} %` : "-");
    const row = (label: string, wall: number, cpu: number, waiting: number) => [seconds(wall), seconds(cpu), percent(cpu, wall), seconds(waiting), percent(waiting, wall), label];
    lines.push(
      "",
      "Integration files: their wall time as CPU (the worker and its children: tofu, the provider, moto, QEMU) and waiting",
      "(timers such as the provider's waiters, network, disk, or a core busy with other work):",
      "",
      table([
        ["wall s", "CPU s", "CPU", "waiting s", "waiting", "file"],
        ...integration.map((file) => row(file.file, file.wallMs!, cpuOf(file) ?? 0, waitingOf(file) ?? 0)),
        row(`all ${integration.length} integration files`, sum((file) => file.wallMs), sum(cpuOf), sum(waitingOf)),
      ], [5]),
    );
  }
  if (noChildren) lines.push("", "Children's CPU is missing (no /proc on the machine that ran the tests): CPU counts the workers alone.");
  lines.push("", `Method: ${report.method}`);
  return `${lines.join("\n")}\n`;
}
