// Command-line options of the benchmarks, declared once: each option's flag, argument, line of help, default
// and parser sit in one table, from which the parseArgs config, the usage text and the defaults are made.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { list, num, nums } from './cli-args';

/** One option that sets one field of the options object. */
export interface Spec<V> {
  flag: string;
  /** Placeholder of the value in the usage text. */
  arg: string;
  doc: string;
  default: V;
  parse: (value: string, flag: string) => V;
  /** Usage text for the default when printing the value would not say it well. */
  shown?: string;
}

/** A switch without a value (--smoke, --quiet). */
export interface Switch {
  flag: string;
  doc: string;
}

/** An option of a table that is a switch: its field is true when the flag is given, false otherwise. */
export interface SwitchSpec extends Switch {
  switch: true;
  default: false;
  /** Values laid over the defaults when the switch is given (as a preset's), before the flags given. */
  sets?: Record<string, unknown>;
}

/** A switch in a table (e.g. --profile), with the values it lays over the defaults. */
export const toggle = (flag: string, doc: string, sets?: Record<string, unknown>): SwitchSpec => ({
  flag,
  doc,
  switch: true,
  default: false,
  ...(sets ? { sets } : {}),
});

type AnySpec = Spec<unknown> | SwitchSpec;
const isSwitch = (s: AnySpec): s is SwitchSpec => 'switch' in s && s.switch;

export type Table<O> = { [K in keyof O]?: Spec<O[K]> };

export type DefaultsOf<T> = { [K in keyof T]: T[K] extends Spec<infer V> ? V : T[K] extends SwitchSpec ? boolean : never };

export function defaultsOf<T extends Record<string, AnySpec>>(table: T): DefaultsOf<T> {
  return Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.default])) as DefaultsOf<T>;
}

// Parsers

export const atLeast = (min: number) => (v: string, flag: string) => num(v, flag, min);
export const positives = (v: string, flag: string) => nums(v, flag);
export const text = (v: string) => v;
export const directory = (v: string) => resolve(v);
export const dbName = (v: string, flag: string) => {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(v)) throw new Error(`${flag}: lower-case letters, digits and _ only`);
  return v;
};

/** A list of names out of `known`, e.g. --relays baseline,polling. */
export function oneOf<N extends string>(known: readonly N[], what: string) {
  return (v: string, flag: string): N[] =>
    list(v).map((s) => {
      if (!(known as readonly string[]).includes(s)) throw new Error(`${flag}: unknown ${what} "${s}" (${known.join(', ')})`);
      return s as N;
    });
}

/** The options every benchmark has: its own database, the results' name and directory. */
export function commonSpecs(o: { db: string; dbDoc: string; name: string; shownName?: string; outDir: string }) {
  return {
    db: { flag: 'db', arg: 'NAME', doc: o.dbDoc, default: o.db, parse: dbName },
    name: { flag: 'name', arg: 'NAME', doc: 'results file name', default: o.name, parse: text, ...(o.shownName ? { shown: o.shownName } : {}) },
    outDir: { flag: 'out', arg: 'DIR', doc: 'results directory', default: o.outDir, parse: directory, shown: 'default bench/results' },
  };
}

const QUIET: Switch = { flag: 'quiet', doc: 'no progress line' };
const FROM_JSON = { flag: 'from-json', arg: 'FILE', doc: 'run nothing: rewrite the table and chart of saved results (FILE.json → FILE.md, FILE.svg)' };

const shownDefault = (s: Spec<unknown>) => s.shown ?? `default ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)}`;

/** The usage text: `head`, then one line per option, descriptions starting at `column`. */
export function usage(head: string, table: Record<string, AnySpec>, column: number, switches: Switch[] = []): string {
  const line = (left: string, doc: string) => `  ${left.padEnd(column - 3)} ${doc}`;
  return [
    `${head}\n`,
    ...switches.map((s) => line(`--${s.flag}`, s.doc)),
    ...Object.values(table).map((s) => (isSwitch(s) ? line(`--${s.flag}`, s.doc) : line(`--${s.flag} ${s.arg}`, `${s.doc} (${shownDefault(s)})`))),
    line(`--${QUIET.flag}`, QUIET.doc),
    line(`--${FROM_JSON.flag} ${FROM_JSON.arg}`, FROM_JSON.doc),
    '',
  ].join('\n');
}

export interface BenchFields {
  command: string;
  progress: boolean;
}

/**
 * Parses `argv` against the table. `presets` are switches that lay values over the defaults (--smoke), as
 * do the table's switches that set values (their `sets`, after the presets'); `command` is the command line
 * recorded in the report.
 */
export function parseOptions<O extends BenchFields>(
  argv: string[],
  c: { table: Record<string, AnySpec>; defaults: O; command: string; presets?: Record<string, Partial<O>> },
): O | 'help' | { fromJson: string } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const p of Object.keys(c.presets ?? {})) options[p] = { type: 'boolean' };
  options[QUIET.flag] = { type: 'boolean' };
  for (const s of Object.values(c.table)) options[s.flag] = { type: isSwitch(s) ? 'boolean' : 'string' };
  options[FROM_JSON.flag] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true });
  if (values.help) return 'help';
  const fromJson = values[FROM_JSON.flag];
  if (typeof fromJson === 'string' && fromJson) return { fromJson: resolve(fromJson) };
  const preset = Object.entries(c.presets ?? {}).reduce<Partial<O>>((acc, [p, v]) => (values[p] ? { ...acc, ...v } : acc), {});
  const switched = Object.values(c.table).reduce<Partial<O>>((acc, s) => (isSwitch(s) && s.sets && values[s.flag] ? { ...acc, ...s.sets } : acc), {});
  const o: O = { ...c.defaults, ...preset, ...switched, command: [c.command, ...argv].join(' ') };
  const fields = o as unknown as Record<string, unknown>;
  for (const [key, s] of Object.entries(c.table)) {
    const v = values[s.flag];
    if (isSwitch(s)) {
      if (v === true) fields[key] = true;
    } else if (typeof v === 'string' && v) fields[key] = s.parse(v, `--${s.flag}`);
  }
  if (values[QUIET.flag]) o.progress = false;
  return o;
}
