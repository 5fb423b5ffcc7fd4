/**
 * Reading override files: only regular files, with a byte cap, refused fast otherwise; strict
 * JSON and YAML parsing with positions and key paths; nothing from the file's text echoed raw.
 */
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAdoptFile } from "../config/adopt-file.js";
import { ConfigError } from "../config/load.js";
import { ParseError, parseJson, parseYaml, printable } from "../config/parse.js";
import { estimateMonthlyCost } from "../cost/model.js";
import { budgetProblem } from "../cost/report.js";
import { configRefusal, siteConfig, synthStack } from "./helpers/synth.js";
import { scratchDir } from "./helpers/processes.js";

const dir = scratchDir("config-files");
const write = (name: string, text: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("special files", () => {
  const fifo = join(dir, "config.json");
  execFileSync("mkfifo", [fifo]);
  const zeroLink = join(dir, "zero.yaml");
  symlinkSync("/dev/zero", zeroLink);

  // The one timed assertion the loader has: a FIFO blocks a plain read for ever, /dev/zero never ends.
  it.each([
    ["a FIFO", fifo, /is a named pipe \(FIFO\); name a regular JSON or YAML file/],
    ["a character device", "/dev/zero", /is a character device/],
    ["a link to a character device", zeroLink, /is a character device/],
    ["a directory", dir, /is a directory/],
  ])("refuses %s in well under a second", (_, path, message) => {
    const started = performance.now();
    const error = configRefusal(path);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^DEATHSTAR_CONFIG: .*${message.source}`))]);
  });

  it("refuses text that is not UTF-8", () => {
    expect(configRefusal(write("latin1.json", Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]))).problems[0]).toMatch(/is not UTF-8 text/);
  });
});

describe("JSON", () => {
  it("accepts a UTF-8 byte order mark", () => {
    expect(parseJson('\ufeff{"a": 1}', 16)).toEqual({ a: 1 });
  });

  it("names the path and both lines of a duplicate key", () => {
    const text = '{\n  "budget": {\n    "allowOver": false,\n    "allowOver": true\n  }\n}';
    expect(() => parseJson(text, 16)).toThrow(ParseError);
    try {
      parseJson(text, 16);
    } catch (error) {
      expect(error).toMatchObject({ keyPath: "budget.allowOver", at: { line: 4, column: 5 } });
      expect((error as Error).message).toMatch(/^duplicate key \(first at line 3\)/);
    }
  });

  it("keeps __proto__ an own key instead of a prototype", () => {
    const parsed = parseJson('{"__proto__": {"polluted": true}}', 16) as Record<string, unknown>;
    expect(Object.hasOwn(parsed, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a": 1,}', 1, 9, /expected a double-quoted key, found '}'/],
    ['{"a":\n  01}', 2, 4, /expected "," or "}" after a value, found '1'/],
    ['{"a": "x\ty"}', 1, 9, /control character \\t inside a string/],
    ['{"a": "\\q"}', 1, 8, /invalid escape sequence/],
    ['{"a": "open', 1, 7, /unterminated string/],
    ["[[[[[[", 1, 5, /nested more than 4 levels deep/],
    ['{"a": 1} x', 1, 10, /unexpected 'x' after the top-level value/],
  ])("reports %j at line %i, column %i", (text, line, column, message) => {
    try {
      parseJson(text, 4);
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).at).toEqual({ line, column });
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe("YAML", () => {
  it("allows merge keys and anchors, and refuses a duplicate key with its path", () => {
    expect(parseYaml("a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n", 16, 100)).toEqual({ a: { b: 1 }, c: { b: 1, d: 2 } });
    expect(() => parseYaml("a:\n  b: 1\n  b: 2\n", 16, 100)).toThrow(expect.objectContaining({ keyPath: "a.b", at: { line: 3, column: 3 } }));
  });

  it.each([
    ["x: !!timestamp 2026-12-01", "a YAML timestamp"],
    ["x: !!set {a, b}", "a YAML set"],
    ["x: !!binary aGVsbG8=", "YAML binary data"],
    ["x: !!omap [a: 1]", "a YAML ordered map"],
  ])("refuses %j, naming the key", (text, kind) => {
    expect(() => parseYaml(text, 16, 100)).toThrow(expect.objectContaining({ keyPath: "x", message: expect.stringContaining(`is ${kind}`) }));
  });
});

describe("echoed text", () => {
  it("escapes control, bidi and invisible characters and cuts long text", () => {
    expect(printable("a\nb\u001b[31m\u202e\u200b")).toBe("a\\nb\\u001b[31m\\u202e\\u200b");
    expect(printable("x".repeat(30), 10)).toBe(`${"x".repeat(10)}… (20 more characters)`);
  });

  it("a ConfigError escapes whatever its problems quote", () => {
    expect(new ConfigError(["tags.a\u0007b: bad"], "f\nile").message).toBe("invalid site config (f\\nile):\n  - tags.a\\u0007b: bad");
  });
});

describe("zod's wording replaced", () => {
  it("says what is required when, and what a wrong type should be", () => {
    const s3 = write("s3.json", JSON.stringify({ state: { backend: "s3", bucket: "deathstar-state" } }));
    expect(configRefusal(s3).problems).toEqual(['state.key: is required when state.backend is "s3" (a string)', 'state.region: is required when state.backend is "s3" (a string)']);
    expect(configRefusal(write("gcs.json", JSON.stringify({ state: { backend: "gcs" } }))).problems).toEqual(['state.backend: must be "local" or "s3"']);
    expect(configRefusal(write("arch.json", JSON.stringify({ architecture: "riscv64" }))).problems).toEqual(['architecture: must be one of "arm64", "x86_64"']);
    expect(configRefusal(write("inf.yaml", "budget:\n  monthlyUsd: .inf\n")).problems).toEqual(["budget.monthlyUsd: must be a finite number, not Infinity"]);
    expect(configRefusal(write("huge.json", '{"usage": {"natGbPerMonth": 1e400}}')).problems).toEqual(["usage.natGbPerMonth: must be a finite number, not Infinity"]);
    expect(configRefusal(write("number-name.json", '{"site": {"name": 42}}')).problems).toEqual(["site.name: must be a string, not a number"]);
  });
});

describe("one message per problem", () => {
  it("a malformed field gets no derived complaint from a cross-field rule", () => {
    // A Cyrillic "е" in the region: the zone rule would otherwise suggest the homoglyph back.
    expect(configRefusal(write("homoglyph.json", JSON.stringify({ aws: { region: "\u0435u-west-1" } }))).problems).toEqual(['aws.region: must be an AWS region such as "eu-west-1"']);
  });

  it("a field gets its first problem only", () => {
    expect(configRefusal(write("plus.json", JSON.stringify({ images: { registry: "registry:2.8.3+build1" } }))).problems).toEqual([
      'images.registry: must be an image reference such as "registry:2.8.3" or "quay.io/poseidon/matchbox:v0.11.0"',
    ]);
    expect(configRefusal(write("fraction.json", JSON.stringify({ services: { matchboxPort: 8080.5 } }))).problems).toEqual(["services.matchboxPort: must be a whole number, not 8080.5"]);
  });
});

describe("the adopt file is read the same way", () => {
  it("refuses a duplicate key and a special file, naming existing.adoptFile", () => {
    const twice = write("adopt-twice.json", '{"version": 1, "state": "s", "moved": [], "import": [], "keep": [], "import": []}');
    expect(() => readAdoptFile(twice)).toThrow(/existing\.adoptFile: .*adopt-twice\.json is not valid JSON \(line 1, column 69\): duplicate key/);
    expect(() => readAdoptFile("/dev/zero")).toThrow(/existing\.adoptFile: \/dev\/zero is a character device/);
  });
});

describe("the budget fails closed", () => {
  it("a projection that could not price everything is a budget problem unless allowOver is set", () => {
    const config = siteConfig();
    const report = { ...estimateMonthlyCost(synthStack(config), config), unpriced: ["aws_mystery"] };
    expect(budgetProblem(report, config.budget)).toMatch(/^budget\.monthlyUsd: the projection \(LOWER BOUND: unpriced types: aws_mystery\) cannot be checked against the budget/);
    expect(budgetProblem(report, { ...config.budget, allowOver: true })).toBeUndefined();
  });
});
