// A client process for http.test.ts: posts the same ingest body `n` times at once and prints the count of
// each status as one JSON line. In its own process, so the bodies arrive while the service is still
// admitting the other requests, as they do from real clients (one event loop serialises them).

const [url = '', n = '0', rows = '0'] = process.argv.slice(2);
const count = Number(rows);
const body = JSON.stringify({ userId: Array.from({ length: count }, (_, i) => i % 100), amount: Array.from({ length: count }, () => 1.25) });
const statuses = await Promise.all(
  Array.from({ length: Number(n) }, async () => {
    const reply = await fetch(`${url}/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await reply.text();
    return {
      status: reply.status,
      code: reply.status === 503 ? (JSON.parse(text) as { error: { code: string } }).error.code : null,
      retryAfter: reply.headers.get('retry-after'),
    };
  }),
);
console.log(JSON.stringify({ bodyBytes: body.length, statuses }));
