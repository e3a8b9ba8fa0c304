// One Node.js major everywhere: package.json's engines says it, and the image, CI's fetched
// Node, the type definitions and the README's prerequisites follow. A change of one alone fails here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
const major = Number(/^>=(\d+)$/.exec(pkg.engines.node)?.[1]);

describe('the Node.js major', () => {
  it('is a maintained LTS line in engines (22 or newer; Node 20 reached end of life on 2026-04-30)', () => {
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major % 2).toBe(0);
  });

  it('is the one of every stage of the image', () => {
    const froms = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]));
    expect(froms.length).toBeGreaterThan(0);
    expect(new Set(froms)).toEqual(new Set([major]));
  });

  it('is the one .ci/run requires and fetches from the npm registry when the machine has an older one', () => {
    const ci = read('.ci/run');
    // The required major is read from engines, not written twice.
    expect(ci).toMatch(/NODE_MAJOR=\$\(sed [^\n]*package\.json/);
    const pinned = /NODE_VERSION="\$\{CI_NODE_VERSION:-(\d+)\.\d+\.\d+\}"/.exec(ci);
    expect(Number(pinned?.[1])).toBe(major);
    expect(ci).toMatch(/npm pack [^\n]*"node-linux-\$node_arch@\$NODE_VERSION"/);
    expect(ci).toMatch(/export PATH="\$node_dir\/bin:\$PATH"/);
  });

  it('is the one of @types/node and of the README prerequisites', () => {
    expect(Number(/^\^?(\d+)\./.exec(pkg.devDependencies['@types/node']!)?.[1])).toBe(major);
    expect(read('README.md')).toMatch(new RegExp(`^- Node\\.js ${major} `, 'm'));
  });
});
