/**
 * Matches the stack's own resources to resources of an existing state by type and identifying
 * attributes (CIDR, name, group name, Name tag...). References between our resources
 * (`${aws_vpc.main.id}`) are resolved through earlier matches, so a subnet matches only inside
 * the VPC that matched, a rule only on the group that matched. Pure: no files, no processes.
 */
import type { StateInstance } from "./state.js";

/** Attributes that identify an object of each type; `#subnets` = the subnets a route table serves. */
const IDENTITY: Readonly<Record<string, readonly string[]>> = {
  aws_vpc: ["cidr_block"],
  aws_subnet: ["vpc_id", "cidr_block"],
  aws_internet_gateway: ["vpc_id"],
  aws_route_table: ["vpc_id", "#subnets"],
  aws_route_table_association: ["subnet_id", "route_table_id"],
  aws_route: ["route_table_id", "destination_cidr_block"],
  aws_security_group: ["vpc_id", "name"],
  aws_default_security_group: ["vpc_id"],
  aws_vpc_security_group_ingress_rule: ["security_group_id", "ip_protocol", "from_port", "to_port", "cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"],
  aws_vpc_security_group_egress_rule: ["security_group_id", "ip_protocol", "from_port", "to_port", "cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"],
  aws_vpc_dhcp_options: ["domain_name", "domain_name_servers"],
  aws_vpc_dhcp_options_association: ["vpc_id"],
  aws_iam_role: ["name"],
  aws_iam_instance_profile: ["name"],
  aws_iam_role_policy: ["role", "name"],
  aws_launch_template: ["name"],
  aws_autoscaling_group: ["name"],
  aws_autoscaling_schedule: ["autoscaling_group_name", "scheduled_action_name"],
  aws_network_interface: ["subnet_id", "private_ips"],
  aws_nat_gateway: ["subnet_id"],
  aws_instance: ["subnet_id", "private_ip"],
};
const DEFAULT_IDENTITY = ["tags.Name"];

/**
 * Attributes whose change replaces the object: when ours differs from the existing value, the
 * existing value is kept so adopting never destroys what it matched.
 */
const REPLACING: Readonly<Record<string, readonly string[]>> = {
  aws_security_group: ["description"],
  aws_subnet: ["availability_zone"],
  aws_vpc_dhcp_options: ["domain_name", "domain_name_servers"],
  aws_network_interface: ["description"],
  aws_eip: ["domain"],
};

/** How an existing object is imported when it is not in the stack's own state: its import id. */
const IMPORT_ID: Readonly<Record<string, (a: Readonly<Record<string, unknown>>) => string>> = {
  aws_route: (a) => `${a.route_table_id}_${a.destination_cidr_block}`,
  aws_route_table_association: (a) => `${a.subnet_id}/${a.route_table_id}`,
  aws_autoscaling_schedule: (a) => `${a.autoscaling_group_name}/${a.scheduled_action_name}`,
  aws_vpc_dhcp_options_association: (a) => String(a.vpc_id),
  aws_iam_role_policy_attachment: (a) => `${a.role}/${a.policy_arn}`,
};

export type OurResources = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;

export interface Match {
  readonly ours: string;
  readonly existing: StateInstance;
  /** The identifying values, e.g. `cidr_block=10.20.0.0/16`. */
  readonly by: string;
  /** Replacing attributes set to the existing value. */
  readonly keep: readonly { readonly attribute: string; readonly value: unknown }[];
}

export interface MatchResult {
  readonly matched: readonly Match[];
  readonly ambiguous: readonly { readonly ours: string; readonly by: string; readonly candidates: readonly string[] }[];
  /** Ours with no existing counterpart (created by the next apply), and why. */
  readonly unmatchedOurs: readonly { readonly ours: string; readonly reason: string }[];
  /** Existing instances nothing of ours matched. */
  readonly unmatchedExisting: readonly StateInstance[];
}

/** Standalone rule types, by the security group block an inline rule sits in. */
const RULE_TYPE = { ingress: "aws_vpc_security_group_ingress_rule", egress: "aws_vpc_security_group_egress_rule" } as const;

