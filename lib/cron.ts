/**
 * Validation of the 5-field cron expressions `aws_autoscaling_schedule.recurrence` accepts
 * (minute hour day-of-month month day-of-week). Returns a list of problems; empty means valid.
 */

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day-of-week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

function parseValue(field: CronField, token: string): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const index = field.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index < 0) return undefined;
  return field === FIELDS[3] ? index + 1 : index;
}

function fieldProblem(field: CronField, text: string): string | undefined {
  for (const part of text.split(",")) {
    const [range, step, ...rest] = part.split("/");
    if (rest.length > 0 || range === undefined || range === "") return `${field.name} "${text}" is malformed`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `${field.name} step "${step}" must be a positive integer`;
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `${field.name} range "${range}" is malformed`;
    const values = bounds.map((b) => parseValue(field, b));
    for (const [i, value] of values.entries()) {
      if (value === undefined) return `${field.name} value "${bounds[i]}" is not a number${field.names ? " or name" : ""}`;
      if (value < field.min || value > field.max) return `${field.name} value ${value} is outside ${field.min}-${field.max}`;
    }
    if (values.length === 2 && values[0]! > values[1]!) return `${field.name} range "${range}" runs backwards`;
  }
  return undefined;
}

export function cronProblems(expression: string): string[] {
  // The expression goes verbatim into the Auto Scaling schedule, whose documented separator is a space.
  if (/[^\S ]/.test(expression) || /^ | $| {2}/.test(expression)) {
    return ['fields must be separated by single spaces, with none before or after (no tabs or newlines), e.g. "0 18 * * *"'];
  }
  const fields = expression.split(" ");
  if (fields.length !== 5) {
    return [`has ${fields.length} fields; Auto Scaling recurrence takes exactly 5 (minute hour day-of-month month day-of-week), e.g. "0 18 * * MON-FRI"`];
  }
  return fields.flatMap((text, i) => fieldProblem(FIELDS[i]!, text) ?? []);
}

/**
 * Why `name` is not an IANA time zone as Auto Scaling takes it, or undefined. The runtime's zone
 * lookup ignores case, Auto Scaling does not: "europe/dublin" is refused with the right spelling.
 */
export function timeZoneProblem(name: string): string | undefined {
  const unknown = 'must be an IANA time zone name, e.g. "Europe/Dublin" (follows daylight saving) or "UTC"';
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(name)) return unknown;
  const canonical = Intl.supportedValuesOf("timeZone");
  // A canonical name as written passes every check below; only other names need the zone lookup,
  // whose first use loads the runtime's date formatting data.
  if (canonical.includes(name)) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return unknown;
  }
  const spelled = [resolved, ...canonical].find((zone) => zone.toLowerCase() === name.toLowerCase());
  if (spelled !== undefined && spelled !== name) return `time zone names are case-sensitive: write "${spelled}"`;
  // Aliases ("US/Eastern") are not in the canonical list; every IANA name part starts with a capital.
  if (!name.split("/").every((part) => /^[A-Z]/.test(part))) return `time zone names are case-sensitive: write it as the IANA database spells it (this one is "${resolved}")`;
  return undefined;
}

const MINUTES_PER_WEEK = 7 * 1440;

/** Every value a field matches ("*", lists, ranges, steps, names); day-of-week 7 folds onto 0 (Sunday). */
function expandField(field: CronField, text: string): number[] {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "*", step = "1"] = part.split("/");
    const [low, high] = range === "*" ? [field.min, field.max] : range.split("-").map((b) => parseValue(field, b)!);
    // "5/15" runs from 5 to the field's maximum, as in Unix cron.
    const last = high ?? (part.includes("/") ? field.max : low!);
    for (let value = low!; value <= last; value += Number(step)) values.add(field === FIELDS[4] && value === 7 ? 0 : value);
  }
  return [...values].sort((a, b) => a - b);
}

/** Minutes of the week (0 = Sunday 00:00) at which a weekly expression fires; undefined if it names days of month or months. */
function weeklyFirings(expression: string): number[] | undefined {
  if (cronProblems(expression).length > 0) return undefined;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = expression.trim().split(/\s+/) as [string, string, string, string, string];
  if (dayOfMonth !== "*" || month !== "*") return undefined;
  const minutes = expandField(FIELDS[0]!, minute);
  const hours = expandField(FIELDS[1]!, hour);
  return expandField(FIELDS[4]!, dayOfWeek).flatMap((day) => hours.flatMap((h) => minutes.map((m) => day * 1440 + h * 60 + m)));
}

/**
 * Hours per week a start/stop pair (or several of each) keeps something running, e.g. 25 for
 * "0 18 * * MON-FRI" / "0 23 * * MON-FRI". The firings are replayed over one week,
 * wrapping around (a Friday start that stops on Monday counts the weekend). A start and a stop in
 * the same minute leave it stopped. Undefined when either expression restricts days of month or
 * months (not a weekly pattern); callers should then assume it runs all the time.
 */
export function runningHoursPerWeek(start: string | readonly string[], stop: string | readonly string[]): number | undefined {
  const firings = (expressions: string | readonly string[]) => {
    const all = (typeof expressions === "string" ? [expressions] : expressions).map(weeklyFirings);
    return all.every((f) => f !== undefined) ? all.flat() : undefined;
  };
  const starts = firings(start);
  const stops = firings(stop);
  if (!starts || !stops) return undefined;
  if (starts.length === 0) return 0;
  if (stops.length === 0) return 168;
  const events = [...starts.map((at) => ({ at, on: true })), ...stops.map((at) => ({ at, on: false }))].sort(
    (a, b) => a.at - b.at || Number(b.on) - Number(a.on),
  );
  // The state at Sunday 00:00 is the one the previous week ended in.
  let on = events[events.length - 1]!.on;
  let since = 0;
  let minutes = 0;
  for (const event of events) {
    if (on) minutes += event.at - since;
    on = event.on;
    since = event.at;
  }
  if (on) minutes += MINUTES_PER_WEEK - since;
  return minutes / 60;
}
