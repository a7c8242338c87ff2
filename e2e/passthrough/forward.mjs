// A bare forwarding proxy, kept in the test tree as the control for the e2e suite: it forwards
// every request as it came to the upstream's OpenAI-compatible base URL and only puts the
// upstream key in Authorization. No routing, no model rewrite, no usage, no keys, no budgets.
// e2e/run-passthrough.sh runs each suite against it (E2E_PASSTHROUGH=1) and fails the build if
// a suite passes whole: a suite that cannot tell the gateway from this proxy proves nothing.
//
//   node forward.mjs --upstream http://127.0.0.1:PORT/v1 --key sk-upstream [--port N] [--header k=v]
//
// --header adds a request header (the fake upstream's x-fake-mode, which the OpenClaw suite's
// routes set with extra_headers). It prints "listening on http://HOST:PORT" once it accepts.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    key: { type: 'string', default: '' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    header: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.upstream) {
  console.error('forward.mjs: --upstream URL is required');
  process.exit(2);
}
const upstream = new URL(values.upstream);
const basePath = upstream.pathname.replace(/\/$/, '');
const extra = Object.fromEntries(values.header.map((h) => [h.slice(0, h.indexOf('=')).toLowerCase(), h.slice(h.indexOf('=') + 1)]));

const server = http.createServer((req, res) => {
  // /v1/chat/completions and /chat/completions both land on {upstream}/chat/completions.
  const path = basePath + req.url.replace(/^\/v1(?=[/?]|$)/, '');
  const headers = { ...req.headers, ...extra, host: upstream.host };
  if (values.key) headers.authorization = `Bearer ${values.key}`;
  const out = http.request({ hostname: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  out.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `forward.mjs: ${err.message}` } }));
  });
  req.pipe(out);
});

server.listen(Number(values.port), values.host, () => {
  console.log(`listening on http://${values.host}:${server.address().port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
