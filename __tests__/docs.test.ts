/**
 * Every shell block in README.md, SECURITY.md and docs/*.md is either run by a test or says why
 * it cannot run here, so a new runbook line cannot go untested by accident (README, "Tests").
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blockCommands, docBlock, docFiles, shellBlocks } from "./helpers/docs.js";
import { REPO_ROOT } from "./helpers/project.js";

describe("docs: every shell block is run by a test or says why not", () => {
  for (const file of docFiles()) {
    const blocks = shellBlocks(file);
    if (blocks.length === 0) continue;
    describe(file, () => {
      for (const block of blocks) {
        const where = `${block.file}:${block.line} (under "${block.heading}")`;
        it(`line ${block.line}`, () => {
          expect(block.markerProblem, where).toBeUndefined();
          const marker = block.marker!;
          if (marker.kind === "not-run") return;
          expect(marker.test, `${where}: a runs: marker names a test file under __tests__/`).toMatch(/^__tests__\/.+\.test\.ts$/);
          const test = join(REPO_ROOT, marker.test);
          expect(existsSync(test), `${where}: ${marker.test} does not exist`).toBe(true);
          // The test reads its blocks from the markdown (helpers/docs.ts), so it names the file.
          expect(readFileSync(test, "utf8"), `${where}: ${marker.test} never reads ${block.file}`).toContain(`"${block.file}"`);
        });
      }
    });
  }
});

/** Where Docker Hub's pull limits are stated: the figures change, so they live in one section. */
const PULL_LIMIT_HOME = { file: "docs/bastion.md", heading: "### How many docker.io pulls, and the limits" };
/** A pull-limit figure: "100 per 6 hours", "10 anonymous pulls an hour", "200 per 6 hours". */
const PULL_LIMIT_FIGURE = /\b\d+\s+(?:\(?anonymous\)?\s+)?(?:pulls?\s+)?(?:per|an|a)\s+(?:\d+\s+)?hours?\b/i;

describe("Docker Hub's pull limits are stated in one place", () => {
  it(`only ${PULL_LIMIT_HOME.file} (${PULL_LIMIT_HOME.heading.replace(/^#+ /, "")}) gives the figures; other pages link to it`, () => {
    const strays: string[] = [];
    for (const file of docFiles()) {
      let heading = "";
      readFileSync(join(REPO_ROOT, file), "utf8")
        .split("\n")
        .forEach((text, index) => {
          if (/^#+ /.test(text)) heading = text;
          const home = file === PULL_LIMIT_HOME.file && heading === PULL_LIMIT_HOME.heading;
          if (!home && PULL_LIMIT_FIGURE.test(text)) strays.push(`${file}:${index + 1}: ${text}`);
        });
    }
    expect(strays).toEqual([]);
  });

  it("the home section states them", () => {
    const section = readFileSync(join(REPO_ROOT, PULL_LIMIT_HOME.file), "utf8").split(PULL_LIMIT_HOME.heading)[1]!.split(/\n#+ /)[0]!;
    expect(section).toMatch(PULL_LIMIT_FIGURE);
  });
});

describe("the docs helper", () => {
  it("finds blocks by file and heading and fails loudly on a heading that does not exist", () => {
    expect(docBlock("docs/teardown.md", "Verify").text).toMatch(/^aws ec2 describe-instances/);
    expect(() => docBlock("docs/teardown.md", "No such section")).toThrow(/no shell block #0 under "No such section".*"Verify"/);
  });

  it("splits a block into commands the way a shell reads them", () => {
    const text = [
      "# a comment",
      "cat > site.yaml <<'YAML'",
      "network:",
      "  nat: none   # \\",
      "YAML",
      "aws ec2 describe-volumes \\",
      "  --region eu-west-1",
      "",
      "for group in a b; do",
      "  echo \"$group\"",
      "done",
    ].join("\n");
    expect(blockCommands(text)).toEqual([
      "cat > site.yaml <<'YAML'\nnetwork:\n  nat: none   # \\\nYAML",
      "aws ec2 describe-volumes \\\n  --region eu-west-1",
      "for group in a b; do\n  echo \"$group\"\ndone",
    ]);
  });
});