/**
 * Routes written inline in a route table (`route`) and rules inline in a security group
 * (`ingress`/`egress`), as instances of the standalone types the stack uses, so they match like
 * any other resource. A route imports by its table and destination; an inline rule has no id of
 * its own in the state, so a match keeps it inline instead (see {@link Match.keepInline}).
 */
export function inlineInstances(instances: readonly StateInstance[]): StateInstance[] {
  const list = <T = Record<string, unknown>>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
  return instances.flatMap((owner): StateInstance[] => {
    const at = (block: string, key: string) => `${owner.address}.${block}[${JSON.stringify(key)}]`;
    if (owner.type === "aws_route_table") {
      return list(owner.attributes.route)
        .filter((route) => typeof route.cidr_block === "string" && route.cidr_block !== "")
        .map((route) => ({
          address: at("route", String(route.cidr_block)),
          type: "aws_route",
          module: owner.module,
          inlineIn: owner.address,
          attributes: { ...route, route_table_id: owner.attributes.id, destination_cidr_block: route.cidr_block },
        }));
    }
    if (owner.type !== "aws_security_group") return [];
    return (["ingress", "egress"] as const).flatMap((block) =>
      list(owner.attributes[block]).flatMap((rule) => {
        // One inline rule lists many sources; the standalone resources hold one each.
        const allPorts = rule.protocol === "-1";
        const base = {
          security_group_id: owner.attributes.id,
          ip_protocol: rule.protocol,
          from_port: allPorts ? undefined : rule.from_port,
          to_port: allPorts ? undefined : rule.to_port,
          description: rule.description,
        };
        const sources = [
          ...list<string>(rule.cidr_blocks).map((cidr) => ({ cidr_ipv4: cidr })),
          ...list<string>(rule.ipv6_cidr_blocks).map((cidr) => ({ cidr_ipv6: cidr })),
          ...list<string>(rule.security_groups).map((group) => ({ referenced_security_group_id: group })),
          ...(rule.self === true ? [{ referenced_security_group_id: owner.attributes.id }] : []),
        ];
        return sources.map((source) => ({
          address: at(block, `${rule.protocol}:${rule.from_port}-${rule.to_port}:${Object.values(source)[0]}`),
          type: RULE_TYPE[block],
          module: owner.module,
          inlineIn: owner.address,
          attributes: { ...base, ...source },
        }));
      }),
    );
  });
}

/**
 * Whether planned or configured values (references resolved) identify the same object as an
 * existing instance's attributes. Never for route tables: a VPC holds any number of them, told
 * apart only by the subnets they serve.
 */
export function identityMatches(type: string, values: Readonly<Record<string, unknown>>, existing: Readonly<Record<string, unknown>>): boolean {
  const keys = IDENTITY[type] ?? DEFAULT_IDENTITY;
  if (keys.includes("#subnets")) return false;
  const wanted = keys.map((key) => valueAt(values, key));
  if (wanted.every(isAbsent)) return false;
  return keys.every((key, i) => sameValue(wanted[i], valueAt(existing, key)));
}

/** The existing object's import id (what `tofu import` takes). */
export function importId(instance: StateInstance): string {
  return IMPORT_ID[instance.type]?.(instance.attributes) ?? String(instance.attributes.id);
}

