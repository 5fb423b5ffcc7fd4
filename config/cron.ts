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
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    return [`has ${fields.length} fields; Auto Scaling recurrence takes exactly 5 (minute hour day-of-month month day-of-week), e.g. "0 18 * * MON-FRI"`];
  }
  return fields.flatMap((text, i) => fieldProblem(FIELDS[i]!, text) ?? []);
}

/** True when `name` is an IANA time zone this runtime knows (Auto Scaling takes IANA names). */
export function isIanaTimeZone(name: string): boolean {
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Hours per day a start/stop pair keeps something running, for daily schedules of the form "M H * * *". */
export function dailyHours(start: string, stop: string): number | undefined {
  const parse = (cron: string) => {
    const [minute, hour, dom, month, dow] = cron.trim().split(/\s+/);
    if (dom !== "*" || month !== "*" || !/^\d+$/.test(minute ?? "") || !/^\d+$/.test(hour ?? "")) return undefined;
    return { minutes: Number(hour) * 60 + Number(minute), dow: dow ?? "*" };
  };
  const a = parse(start);
  const b = parse(stop);
  if (!a || !b || a.dow !== b.dow) return undefined;
  return (((b.minutes - a.minutes) % 1440) + 1440) % 1440 / 60;
}
