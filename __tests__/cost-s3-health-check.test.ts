/**
 * What the S3 storage health check would cost if it were on (lib/registry-cache.ts turns it off
 * in S3 mode): the bucket's rule prices a HEAD and a LIST per cache per interval while the bastion
 * runs. With distribution's 10 s and the default schedule that is the ~274k LIST a month the check
 * was turned off for. The module is replaced here so the priced branch runs against the real stack.
 */
import { describe, expect, it, vi } from "vitest";
import { estimateMonthlyCost } from "../cost/model.js";
import { siteConfig, synthStack } from "./helpers/synth.js";

vi.mock("../lib/registry-cache.js", async (original) => ({
  ...(await original<typeof import("../lib/registry-cache.js")>()),
  storageHealthCheck: () => ({ enabled: true, intervalSeconds: 10, threshold: 3 }),
}));

describe("the S3 storage health check, were it on", () => {
  it("prices a LIST and a HEAD per cache every 10 s of bastion time: 5 × 360/h × 152.08 h ≈ 273,750 each a month", () => {
    const config = siteConfig({ bastion: { cacheStorage: "s3" }, images: { registry: "registry:3.0.0" } });
    const report = estimateMonthlyCost(synthStack(config), config, { month: "2027-01" });
    const polls = config.services.registryCaches.length * 360 * ((35 * 730) / 168);
    const list = report.lines.find((l) => l.item === "S3 LIST requests: storage health check")!;
    const head = report.lines.find((l) => l.item === "S3 HEAD requests: storage health check")!;
    expect(list.quantity * 1000).toBeCloseTo(polls, 3);
    expect(list.monthlyUsd).toBeCloseTo((polls / 1000) * 0.005, 6); // $1.37
    expect(head.monthlyUsd).toBeCloseTo((polls / 1000) * 0.0004, 6); // $0.11
    expect(list.basis).toMatch(/^5 caches × every 10 s × bastion start "0 18 \* \* \*"/);
  });
});
