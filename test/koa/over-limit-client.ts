// A client process for linger.test.ts: Node's fetch sends a few small requests over one keep-alive
// connection, then a body over the server's limit, and prints what it got as one JSON line. A separate
// process, because the reset it must survive races with its own writes, which a client sharing the
// server's event loop rarely loses.

const [url, bytesArg] = process.argv.slice(2);
const bytes = Number(bytesArg);
const small: number[] = [];
for (let i = 0; i < 3; i++) {
  const reply = await fetch(`${String(url)}/columns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: [i], amount: [1], country: [null] }),
  });
  small.push(reply.status);
  await reply.arrayBuffer();
}
try {
  const reply = await fetch(`${String(url)}/columns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ' '.repeat(bytes) });
  const body = (await reply.json()) as { error?: { code?: string } };
  console.log(JSON.stringify({ small, status: reply.status, code: body.error?.code ?? null, connection: reply.headers.get('connection') }));
} catch (error) {
  const cause = (error as { cause?: { code?: string } }).cause;
  console.log(JSON.stringify({ small, failed: cause?.code ?? String(error) }));
}
