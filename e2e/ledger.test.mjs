// The commands in LiteLLM's guide for OpenClaw users, run with curl as they are written, against
// `clawgate serve`; then the generated key spends its budget through the openai SDK and is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import net from 'node:net';
import OpenAI from 'openai';
import { requireBin, freePort, start, stop, serveGateway } from './harness.mjs';

const run = promisify(execFile);
const MASTER_KEY = 'sk-master-ledger-test';
const UPSTREAM_KEY = 'sk-upstream';
// The route's name differs from the upstream's model, which the price table knows.
const MODEL = 'claw-ledger';
const UPSTREAM_MODEL = 'gpt-4o-mini';
// What one call costs: the fake upstream reports 19 prompt tokens (6 of them cached) and 10
// completion tokens, at gpt-4o-mini's prices ($0.15/M input, $0.075/M cached, $0.60/M output):
// 13×0.15e-6 + 6×0.075e-6 + 10×0.6e-6. The gate reserves before the answer, from a prompt
// estimate priced without the cache and up to max_tokens 64 of output, so what it reserves never
// equals this: a ledger that charged the reservation shows in the rows and the key's spend.
const CALL_COST = 8.4e-6;
const MAX_TOKENS = 64;

// The guide's three commands, character for character (only the key placeholder of the second
// one is replaced by the key the first one minted, and the port, if 4000 is taken here).
const GUIDE_GENERATE = `curl -X POST "http://localhost:4000/key/generate" -H "Authorization: Bearer $LITELLM_MASTER_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"key_alias": "openclaw", "max_budget": 50.00, "budget_duration": "monthly"}'`;
const GUIDE_INFO = `curl "http://localhost:4000/key/info" -H "Authorization: Bearer sk-litellm-key"`;
const GUIDE_LOGS = `curl "http://localhost:4000/spend/logs" -H "Authorization: Bearer $LITELLM_MASTER_KEY"`;

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('LiteLLM guide commands against clawgate serve', { timeout: 120000 }, () => {
  let fake;
  let gateway;
  let port;
  let key;

  async function curl(command) {
    const cmd = port === 4000 ? command : command.replaceAll('localhost:4000', `localhost:${port}`);
    const { stdout } = await run('bash', ['-c', `${cmd} --silent --show-error --fail-with-body`], {
      env: { ...process.env, LITELLM_MASTER_KEY: MASTER_KEY },
    });
    return JSON.parse(stdout);
  }

  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-ledger-'));
    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    const config = path.join(dir, 'config.yaml');
    await writeFile(config, [
      'model_list:',
      `  - model_name: ${MODEL}`,
      `    litellm_params: {model: openai/${UPSTREAM_MODEL}, api_base: "${fake.url}/v1", api_key: ${UPSTREAM_KEY}}`,
      `general_settings: {master_key: ${MASTER_KEY}}`,
      '',
    ].join('\n'));
    port = (await portFree(4000)) ? 4000 : await freePort();
    if (port !== 4000) console.log(`port 4000 is taken here; the guide's commands run against ${port}`);
    ({ gateway } = await serveGateway(dir, config, port));
  });

  after(async () => {
    await stop(gateway);
    await stop(fake);
  });

  test('the three commands succeed as written', async () => {
    const gen = await curl(GUIDE_GENERATE);
    assert.match(gen.key, /^sk-[A-Za-z0-9_-]{20,}$/);
    assert.equal(gen.key_alias, 'openclaw');
    assert.equal(gen.max_budget, 50);
    assert.ok(gen.budget_reset_at, 'a monthly budget has a reset time');
    assert.ok(new Date(gen.budget_reset_at) > new Date(), 'the reset is in the future');
    key = gen.key;

    const info = await curl(GUIDE_INFO.replace('sk-litellm-key', key));
    assert.equal(info.info.key_alias, 'openclaw');
    assert.equal(info.info.spend, 0);
    assert.ok(!JSON.stringify(info).includes(key), 'key/info never shows the key itself');

    const logs = await curl(GUIDE_LOGS);
    assert.ok(Array.isArray(logs), `/spend/logs answers a list, got ${JSON.stringify(logs).slice(0, 200)}`);
  });

  test('the key spends its budget and is refused after', async () => {
    assert.ok(key, 'needs the key from the first test');
    const base = `http://127.0.0.1:${port}`;
    // Shrink the budget so a few calls spend it (each costs CALL_COST, reserves more).
    const budget = 0.0001;
    const upd = await fetch(`${base}/key/update`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key, max_budget: budget }),
    });
    assert.equal(upd.status, 200, await upd.text());
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });
    let ok = 0;
    let refused;
    for (let i = 0; i < 50 && !refused; i++) {
      try {
        await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: MAX_TOKENS });
        ok++;
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(ok >= 1, 'some calls fit in the budget');
    const last = await (await fetch(`${fake.url}/_fake/last`)).json();
    assert.equal(last.body.model, UPSTREAM_MODEL, "the upstream got the route's model id");
    assert.ok(refused, 'the key was never refused');
    assert.equal(refused.status, 429);
    assert.equal(refused.error?.type, 'budget_exceeded');
    assert.match(refused.message, /usage limit/);
    assert.equal(refused.headers?.get?.('x-should-retry') ?? refused.headers?.['x-should-retry'], 'false');

    // Usage rows reach SQLite within the writer's flush interval (1 s): poll a little.
    const hash = createHash('sha256').update(key).digest('hex');
    let mine = [];
    for (let i = 0; i < 40 && mine.length < ok; i++) {
      const res = await fetch(`${base}/spend/logs?api_key=${key}&summarize=false`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      assert.equal(res.status, 200);
      mine = (await res.json()).filter((r) => r.api_key === hash && r.status === 'success');
      if (mine.length < ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(mine.length, ok, `the spend log has each of the key's ${ok} calls once`);
    for (const r of mine) {
      assert.equal(r.model, UPSTREAM_MODEL, 'the row names the upstream model');
      assert.equal(r.model_group, MODEL, 'the row names the route');
      assert.ok(Math.abs(r.spend - CALL_COST) < 1e-12, `row ${r.request_id} costs ${r.spend}, want ${CALL_COST}`);
    }
    const spent = mine.reduce((a, r) => a + r.spend, 0);
    // LiteLLM's rule: a call is refused once spend has reached the budget, so the last call
    // admitted may take spend past it by at most its own cost.
    assert.ok(spent <= budget + CALL_COST + 1e-12, `logged spend ${spent} within the budget ${budget} and one call`);
    const info = await (await fetch(`${base}/key/info?key=${key}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json();
    assert.ok(Math.abs(info.info.spend - ok * CALL_COST) < 1e-12, `key spend ${info.info.spend}, want ${ok} × ${CALL_COST}`);
  });
});

// A key changed by the CLI, a separate process on the same data folder, is refused or admitted
// by the running gateway within a second: the store is the truth, not each process's cache.
describe('clawgate key, beside a running gateway', { timeout: 120000 }, () => {
  let fake;
  let gateway;
  let base;
  let dir;
  let config;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-keycli-'));
    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    config = path.join(dir, 'config.yaml');
    await writeFile(config, [
      'model_list:',
      `  - model_name: ${MODEL}`,
      `    litellm_params: {model: openai/${UPSTREAM_MODEL}, api_base: "${fake.url}/v1", api_key: ${UPSTREAM_KEY}}`,
      `general_settings: {master_key: ${MASTER_KEY}}`,
      '',
    ].join('\n'));
    ({ gateway, base } = await serveGateway(dir, config, undefined));
  });

  after(async () => {
    await stop(gateway);
    await stop(fake);
  });

  // cli runs the real binary as a user would, with the gateway's data folder and config.
  async function cli(...args) {
    const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config') };
    delete env.LITELLM_MASTER_KEY;
    const { stdout } = await run(requireBin('CLAWGATE_BIN'), ['key', ...args, '--data-dir', path.join(dir, 'data'), '--config', config], { env });
    return stdout.trim();
  }
  const status = async (key) => (await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;
  // until polls (up to 5 s) for the gateway to answer want, and returns how long it took.
  async function until(key, want) {
    const t0 = Date.now();
    for (;;) {
      const got = await status(key);
      if (got === want) return Date.now() - t0;
      assert.ok(Date.now() - t0 < 5000, `still ${got} after 5 s, want ${want}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('regenerate, block, unblock and delete reach the running gateway within a second', async () => {
    const gen = await fetch(`${base}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key_alias: 'cli-made' }),
    });
    const genBody = await gen.text();
    assert.equal(gen.status, 200, genBody);
    const old = JSON.parse(genBody).key;
    assert.equal(await status(old), 200);

    const fresh = await cli('regenerate', 'cli-made');
    assert.match(fresh, /^sk-/);
    const times = { regenerate: await until(old, 401) };
    assert.equal(await status(fresh), 200, 'the new secret works at once');

    await cli('block', 'cli-made');
    times.block = await until(fresh, 401);
    await cli('unblock', fresh);
    times.unblock = await until(fresh, 200);
    await cli('delete', 'cli-made');
    times.delete = await until(fresh, 401);
    console.log(`seen by the running gateway after (ms): ${JSON.stringify(times)}`);
    for (const [op, ms] of Object.entries(times)) assert.ok(ms < 1000, `${op} took ${ms} ms to reach the gateway`);
  });
});
