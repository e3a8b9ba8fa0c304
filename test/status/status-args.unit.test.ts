import { parseArgs } from '../../scripts/status';

describe('npm run status arguments', () => {
  it('prints once as tables by default, as JSON with --json', () => {
    expect(parseArgs([])).toEqual({ json: false, watchS: undefined });
    expect(parseArgs(['--json'])).toEqual({ json: true, watchS: undefined });
  });

  it('refreshes every 2 s with --watch, or every <s> seconds with --watch=<s>', () => {
    expect(parseArgs(['--watch'])).toEqual({ json: false, watchS: 2 });
    expect(parseArgs(['--json', '--watch=0.5'])).toEqual({ json: true, watchS: 0.5 });
  });

  it('refuses a watch interval that is not positive, and unknown arguments', () => {
    expect(parseArgs(['--watch=0'])).toBeUndefined();
    expect(parseArgs(['--watch=-1'])).toBeUndefined();
    expect(parseArgs(['--watch=soon'])).toBeUndefined();
    expect(parseArgs(['--yaml'])).toBeUndefined();
  });
});
