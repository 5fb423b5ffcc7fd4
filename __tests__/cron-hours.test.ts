import { describe, expect, it } from "vitest";
import { runningHoursPerWeek } from "../lib/cron.js";

describe("runningHoursPerWeek", () => {
  it("counts a daily evening window: 5 h × 7 days", () => {
    expect(runningHoursPerWeek("0 18 * * *", "0 23 * * *")).toBe(35);
  });

  it("honours day-of-week ranges: weekdays only is 5 h × 5 days", () => {
    expect(runningHoursPerWeek("0 18 * * MON-FRI", "0 23 * * MON-FRI")).toBe(25);
    expect(runningHoursPerWeek("0 18 * * 1-5", "0 23 * * 1-5")).toBe(25);
  });

  it("wraps past midnight and past the end of the week", () => {
    expect(runningHoursPerWeek("0 22 * * *", "0 6 * * *")).toBe(56);
    // Friday 18:00 to Monday 08:00: 6 + 24 + 24 + 8.
    expect(runningHoursPerWeek("0 18 * * FRI", "0 8 * * MON")).toBe(62);
    // Saturday 20:00 to Sunday 02:00 crosses the week boundary (Sunday is day 0).
    expect(runningHoursPerWeek("0 20 * * SAT", "0 2 * * SUN")).toBe(6);
  });

  it("reads minutes, steps, lists and day 7 as Sunday", () => {
    expect(runningHoursPerWeek("30 18 * * *", "0 23 * * *")).toBe(31.5);
    expect(runningHoursPerWeek("0 */6 * * *", "30 */6 * * *")).toBe(14);
    expect(runningHoursPerWeek("0 8,18 * * *", "0 12,23 * * *")).toBe(63);
    expect(runningHoursPerWeek("0 10 * * 7", "0 12 * * SUN")).toBe(2);
  });

  it("takes several starts and stops", () => {
    expect(runningHoursPerWeek(["0 8 * * SAT", "0 8 * * SUN"], ["0 20 * * SAT", "0 20 * * SUN"])).toBe(24);
  });

  it("runs all week without a stop and never without a start; a start and stop in the same minute leave it off", () => {
    expect(runningHoursPerWeek("0 18 * * *", [])).toBe(168);
    expect(runningHoursPerWeek([], "0 23 * * *")).toBe(0);
    expect(runningHoursPerWeek("0 18 * * *", "0 18 * * *")).toBe(0);
  });

  it("gives up on day-of-month and month fields (not a weekly pattern) and on invalid expressions", () => {
    expect(runningHoursPerWeek("0 18 1 * *", "0 23 1 * *")).toBeUndefined();
    expect(runningHoursPerWeek("0 18 * JAN *", "0 23 * * *")).toBeUndefined();
    expect(runningHoursPerWeek("0 25 * * *", "0 23 * * *")).toBeUndefined();
  });
});
