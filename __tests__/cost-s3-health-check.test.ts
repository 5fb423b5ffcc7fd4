/**
 * What the S3 storage health check would cost if it were on (lib/registry-cache.ts turns it off
 * in S3 mode): the bucket's rule prices a HEAD and a LIST per cache per interval while the bastion
 * runs. With distribution's 10 s and the default schedule that is the ~274k LIST a month the check
 * was turned off for. The priced branch runs against the real synthesized stack, with the check's
 * settings as the registry's default config has them.
 */
import { describe, expect, it } from "vitest";
import { StackView } from "../analysis/synthesized.js";
import { estimateMonthlyCost } from "../cost/model.js";
import { storageHealthCheckLines } from "../cost/rules.js";
import { storageHealthCheck } from "../lib/registry-cache.js";
import { siteConfig, synthStack } from "./helpers/synth.js";

describe("the S3 storage health check, were it on", () => {
  const config = siteConfig({ bastion: { cacheStorage: "s3" }, images: { registry: "registry:3.0.0" } });
  const json = synthStack(config);
  const stack = StackView.of(json);
  const bucket = stack.resource("aws_s3_bucket.registry_cache")!;
  const context = { stack, usage: config.usage, registryCaches: config.services.registryCaches.length };

  it("prices a LIST and a HEAD per cache every 10 s of bastion time: 5 × 360/h × 152.08 h ≈ 273,750 each a month", () => {
    // distribution's own default: every 10 s, unhealthy after 3 failures (registry/handlers/app.go).
    const lines = storageHealthCheckLines(bucket, context, { enabled: true, intervalSeconds: 10, threshold: 3 });
    const polls = config.services.registryCaches.length * 360 * ((35 * 730) / 168);
    const list = lines.find((l) => l.item === "S3 LIST requests: storage health check")!;
    const head = lines.find((l) => l.item === "S3 HEAD requests: storage health check")!;
    expect(list.quantity * 1000).toBeCloseTo(polls, 3);
    expect(list.monthlyUsd).toBeCloseTo((polls / 1000) * 0.005, 6); // $1.37
    expect(head.monthlyUsd).toBeCloseTo((polls / 1000) * 0.0004, 6); // $0.11
    expect(list.basis).toMatch(/^5 caches × every 10 s × bastion start "0 18 \* \* \*"/);
  });

  it("bills nothing as rendered: the check is off on S3, so the site's report has no such line", () => {
    expect(storageHealthCheck("s3")).toEqual({ enabled: false });
    expect(storageHealthCheckLines(bucket, context, storageHealthCheck("s3"))).toEqual([]);
    const report = estimateMonthlyCost(json, config, { month: "2027-01" });
    expect(report.lines.filter((l) => /storage health check/.test(l.item))).toEqual([]);
  });
});
