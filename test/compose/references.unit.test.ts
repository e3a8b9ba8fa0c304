// The compose files (docker-compose.yml and its override files) checked for what compose would refuse or
// silently get wrong before it runs anything, without a Docker engine: they parse as compose reads them, and
// refer only to what exists: variables that are defaulted, required with a message or set in .env.example;
// bind-mount sources, env files, build contexts and Dockerfiles in the repository; scripts the containers run
// through their mounts; services, volumes and profiles that are defined; images pinned to a tag.
import { existsSync, statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import {
  allStrings,
  cluster,
  COMPOSE_FILES,
  commandOf,
  compose,
  dependsOn,
  envExample,
  ha,
  healthcheckOf,
  mountsOf,
  read,
  repoPathOf,
  root,
  services,
  varRefsIn,
  type ComposeFile,
  type ComposeService,
} from './compose-file';

const exists = (path: string) => existsSync(resolve(root, path));
const example = envExample();
const OVERRIDES: Record<string, ComposeFile> = { 'docker-compose.cluster.yml': cluster, 'docker-compose.ha.yml': ha };
/** A compose file with the services as compose sees them: the base file's, or the base file's and the override's. */
const projectOf = (file: string): Record<string, ComposeService> => ({ ...services, ...OVERRIDES[file]?.services });
const volumesOf = (file: string): Record<string, unknown> => ({ ...compose.volumes, ...OVERRIDES[file]?.volumes });
const entries = (content: ComposeFile) => Object.entries(content.services);

describe.each(COMPOSE_FILES)('%s', (file, content) => {
  it('parses as YAML with no error or warning, its only tags the merge tags of Compose 2.24.4', () => {
    const tags = ['!override', '!reset'].map((tag) => ({ tag, collection: 'seq' as const, resolve: (v: unknown) => v as never, identify: () => false }));
    const doc = parseDocument(read(file), { merge: true, customTags: tags });
    expect({ errors: doc.errors.map(String), warnings: doc.warnings.map(String) }).toEqual({ errors: [], warnings: [] });
    expect(Object.keys(content.services).length).toBeGreaterThan(0);
  });

  it('uses no `extends` (versions of Compose treat an extended service with depends_on differently)', () => {
    expect(
      entries(content)
        .filter(([, svc]) => 'extends' in svc)
        .map(([n]) => n),
    ).toEqual([]);
  });

  it('reads only variables that are defaulted, required with a message, or set in .env.example', () => {
    const strings = allStrings(content);
    // Compose interpolates $VAR as it does ${VAR}: only the braced form, or $$ for a literal dollar.
    expect(strings.filter((s) => /(?<!\$)\$(?!\$|\{)/.test(s.replace(/\$\$/g, '')))).toEqual([]);
    for (const ref of strings.flatMap(varRefsIn)) {
      const ok = ref.kind === 'default' || (ref.kind === 'required' && (ref.fallback ?? '').trim() !== '') || ref.name in example.set;
      expect({ ref, ok }).toEqual({ ref, ok: true });
    }
  });

  it('mounts only repository paths that exist, and named volumes the project declares', () => {
    for (const [name, svc] of entries(content)) {
      for (const m of mountsOf(svc)) {
        if (m.bind) expect({ name, source: m.source, exists: !m.source.startsWith('/') && exists(m.source) }).toEqual({ name, source: m.source, exists: true });
        else expect({ name, volume: m.source, declared: m.source in volumesOf(file) }).toEqual({ name, volume: m.source, declared: true });
      }
    }
  });

  it('reads env files and builds from contexts and Dockerfiles that exist', () => {
    for (const [name, svc] of entries(content)) {
      const envFiles = svc.env_file === undefined ? [] : [svc.env_file].flat().map((f) => (typeof f === 'string' ? { path: f, required: true } : f));
      for (const f of envFiles)
        if (f.required !== false) expect({ name, envFile: f.path, exists: exists(f.path) }).toEqual({ name, envFile: f.path, exists: true });
      if (svc.build === undefined) continue;
      const build = typeof svc.build === 'string' ? { context: svc.build } : (svc.build as { context?: string; dockerfile?: string });
      const context = build.context ?? '.';
      const dockerfile = posix.join(context, build.dockerfile ?? 'Dockerfile');
      expect({ name, context, dir: exists(context) && statSync(resolve(root, context)).isDirectory(), dockerfile: exists(dockerfile) }).toEqual({
        name,
        context,
        dir: true,
        dockerfile: true,
      });
    }
  });

  it('runs only images pinned to a tag (never latest), or the services image it builds', () => {
    for (const [name, svc] of entries(content)) {
      if (svc.image === undefined) {
        // An override of a base-file service keeps the base file's image.
        expect({ name, inBase: file !== 'docker-compose.yml' && name in services }).toEqual({ name, inBase: true });
        continue;
      }
      const tag = /^[a-z0-9./_-]+(?::[0-9]+)?\/?[a-z0-9._/-]*:([A-Za-z0-9._-]+)(@sha256:[0-9a-f]{64})?$/.exec(svc.image)?.[1];
      expect({ name, image: svc.image, pinned: (tag !== undefined && tag !== 'latest') || (svc.build !== undefined && svc.image.endsWith(':local')) }).toEqual({
        name,
        image: svc.image,
        pinned: true,
      });
    }
  });

  it('runs only scripts that exist: through a bind mount, or in the services image (its working directory is the repository’s root)', () => {
    for (const [name, svc] of entries(content)) {
      const merged = { ...services[name], ...svc };
      const words = [commandOf(merged), healthcheckOf(merged), [(merged as { entrypoint?: string[] }).entrypoint ?? []].flat().join(' ')]
        .join(' ')
        .split(' ')
        .filter((w) => /\.(sh|mjs)$/.test(w));
      for (const w of words) {
        const path = w.startsWith('/') ? (repoPathOf(merged, w) ?? (merged.build !== undefined ? posix.relative('/app', w) : undefined)) : w;
        expect({ name, script: w, exists: path !== undefined && exists(path) }).toEqual({ name, script: w, exists: true });
      }
    }
  });

  it('waits only for services the project defines, none of them in a profile the waiting service is not in', () => {
    const project = projectOf(file);
    for (const [name, svc] of entries(content)) {
      const profiles = project[name]?.profiles ?? [];
      for (const dep of Object.keys(dependsOn(svc))) {
        const target = project[dep];
        const gated = (target?.profiles ?? []).filter((p) => !profiles.includes(p));
        expect({ name, dep, defined: target !== undefined, gated }).toEqual({ name, dep, defined: true, gated: [] });
      }
    }
  });
});
