// Relative links in the Markdown pages (README.md, docs/*.md): each must name a file that exists and,
// with a #fragment, a heading of that file, by GitHub's anchor rule.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The pages whose links are checked, relative to the repository root. */
export function markdownPages(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The text of a page outside its fenced code blocks (a line of a fence is kept blank, so line numbers hold). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/**
 * GitHub's anchor for a heading: the text (links reduced to their text) in lower case, every character
 * that is not a letter, a digit, a space, '-' or '_' dropped, spaces turned into '-'.
 */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings; a repeated one gets -1, -2, … as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The link targets of a page (links and images, inline code aside), with their line numbers. */
export function linkTargets(markdown: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  prose(markdown).forEach((text, i) => {
    const line = text.replace(/`[^`]*`/g, '``');
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line: i + 1, target: m[1]! });
  });
  return out;
}

/** Every relative link of `page` (a path under root) that names a missing file or heading. */
export function brokenLinks(root: string, page: string): string[] {
  const markdown = readFileSync(join(root, page), 'utf8');
  const problems: string[] = [];
  for (const { line, target } of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    const hash = target.indexOf('#');
    const path = hash < 0 ? target : target.slice(0, hash);
    const fragment = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), decodeURIComponent(path));
    const where = `${page}:${line}: ${target}`;
    if (relative(root, file).startsWith('..')) problems.push(`${where}: leaves the repository`);
    else if (!existsSync(file)) problems.push(`${where}: no file ${relative(root, file)}`);
    else if (fragment !== undefined) {
      if (statSync(file).isDirectory() || !file.endsWith('.md')) problems.push(`${where}: a #fragment on a file that is not Markdown`);
      else if (!anchors(readFileSync(file, 'utf8')).has(fragment)) problems.push(`${where}: no heading #${fragment} in ${relative(root, file)}`);
    }
  }
  return problems;
}
