// Runs the real curl (QTSHOP_REAL_CURL) with the walkthrough's arguments, its output passed through, and
// appends the exchange to QTSHOP_CURL_LOG as one JSON line: {args, head, body}. The walkthroughs' documented
// ports (localhost:3001, ...) are mapped to the ports this shop runs on (QTSHOP_PORT_MAP, {"3001":"5001"}),
// so the walkthroughs run against a shop on other ports too.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';

const { QTSHOP_REAL_CURL: real = 'curl', QTSHOP_CURL_LOG: log, QTSHOP_PORT_MAP: map = '{}' } = process.env;
const ports = JSON.parse(map);
const args = process.argv.slice(2).map((a) => a.replace(/\b(localhost|127\.0\.0\.1):(\d+)/g, (_m, host, port) => `${host}:${ports[port] ?? port}`));
const headFile = log && `${log}.${process.pid}.head`;
const res = spawnSync(real, headFile ? [...args, '-D', headFile] : args, { stdio: ['inherit', 'pipe', 'inherit'] });
process.stdout.write(res.stdout ?? '');
if (headFile) {
  const head = existsSync(headFile) ? readFileSync(headFile, 'utf8') : '';
  rmSync(headFile, { force: true });
  appendFileSync(log, `${JSON.stringify({ args, head, body: (res.stdout ?? '').toString('utf8') })}\n`);
}
process.exitCode = res.status ?? 1;
