// The option tables: one declaration per option gives the parser, the usage line and the default.
import { DEFAULTS, SMOKE, parseRelayArgs } from '../relay';
import { HTTP_DEFAULTS, parseHttpArgs } from '../http';
import { USAGE as RELAY_USAGE } from '../relay/options';
import { USAGE as HTTP_USAGE } from '../http/options';
import { JOURNEY_DEFAULTS, JOURNEY_SMOKE, parseJourneyArgs } from '../journey';
import { USAGE as JOURNEY_USAGE } from '../journey/options';

describe('benchmark options', () => {
  it('lays --smoke over the defaults and the given flags over both, recording the command line', () => {
    const o = parseRelayArgs(['--smoke', '--rates', '50,100', '--relays', 'polling', '--per-tx', '4', '--quiet']);
    expect(o).toEqual({
      ...DEFAULTS,
      ...SMOKE,
      rates: [50, 100],
      relays: ['polling'],
      perTx: 4,
      progress: false,
      command: 'npm run bench -- relay --smoke --rates 50,100 --relays polling --per-tx 4 --quiet',
    });
  });

  it('refuses values out of range and names it did not declare, naming the flag', () => {
    expect(() => parseRelayArgs(['--relays', 'baseline,kafka'])).toThrow('--relays: unknown relay "kafka" (baseline, debezium, polling)');
    expect(() => parseRelayArgs(['--duration', '0'])).toThrow('--duration: "0" must be a number ≥ 0.1');
    expect(() => parseHttpArgs(['--db', 'Shop'])).toThrow('--db: lower-case letters, digits and _ only');
    expect(() => parseHttpArgs(['--smoke'])).toThrow();
  });

  it('runs nothing for --help and --from-json', () => {
    expect(parseHttpArgs(['--help'])).toBe('help');
    expect(parseRelayArgs(['--from-json', 'saved.json', '--rates', '5'])).toEqual({ fromJson: expect.stringMatching(/\/saved\.json$/) });
  });

  it('prints one usage line per flag with its default', () => {
    expect(RELAY_USAGE).toContain('  --poll-intervals LIST   polling relay intervals in ms (default 3000,100)\n');
    expect(RELAY_USAGE).toContain('  --smoke                 preset: a few hundred events per scenario (what npm test runs)\n');
    expect(HTTP_USAGE).toContain('  --seed N            products created for the GET run (default 1000)\n');
    expect(HTTP_USAGE).toContain('  --from-json FILE    run nothing');
    expect(parseHttpArgs([])).toEqual({ ...HTTP_DEFAULTS });
  });

  it("sets a table's switch only when given, laying its values under the flags given", () => {
    expect(parseJourneyArgs([])).toMatchObject({ profile: false, name: 'journey' });
    expect(parseJourneyArgs(['--profile', '--rates', '100'])).toEqual({
      ...JOURNEY_DEFAULTS,
      profile: true,
      name: 'journey-profile',
      rates: [100],
      command: 'npm run bench -- journey --profile --rates 100',
    });
    expect(parseJourneyArgs(['--profile', '--name', 'mine'])).toMatchObject({ profile: true, name: 'mine' });
    expect(parseJourneyArgs(['--smoke', '--profile'])).toMatchObject({ ...JOURNEY_SMOKE, profile: true, name: 'journey-profile' });
    expect(() => parseJourneyArgs(['--profile=yes'])).toThrow();
    expect(JOURNEY_USAGE).toContain('\n  --profile                 one open-loop run at the first of --rates, profiled: ');
  });
});
