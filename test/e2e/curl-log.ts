// Reads one line that bin/curl-recorder.mjs wrote (curl's arguments, the response head from -D, the body)
// back into the request and response it stands for.
import type { Exchange } from '../support/contracts';

/** curl options that take a value; any other option is a flag. */
const WITH_VALUE = new Set(['-X', '--request', '-H', '--header', '-d', '--data', '--data-raw', '-o', '--output', '-w', '--write-out', '-D', '--dump-header']);

export function curlExchange(line: string): { port: string; exchange: Exchange } {
  const { args, head, body } = JSON.parse(line) as { args: string[]; head: string; body: string };
  let method: string | undefined;
  let data: string | undefined;
  let target = '';
  const headers: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) target = a;
    else if (WITH_VALUE.has(a)) {
      const v = args[++i]!;
      if (a === '-X' || a === '--request') method = v;
      else if (a === '-H' || a === '--header') {
        const at = v.indexOf(':');
        headers[v.slice(0, at).trim().toLowerCase()] = v.slice(at + 1).trim();
      } else if (a.startsWith('-d') || a.startsWith('--data')) data = v;
    }
  }
  const url = new URL(/^https?:\/\//.test(target) ? target : `http://${target}`);
  // -D writes every response head (e.g. a 100 Continue before the answer): the last one is the answer's.
  const lastHead =
    head
      .trim()
      .split(/\r?\n\r?\n/)
      .at(-1) ?? '';
  const [statusLine = '', ...headerLines] = lastHead.split(/\r?\n/);
  const contentType = headerLines.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '');
  return {
    port: url.port || '80',
    exchange: {
      method: method ?? (data === undefined ? 'GET' : 'POST'),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(data === undefined ? {} : { body: JSON.parse(data) as unknown }),
      status: Number(statusLine.split(' ')[1]),
      ...(contentType ? { contentType } : {}),
      responseBody: body,
    },
  };
}
