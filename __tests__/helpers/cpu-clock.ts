/**
 * The clock test timings read: wall time, the CPU time of this process, and the CPU time of its
 * children that have exited and been waited for. A child's own waited-for children are part of
 * its figure (proc(5), /proc/[pid]/stat fields 16 cutime and 17 cstime: "Amount of time that this
 * process's waited-for children have been scheduled", each including their own waited-for
 * children); a child still running, or a process that left the tree (a daemon that double-forks,
 * a container under dockerd's shims), is not counted.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface CpuClock {
  readonly wallMs: number;
  /** user + system CPU of this process (process.cpuUsage()). */
  readonly selfMs: number;
  /** user + system CPU of the waited-for children; null where /proc is missing (not Linux). */
  readonly childrenMs: number | null;
}

/** Clock ticks per second, the unit of /proc/[pid]/stat's times (sysconf(_SC_CLK_TCK)). */
let ticksPerSecond: number | undefined;

function childrenCpuMs(): number | null {
  let stat: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
  } catch {
    return null;
  }
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  // Field 2 (the command name) is in parentheses and may hold spaces: count from the last ")", where field 3 starts.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3]);
  return ((field(16) + field(17)) * 1000) / ticksPerSecond;
}

export function cpuClock(): CpuClock {
  const { user, system } = process.cpuUsage();
  return { wallMs: performance.now(), selfMs: (user + system) / 1000, childrenMs: childrenCpuMs() };
}

/** What passed between two readings. */
export function elapsed(from: CpuClock, to: CpuClock): CpuClock {
  return {
    wallMs: to.wallMs - from.wallMs,
    selfMs: to.selfMs - from.selfMs,
    childrenMs: from.childrenMs === null || to.childrenMs === null ? null : to.childrenMs - from.childrenMs,
  };
}
