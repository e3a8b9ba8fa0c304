// npm run build [-- --outdir <dir>] [--metafile <file>]: compiles what the services image runs into
// dist/ (gitignored), one ES module per entry point, so that the image runs JavaScript with node and
// carries neither tsx nor TypeScript. esbuild bundles our own code (the @qtshop/shared paths of
// tsconfig.json resolved) and leaves every npm package an import, installed by `npm ci --omit=dev` in the
// image. Types are checked by `npm run typecheck`, not here. The local `npm start` still runs the sources
// through tsx.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { runAsScript } from '@qtshop/shared/platform';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** dist/<name>.js comes from this source: the services (QTSHOP_SERVICE=<name> in the image) and the compose jobs. */
export const BUILD_ENTRIES = {
  catalog: 'services/catalog/src/main.ts',
  inventory: 'services/inventory/src/main.ts',
  basket: 'services/basket/src/main.ts',
  'order-command': 'services/order-command/src/main.ts',
  'order-query': 'services/order-query/src/main.ts',
  relay: 'services/relay/src/main.ts',
  migrate: 'scripts/migrate.ts',
  connect: 'scripts/connect.ts',
} as const;

export type BuildEntry = keyof typeof BUILD_ENTRIES;

export const DEFAULT_OUTDIR = resolve(repoRoot, 'dist');

/** Bundles every entry into `outdir`; returns esbuild's metafile (inputs, outputs and their imports). */
export async function buildAll(outdir = DEFAULT_OUTDIR): Promise<Metafile> {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: Object.fromEntries(Object.entries(BUILD_ENTRIES).map(([name, src]) => [name, resolve(repoRoot, src)])),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    tsconfig: resolve(repoRoot, 'tsconfig.json'),
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

/** The npm packages a bundle imports at run time (bare specifiers, `node:` builtins excluded), by package name. */
export function runtimePackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith('node:') || imp.path.startsWith('.') || imp.path.startsWith('/')) continue;
      const parts = imp.path.split('/');
      names.add(imp.path.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    }
  }
  return [...names].sort();
}

runAsScript(import.meta.url, 'build', async (argv) => {
  const arg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const outdir = resolve(arg('--outdir') ?? DEFAULT_OUTDIR);
  const started = Date.now();
  const metafile = await buildAll(outdir);
  const metafilePath = arg('--metafile');
  if (metafilePath) writeFileSync(resolve(metafilePath), JSON.stringify(metafile));
  process.stdout.write(
    `built ${Object.keys(BUILD_ENTRIES).length} entry points into ${outdir} in ${Date.now() - started} ms; packages imported at run time: ${runtimePackages(metafile).join(', ')}\n`,
  );
});
