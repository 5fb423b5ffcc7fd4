/**
 * Reads an OpenTofu/Terraform state file (format version 4) without ever writing it, and lists
 * its managed hashicorp/aws resource instances with their addresses and attributes.
 */
import { readFileSync } from "node:fs";

/** Larger files are refused before parsing (a lab's state is a few hundred KiB). */
const MAX_STATE_BYTES = 64 * 1024 * 1024;
/** `provider["registry.opentofu.org/hashicorp/aws"]`, optionally with an alias. */
const AWS_PROVIDER = /^provider\["registry\.(opentofu\.org|terraform\.io)\/hashicorp\/aws"\](\.[A-Za-z0-9_-]+)?$/;

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

/** One instance of a managed resource in the existing state. */
export interface StateInstance {
  /** Full address, e.g. `module.vpc.aws_subnet.private` or `aws_instance.node[0]`. */
  readonly address: string;
  readonly type: string;
  /** `module.vpc` or "" at the root; instance keys included. */
  readonly module: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /**
   * Set on a route or rule written inline in a route table or security group (`route`,
   * `ingress`, `egress`): the address of that table or group, which holds it in the state.
   */
  readonly inlineIn?: string;
}

export interface ExistingState {
  readonly terraformVersion: string;
  readonly instances: readonly StateInstance[];
  /** Managed resources of other providers: reported, never adopted. */
  readonly foreign: readonly string[];
}

interface RawResource {
  mode?: unknown;
  type?: unknown;
  name?: unknown;
  module?: unknown;
  provider?: unknown;
  instances?: unknown;
}

export function readState(path: string): ExistingState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new StateError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (Buffer.byteLength(text) > MAX_STATE_BYTES) throw new StateError(`${path} is larger than ${MAX_STATE_BYTES} bytes; is it a state file?`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StateError(`${path} is not JSON (${(error as Error).message.split("\n")[0]}); expected a terraform.tfstate`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new StateError(`${path} is not a state file: the top level is not an object`);
  const state = raw as { version?: unknown; terraform_version?: unknown; resources?: unknown };
  if (state.version !== 4) {
    const found = state.version === undefined ? "has no state format version" : `has state format version ${JSON.stringify(state.version)}`;
    throw new StateError(`${path} ${found}; only version 4 (Terraform ≥ 0.12, any OpenTofu) is supported`);
  }
  if (typeof state.terraform_version !== "string" || !Array.isArray(state.resources)) {
    throw new StateError(`${path} is not a state file: "terraform_version" or "resources" is missing`);
  }

  const instances: StateInstance[] = [];
  const foreign: string[] = [];
  for (const resource of state.resources as RawResource[]) {
    if (resource.mode !== "managed") continue;
    if (typeof resource.type !== "string" || typeof resource.name !== "string" || !Array.isArray(resource.instances)) {
      throw new StateError(`${path} has a malformed resource entry (type/name/instances): ${JSON.stringify(resource).slice(0, 200)}`);
    }
    const module = typeof resource.module === "string" ? resource.module : "";
    const base = `${module ? `${module}.` : ""}${resource.type}.${resource.name}`;
    if (typeof resource.provider !== "string" || !AWS_PROVIDER.test(resource.provider)) {
      foreign.push(base);
      continue;
    }
    for (const instance of resource.instances as { index_key?: unknown; attributes?: unknown }[]) {
      const key = instance.index_key;
      const address = key === undefined ? base : `${base}[${typeof key === "string" ? JSON.stringify(key) : String(key)}]`;
      if (typeof instance.attributes !== "object" || instance.attributes === null) {
        throw new StateError(`${path}: ${address} has no attributes (state written by a provider protocol this tool does not read)`);
      }
      instances.push({ address, type: resource.type, module, attributes: instance.attributes as Record<string, unknown> });
    }
  }
  if (instances.length === 0) {
    throw new StateError(
      `${path} holds no hashicorp/aws resources${foreign.length > 0 ? ` (only ${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", …" : ""})` : ""}; nothing to adopt`,
    );
  }
  return { terraformVersion: state.terraform_version, instances, foreign };
}
