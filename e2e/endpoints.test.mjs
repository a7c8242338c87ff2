// Outside-in tests of the endpoints beside chat: embeddings and legacy text completions through
// the real `openai` SDK, priced in /spend/logs, and LiteLLM's /health, against `clawgate serve` in
// front of the fake upstream. Route names differ from the upstream's models, so a bare
// forwarding proxy (e2e/run-passthrough.sh) fails here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { requireBin, start, stop, serveGateway } from './harness.mjs';

const MASTER_KEY = 'sk-master-test';
const UPSTREAM_KEY = 'sk-upstream';
const EMBED = 'claw-embed';
const EMBED_UPSTREAM = 'text-embedding-3-small'; // $2e-8 per input token in the price table
const INSTRUCT = 'claw-instruct';
const INSTRUCT_UPSTREAM = 'gpt-3.5-turbo-instruct'; // $1.5e-6 in, $2e-6 out
// The fake's figures (internal/fakeupstream/endpoints.go): 4 prompt tokens per embedding input,
// 8 dimensions; a text completion of 5 prompt and 7 completion tokens.
const COMPLETION_TEXT = '\n\nThis is indeed a test';

describe('embeddings, text completions and /health', { timeout: 120000 }, () => {
  let dir;
  let fake;
  let gateway;
  let base;
  let client;

  async function upstreamLast() {
    const res = await fetch(`${fake.url}/_fake/last`);
    assert.equal(res.status, 200);
    return res.json();
  }

  // spendRow waits for the spend log row of a call (rows are written off the request path).
  async function spendRow(callId) {
    const deadline = Date.now() + 10000;
    let rows = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/spend/logs?summarize=false`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      assert.equal(res.status, 200, `/spend/logs answered ${res.status}`);
      rows = await res.json();
      const row = rows.find((r) => r.request_id === callId);
      if (row) return row;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`no spend log row for call ${callId} within 10 s; rows: ${JSON.stringify(rows).slice(0, 500)}`);
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-endpoints-'));
    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    const config = path.join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'model_list:',
        `  - model_name: ${EMBED}`,
        '    litellm_params:',
        `      model: openai/${EMBED_UPSTREAM}`,
        `      api_base: "${fake.url}/v1"`,
        `      api_key: ${UPSTREAM_KEY}`,
        `  - model_name: ${INSTRUCT}`,
        '    litellm_params:',
        `      model: openai/${INSTRUCT_UPSTREAM}`,
        `      api_base: "${fake.url}/v1?api-version=secret-in-query"`,
        `      api_key: ${UPSTREAM_KEY}`,
        'general_settings:',
        `  master_key: ${MASTER_KEY}`,
        '',
      ].join('\n'),
    );
    ({ gateway, base } = await serveGateway(dir, config));
    client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20000 });
  });

  after(async () => {
    await stop(gateway);
    await stop(fake);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('embeddings through the SDK (base64 by default, float when asked), priced in /spend/logs', async () => {
    // The SDK asks for base64 when the caller names no format, and decodes it to floats.
    const { data, response } = await client.embeddings
      .create({ model: EMBED, input: ['hello world', 'goodbye'] })
      .withResponse();
    assert.equal(data.object, 'list');
    assert.equal(data.data.length, 2);
    assert.equal(data.data[0].embedding.length, 8);
    assert.equal(data.usage.prompt_tokens, 8);
    const sent = await upstreamLast();
    assert.equal(sent.body.model, EMBED_UPSTREAM, 'the upstream gets the route\'s model');
    assert.deepEqual(sent.body.input, ['hello world', 'goodbye']);

    const floats = await client.embeddings.create({ model: EMBED, input: ['hello world', 'goodbye'], encoding_format: 'float' });
    for (const i of [0, 1]) {
      assert.deepEqual(
        data.data[i].embedding.map((x) => Math.fround(x)),
        floats.data[i].embedding.map((x) => Math.fround(x)),
        'base64 and float answers carry the same vector',
      );
    }

    const row = await spendRow(response.headers.get('x-litellm-call-id'));
    assert.equal(row.call_type, 'aembedding');
    assert.equal(row.model_group, EMBED);
    assert.equal(row.model, EMBED_UPSTREAM);
    assert.equal(row.prompt_tokens, 8);
    assert.equal(row.completion_tokens, 0);
    assert.ok(Math.abs(row.spend - 8 * 2e-8) < 1e-15, `spend ${row.spend}, want 8 tokens at $2e-8`);
    assert.equal(row.status, 'success');
  });

  test('legacy text completions through the SDK, streamed and not, metered', async () => {
    const { data, response } = await client.completions
      .create({ model: INSTRUCT, prompt: 'Say this is a test', max_tokens: 7 })
      .withResponse();
    assert.equal(data.object, 'text_completion');
    assert.equal(data.choices[0].text, COMPLETION_TEXT);
    assert.equal(data.model, INSTRUCT_UPSTREAM);
    assert.equal((await upstreamLast()).body.model, INSTRUCT_UPSTREAM);
    const row = await spendRow(response.headers.get('x-litellm-call-id'));
    assert.equal(row.call_type, 'atext_completion');
    assert.equal(row.prompt_tokens, 5);
    assert.equal(row.completion_tokens, 7);
    assert.ok(Math.abs(row.spend - (5 * 1.5e-6 + 7 * 2e-6)) < 1e-12, `spend ${row.spend}`);

    const { data: stream, response: sresp } = await client.completions
      .create({ model: INSTRUCT, prompt: 'Say this is a test', stream: true })
      .withResponse();
    let text = '';
    const finish = [];
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.text;
        if (c.finish_reason) finish.push(c.finish_reason);
      }
    }
    assert.equal(text, COMPLETION_TEXT);
    assert.deepEqual(finish, ['stop']);
    const srow = await spendRow(sresp.headers.get('x-litellm-call-id'));
    assert.equal(srow.completion_tokens, 7, 'the stream is metered from the usage the gateway asked for');
    assert.ok(srow.spend > 0);
  });

  test('/health calls each deployment and answers LiteLLM\'s shape, without secrets', async () => {
    const before = (await upstreamLast()).requests;
    const res = await fetch(`${base}/health`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    assert.equal(res.status, 200);
    const h = await res.json();
    assert.equal(h.healthy_count, 2, JSON.stringify(h));
    assert.equal(h.unhealthy_count, 0, JSON.stringify(h));
    assert.deepEqual(h.healthy_endpoints.map((e) => e.model).sort(), [`openai/${EMBED_UPSTREAM}`, `openai/${INSTRUCT_UPSTREAM}`].sort());
    assert.deepEqual(h.unhealthy_endpoints, []);
    assert.ok(!JSON.stringify(h).includes('secret-in-query') && !JSON.stringify(h).includes(UPSTREAM_KEY), 'api_base is shown without secrets');
    assert.equal((await upstreamLast()).requests, before + 2, 'one real call per deployment');

    const denied = await fetch(`${base}/health`);
    assert.equal(denied.status, 401);
  });
});
