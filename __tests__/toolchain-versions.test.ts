/** The tools the integration tests build are the releases the site config deploys. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SITES } from "../config/sites.js";

const script = readFileSync(resolve(import.meta.dirname, "../scripts/toolchain.sh"), "utf8");

describe("scripts/toolchain.sh", () => {
  it("builds matchbox at the release of the default matchbox image", () => {
    const built = /^matchbox_version=(\S+)$/m.exec(script)?.[1];
    for (const site of Object.values(SITES)) {
      expect(built, `images.matchbox of site ${site.site.name}`).toBe(site.images.matchbox.split(":").at(-1));
    }
  });
});
