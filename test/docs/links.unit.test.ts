import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConsoleBlocks } from '../e2e/console-blocks';
import { anchors, brokenLinks, linkTargets, markdownPages, slug } from './links';

const root = resolve(import.meta.dirname, '../..');

describe('links of README.md and docs/*.md', () => {
  it.each(markdownPages(root).map((page) => [page]))('%s: every relative link names an existing file and heading', (page) => {
    expect(brokenLinks(root, page)).toEqual([]);
  });
});

describe('the walkthroughs', () => {
  it('are in docs/walkthroughs.md only (the e2e suite runs the console blocks of that page)', () => {
    const read = (page: string) => readFileSync(join(root, page), 'utf8');
    expect(parseConsoleBlocks(read('docs/walkthroughs.md')).length).toBeGreaterThan(20);
    for (const page of markdownPages(root).filter((p) => p !== 'docs/walkthroughs.md')) {
      expect([page, parseConsoleBlocks(read(page)).length]).toEqual([page, 0]);
    }
  });
});

describe('the link check', () => {
  it('makes anchors as GitHub does', () => {
    expect(slug('Chaos: `npm run chaos`')).toBe('chaos-npm-run-chaos');
    expect(slug('The order journey: `npm run bench -- journey`')).toBe('the-order-journey-npm-run-bench----journey');
    expect(slug('Relays: Debezium, or polling')).toBe('relays-debezium-or-polling');
    expect(slug('3. Product/basket update')).toBe('3-productbasket-update');
    expect(slug('Shoppers, tokens and rate_limits')).toBe('shoppers-tokens-and-rate_limits');
    expect([...anchors('# A\n\n## Notes\n\n```\n# not a heading\n```\n\n### Notes\n')]).toEqual(['a', 'notes', 'notes-1']);
  });

  it('reads links and images, not code', () => {
    const md = 'See [a](x.md#y) and ![img](p.svg "t").\n`[no](code.md)`\n\n```\n[no](fenced.md)\n```\n[web](https://example.com)\n';
    expect(linkTargets(md)).toEqual([
      { line: 1, target: 'x.md#y' },
      { line: 1, target: 'p.svg' },
      { line: 7, target: 'https://example.com' },
    ]);
  });

  it('reports a missing file, a missing heading and a link out of the repository, and passes good ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qtshop-links-'));
    try {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'README.md'), '# Shop\n\n## With Docker\n');
      writeFileSync(
        join(dir, 'docs/a.md'),
        [
          '# A',
          '[ok](../README.md#with-docker) [ok](#a) [ok](../README.md) [ok](https://x.org/#nope)',
          '[gone](b.md)',
          '[no heading](../README.md#security)',
          '[out](../../elsewhere.md)',
          '',
        ].join('\n'),
      );
      expect(brokenLinks(dir, 'docs/a.md')).toEqual([
        'docs/a.md:3: b.md: no file docs/b.md',
        'docs/a.md:4: ../README.md#security: no heading #security in README.md',
        'docs/a.md:5: ../../elsewhere.md: leaves the repository',
      ]);
      expect(markdownPages(dir)).toEqual(['README.md', 'docs/a.md']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
