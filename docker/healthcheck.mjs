// Healthcheck of the services image (docker-compose.yml): exits 0 when the URL answers 2xx, 1 otherwise.
// The image has no curl; Node has fetch. Usage: node docker/healthcheck.mjs http://127.0.0.1:3001/ready
const url = process.argv[2];
if (!url) {
  console.error('usage: node docker/healthcheck.mjs <url>');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) console.error(`${url}: ${res.status} ${(await res.text()).slice(0, 500)}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
