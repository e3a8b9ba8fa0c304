// The compatibility rule for event schemas (docs/concepts.md "Contracts"): a change passes only when both
// the consumers still on the released schema and the consumers on the new one can read every event, old or
// new. So a required field may not disappear (a rename is a removal), turn optional, or be added without a
// default, and no field's type or constraints may narrow (events already on the topics, or redriven from a
// dead-letter topic, would fail the new schema) or widen (consumers on the released schema would refuse
// the new values). A new optional field passes: the runner strips fields its schema does not know.
import type { JsonSchema } from './event-contracts';

type Bound = 'lower' | 'upper' | 'presence';
/** Value keywords compared on every field, and which way a larger value moves them. */
const KEYWORDS: Record<string, Bound> = {
  minimum: 'lower',
  exclusiveMinimum: 'lower',
  minLength: 'lower',
  minItems: 'lower',
  maximum: 'upper',
  exclusiveMaximum: 'upper',
  maxLength: 'upper',
  maxItems: 'upper',
  pattern: 'presence',
  format: 'presence',
  const: 'presence',
  multipleOf: 'presence',
};
const props = (s: JsonSchema) => (s.properties ?? {}) as Record<string, JsonSchema>;
const required = (s: JsonSchema) => new Set((s.required ?? []) as string[]);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const shown = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const typesOf = (s: JsonSchema) => new Set(s.type === undefined ? [] : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
const accepts = (types: Set<string>, t: string) => types.has(t) || (t === 'integer' && types.has('number'));

type Direction = 'narrowed' | 'widened' | 'changed';
const CONSEQUENCE: Record<Direction, string> = {
  narrowed: 'events already published may not satisfy it',
  widened: 'consumers on the released schema refuse the new values',
  changed: 'consumers on either schema may refuse the other one’s events',
};

function direction(keyword: string, was: unknown, now: unknown): Direction {
  const bound = KEYWORDS[keyword];
  if (was === undefined) return 'narrowed';
  if (now === undefined) return 'widened';
  if (bound === 'lower') return (now as number) > (was as number) ? 'narrowed' : 'widened';
  if (bound === 'upper') return (now as number) < (was as number) ? 'narrowed' : 'widened';
  return 'changed';
}

function setDirection(lost: boolean, gained: boolean): Direction | undefined {
  if (lost && gained) return 'changed';
  if (lost) return 'narrowed';
  return gained ? 'widened' : undefined;
}

/** What makes `current` unable to stand in for `released`, one message per problem, each naming the field. */
export function breakingChanges(released: JsonSchema, current: JsonSchema, path = ''): string[] {
  const field = path ? `field "${path}"` : 'the payload';
  const problems: string[] = [];
  const say = (d: Direction, what: string) => problems.push(`${field} ${d === 'changed' ? 'changed' : `was ${d}`} (${what}): ${CONSEQUENCE[d]}`);

  const [wasTypes, nowTypes] = [typesOf(released), typesOf(current)];
  const typeMove = setDirection(
    [...wasTypes].some((t) => !accepts(nowTypes, t)),
    [...nowTypes].some((t) => !accepts(wasTypes, t)),
  );
  if (typeMove) say(typeMove, `type ${shown(released.type)} → ${shown(current.type)}`);
  if (released.enum !== undefined || current.enum !== undefined) {
    const [was, now] = [(released.enum ?? []) as unknown[], (current.enum ?? []) as unknown[]];
    const enumMove =
      released.enum === undefined
        ? 'narrowed'
        : current.enum === undefined
          ? 'widened'
          : setDirection(
              was.some((v) => !now.includes(v)),
              now.some((v) => !was.includes(v)),
            );
    if (enumMove) say(enumMove, `enum ${shown(released.enum)} → ${shown(current.enum)}`);
  }
  for (const k of Object.keys(KEYWORDS)) {
    if (!same(released[k], current[k])) say(direction(k, released[k], current[k]), `${k} ${shown(released[k])} → ${shown(current[k])}`);
  }
  for (const k of ['anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', 'prefixItems']) {
    if (!same(released[k], current[k])) say('changed', `${k} ${shown(released[k])} → ${shown(current[k])}`);
  }
  if (released.items !== undefined || current.items !== undefined) {
    problems.push(...breakingChanges((released.items ?? {}) as JsonSchema, (current.items ?? {}) as JsonSchema, `${path}[]`));
  }
  if (!wasTypes.has('object') && !nowTypes.has('object')) return problems;

  const [was, now] = [props(released), props(current)];
  const [wasRequired, nowRequired] = [required(released), required(current)];
  for (const [key, before] of Object.entries(was)) {
    const p = join(path, key);
    const after = now[key];
    if (after === undefined) {
      if (wasRequired.has(key))
        problems.push(`field "${p}" is required in the released schema and is gone (removed or renamed): consumers on the released schema need it`);
      continue;
    }
    if (wasRequired.has(key) && !nowRequired.has(key)) problems.push(`field "${p}" was required and is now optional: consumers on the released schema need it`);
    if (!wasRequired.has(key) && nowRequired.has(key) && after.default === undefined) {
      problems.push(`field "${p}" was optional and is now required without a default: events already published may lack it`);
    }
    problems.push(...breakingChanges(before, after, p));
  }
  for (const [key, after] of Object.entries(now)) {
    if (key in was) continue;
    const p = join(path, key);
    if (nowRequired.has(key) && after.default === undefined) problems.push(`new field "${p}" is required without a default: events already published lack it`);
    if (released.additionalProperties === false) problems.push(`new field "${p}": the released schema refuses fields it does not name`);
  }
  if (released.additionalProperties !== false && current.additionalProperties === false) {
    problems.push(`${field} now refuses fields it does not name: events with fields added later would fail`);
  }
  return problems.filter((m, i, all) => all.indexOf(m) === i);
}

/** Every breaking change between the released event schemas and the current ones, prefixed with the event type. */
export function eventCompatibility(released: Record<string, JsonSchema>, current: Record<string, JsonSchema>): string[] {
  return Object.entries(released).flatMap(([type, schema]) => {
    const now = current[type];
    if (!now)
      return [`${type}: the event type is gone: consumers on the released contract still read it (retire it with a release, docs/concepts.md "Contracts")`];
    return breakingChanges(schema, now).map((m) => `${type}: ${m}`);
  });
}
