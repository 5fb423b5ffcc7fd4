import { Construct } from "constructs";
import { TerraformHclModule } from "cdktf";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../config/load.js";
import type { ModuleOutput, SiteConfig } from "../config/schema.js";
import type { ExistingFeed } from "../config/rules/existing-modules.js";

type ModuleConfig = SiteConfig["existing"]["modules"][number];
type InputValue = ModuleConfig["inputs"][string];

/** Props of {@link ExistingModules}. */
export interface ExistingModulesProps {
  /** The validated `existing.modules` list, in dependency order. */
  readonly modules: readonly ModuleConfig[];
  /** Absolute project root the module sources are relative to. */
  readonly projectRoot: string;
  /** The same root as seen from the synthesized stack directory, e.g. "../../..". */
  readonly projectRootFromStack: string;
}

/**
 * The operator's existing hand-written local modules, called as they are under their old names,
 * so `module.<name>.…` addresses in the existing state keep matching and nothing they made is
 * replaced. Their outputs can stand in for our own network and security groups ({@link feed}).
 *
 * The modules inherit the stack's default provider, as they did in their old configuration; the
 * stack keeps that one free of its default tags while modules are kept.
 */
export class ExistingModules extends Construct {
  private readonly byName = new Map<string, TerraformHclModule>();
  private readonly feeds = new Map<ExistingFeed, string>();

  constructor(scope: Construct, id: string, props: ExistingModulesProps) {
    super(scope, id);
    props.modules.forEach((module, i) => this.callModule(module, i, props));
  }

  /** The module output mapped to `feed`, as a reference; undefined when no module provides it. */
  feed(feed: ExistingFeed): string | undefined {
    return this.feeds.get(feed);
  }

  private callModule(module: ModuleConfig, index: number, props: ExistingModulesProps): void {
    const directory = resolve(props.projectRoot, module.source);
    if (!existsSync(directory) || !statSync(directory).isDirectory()) {
      throw new ConfigError([`existing.modules.${index}.source: "${module.source}" is not a directory under ${props.projectRoot}`], "existing modules");
    }
    const call = new TerraformHclModule(this, module.name, {
      source: `${props.projectRootFromStack}/${module.source}`,
      // Local paths are used in place: copying the module into an asset would change nothing
      // about its addresses but would hide edits to it until the next synth.
      skipAssetCreationFromLocalModules: true,
      variables: Object.fromEntries(Object.entries(module.inputs).map(([name, value]) => [name, this.inputValue(value)])),
    });
    call.overrideLogicalId(module.name);
    this.byName.set(module.name, call);
    for (const [feed, output] of Object.entries(module.outputs) as [ExistingFeed, ModuleOutput | undefined][]) {
      if (output !== undefined) this.feeds.set(feed, typeof output === "string" ? call.getString(output) : outputElement(call, output.output, output.index));
    }
  }

  private inputValue(value: InputValue): unknown {
    if (typeof value === "string") return escapeTemplate(value);
    if (Array.isArray(value)) return value.map((item) => (typeof item === "string" ? escapeTemplate(item) : item));
    if (typeof value === "object" && "fromModule" in value && typeof value.fromModule === "string" && typeof value.output === "string") {
      // Listed earlier (schema rule), so the module exists.
      const from = this.byName.get(value.fromModule)!;
      return typeof value.index === "number" ? outputElement(from, value.output, value.index) : from.getString(value.output);
    }
    if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeTemplate(String(v))]));
    return value;
  }
}

/**
 * `module.<name>.<output>[index]`: one element of a list output. Written out, as cdktf's
 * propertyAccess would render the legacy `output.0` form; name, output and index are validated.
 */
function outputElement(module: TerraformHclModule, output: string, index: number): string {
  return `\${module.${module.friendlyUniqueId}.${output}[${index}]}`;
}

/** Config literals are data, never OpenTofu templates: `${` and `%{` are escaped. */
function escapeTemplate(text: string): string {
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