export function matchResources(ours: OurResources, existing: readonly StateInstance[]): MatchResult {
  const pending = new Map<string, { type: string; attributes: Readonly<Record<string, unknown>> }>();
  for (const [type, byName] of Object.entries(ours)) {
    for (const [name, attributes] of Object.entries(byName)) {
      // count/for_each resources have no single address to move to.
      if (attributes.count === undefined && attributes.for_each === undefined) pending.set(`${type}.${name}`, { type, attributes });
    }
  }
  const matchedTo = new Map<string, StateInstance>();
  const claimed = new Set<StateInstance>();
  const matched: Match[] = [];
  const ambiguous: MatchResult["ambiguous"][number][] = [];

  const resolve = (value: unknown): unknown => resolveReferences(value, matchedTo);
  const ourSubnets = (address: string) => subnetsOfOurRouteTable(ours, address, resolve);
  const existingSubnets = (table: StateInstance) =>
    existing.filter((e) => e.type === "aws_route_table_association" && e.attributes.route_table_id === table.attributes.id).map((e) => e.attributes.subnet_id);

  /** Our identifying values, references resolved as far as the matches so far allow. */
  const wantedValues = (address: string, type: string, attributes: Readonly<Record<string, unknown>>): unknown[] =>
    (IDENTITY[type] ?? DEFAULT_IDENTITY).map((key) => (key === "#subnets" ? ourSubnets(address) : resolve(valueAt(attributes, key))));

  // Each round matches what became identifiable through the previous round's matches.
  for (let progress = true; progress; ) {
    progress = false;
    for (const [address, { type, attributes }] of pending) {
      const keys = IDENTITY[type] ?? DEFAULT_IDENTITY;
      const wanted = wantedValues(address, type, attributes);
      if (wanted.some((value) => containsReference(value)) || wanted.every(isAbsent)) continue;
      const candidates = existing.filter(
        (e) =>
          e.type === type &&
          !claimed.has(e) &&
          keys.every((key, i) => sameValue(wanted[i], key === "#subnets" ? existingSubnets(e) : valueAt(e.attributes, key))),
      );
      if (candidates.length === 0) continue;
      const by = keys.map((key, i) => `${key}=${display(wanted[i])}`).join(" ");
      pending.delete(address);
      progress = true;
      if (candidates.length > 1) {
        ambiguous.push({ ours: address, by, candidates: candidates.map((c) => c.address) });
        continue;
      }
      const found = candidates[0]!;
      claimed.add(found);
      matchedTo.set(address, found);
      const keep = (REPLACING[type] ?? [])
        .filter((attribute) => attribute in attributes && !sameValue(resolve(attributes[attribute]), found.attributes[attribute]))
        .map((attribute) => ({ attribute, value: found.attributes[attribute] }));
      matched.push({ ours: address, existing: found, by, keep });
    }
  }

  const unmatchedOurs = [...pending].map(([address, { type, attributes }]) => {
    const keys = IDENTITY[type] ?? DEFAULT_IDENTITY;
    const wanted = wantedValues(address, type, attributes);
    const waitingFor = wanted.flat().find(containsReference);
    const reason = waitingFor
      ? `depends on ${display(waitingFor)}, which matched nothing`
      : `no existing ${type} with ${keys.map((key, i) => `${key}=${display(wanted[i])}`).join(" ")}`;
    return { ours: address, reason };
  });
  return { matched, ambiguous, unmatchedOurs, unmatchedExisting: existing.filter((e) => !claimed.has(e)) };
}

/** `${aws_vpc.main.id}` → the matched existing object's id; unresolvable references stay as they are. */
function resolveReferences(value: unknown, matchedTo: ReadonlyMap<string, StateInstance>): unknown {
  if (typeof value === "string") {
    const reference = /^\$\{([a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/.exec(value);
    if (!reference) return value;
    const target = matchedTo.get(reference[1]!);
    return target ? target.attributes[reference[2]!] : value;
  }
  if (Array.isArray(value)) return value.map((item) => resolveReferences(item, matchedTo));
  return value;
}

function subnetsOfOurRouteTable(ours: OurResources, table: string, resolve: (value: unknown) => unknown): unknown[] {
  return Object.values(ours.aws_route_table_association ?? {})
    .filter((association) => association.route_table_id === `\${${table}.id}`)
    .map((association) => resolve(association.subnet_id));
}

function valueAt(attributes: Readonly<Record<string, unknown>>, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined), attributes);
}

function containsReference(value: unknown): boolean {
  if (typeof value === "string") return value.includes("${");
  return Array.isArray(value) && value.some(containsReference);
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/** Equal as OpenTofu would see them: absent = null = "" = [], numbers = numeric strings, lists as sets. */
function sameValue(a: unknown, b: unknown): boolean {
  if (isAbsent(a) || isAbsent(b)) return isAbsent(a) && isAbsent(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const sort = (list: unknown[]) => list.map((item) => String(item)).sort();
    return JSON.stringify(sort(a)) === JSON.stringify(sort(b));
  }
  if (typeof a === "object" || typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
  return String(a) === String(b);
}

function display(value: unknown): string {
  if (isAbsent(value)) return "-";
  return typeof value === "string" ? value : JSON.stringify(value);
}
