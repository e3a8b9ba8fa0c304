import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntryPoint } from './lifecycle';

describe('isEntryPoint', () => {
  const here = fileURLToPath(import.meta.url);

  it('is true for the module node was started with, however the path was written', () => {
    expect(isEntryPoint(import.meta.url, here)).toBe(true);
    expect(isEntryPoint(import.meta.url, relative(process.cwd(), here))).toBe(true);
  });

  it('is false for a module that was imported, or when node runs no script', () => {
    expect(isEntryPoint(import.meta.url, fileURLToPath(new URL('./lifecycle.ts', import.meta.url)))).toBe(false);
    expect(isEntryPoint(import.meta.url, undefined)).toBe(false);
  });
});
