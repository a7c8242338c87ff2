// Outside-in tests: the real `openai` SDK, as OpenClaw uses it, against `clawgate serve` in front
// of the fake upstream (internal/fakeupstream). Run with e2e/run.sh, which builds both binaries.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { requireBin, start, stop, serveGateway, collect } from './harness.mjs';

const MASTER_KEY = 'sk-master-test';
const UPSTREAM_KEY = 'sk-upstream';
// The client's model name and the upstream's differ, so a gateway that forwards the client's
// name unchanged (or a bare forwarding proxy) fails on what the upstream received.
const MODEL = 'claw-fast';
const UPSTREAM_MODEL = 'gpt-4o-mini';
// The fake upstream's recorded answers (internal/fakeupstream/testdata): every usage field differs.
const HELLO = 'Hello! How can I assist you today?';
const HELLO_USAGE = { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, cached_tokens: 6, reasoning_tokens: 4 };

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('clawgate serve with the openai SDK', { timeout: 180000 }, () => {
  let dir;
  let fake;
  let gateway;
  let base; // http://127.0.0.1:PORT
  let client; // baseURL .../v1
  let bare; // baseURL without /v1, as OpenClaw's onboarding default

  // upstreamLast returns what the fake upstream last received from the gateway.
  async function upstreamLast() {
    const res = await fetch(`${fake.url}/_fake/last`);
    assert.equal(res.status, 200);
    return res.json();
  }

  before(async () => {
    const fakeBin = requireBin('FAKEUPSTREAM_BIN');
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-'));
    fake = await start('fakeupstream', fakeBin, ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);

    const config = path.join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'model_list:',
        `  - model_name: ${MODEL}`,
        '    litellm_params:',
        `      model: openai/${UPSTREAM_MODEL}`,
        `      api_base: "${fake.url}/v1"`,
        `      api_key: ${UPSTREAM_KEY}`,
        'general_settings:',
        `  master_key: ${MASTER_KEY}`,
        '',
      ].join('\n'),
    );
    ({ gateway, base } = await serveGateway(dir, config));
    client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20000 });
    bare = new OpenAI({ apiKey: MASTER_KEY, baseURL: base, maxRetries: 0, timeout: 20000 });
  });

  after(async () => {
    if (gateway?.exited && !gateway.stoppedByTest) {
      console.error(`clawgate exited early (${JSON.stringify(gateway.exited)}); output tail:\n${gateway.output.slice(-4000)}`);
    }
    await stop(gateway);
    await stop(fake);
    // Kept for reading after a failure; e2e/.gitignore keeps it out of git.
    if (gateway) await writeFile(new URL('./last-gateway.log', import.meta.url), gateway.output);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [label, pick] of [
    ['baseURL /v1', () => client],
    ['baseURL without /v1', () => bare],
  ]) {
    test(`non-streamed completion (${label})`, async () => {
      const { data, response } = await pick()
        .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say hello' }] })
        .withResponse();
      assert.equal(data.object, 'chat.completion');
      assert.equal(data.choices[0].message.role, 'assistant');
      assert.equal(data.choices[0].message.content, HELLO);
      assert.equal(data.choices[0].finish_reason, 'stop');
      assert.equal(data.usage.prompt_tokens, HELLO_USAGE.prompt_tokens);
      assert.equal(data.usage.completion_tokens, HELLO_USAGE.completion_tokens);
      assert.equal(data.usage.total_tokens, HELLO_USAGE.total_tokens);
      assert.equal(data.usage.prompt_tokens_details?.cached_tokens, HELLO_USAGE.cached_tokens);
      assert.equal(data.usage.completion_tokens_details?.reasoning_tokens, HELLO_USAGE.reasoning_tokens);
      assert.match(response.headers.get('x-litellm-call-id') ?? '', /\S{8,}/, 'x-litellm-call-id');
      assert.equal(response.headers.get('x-litellm-model-group'), MODEL);

      // The gateway sends the route's upstream model, without the provider prefix, and
      // authenticates upstream with the deployment's key.
      const up = await upstreamLast();
      assert.equal(up.body.model, UPSTREAM_MODEL);
      assert.equal(up.header.Authorization?.[0], `Bearer ${UPSTREAM_KEY}`);
    });

    test(`streamed completion with include_usage (${label})`, async () => {
      const stream = await pick().chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Say hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const got = await collect(stream);
      assert.equal(got.text, HELLO);
      assert.deepEqual(got.finish, ['stop']);
      assert.equal(got.usageChunks.length, 1, 'exactly one usage chunk');
      assert.equal(got.chunks.at(-1), got.usageChunks[0], 'the usage chunk comes last');
      assert.deepEqual(got.usageChunks[0].choices, []);
      const u = got.usageChunks[0].usage;
      assert.equal(u.prompt_tokens, HELLO_USAGE.prompt_tokens);
      assert.equal(u.completion_tokens, HELLO_USAGE.completion_tokens);
      assert.equal(u.total_tokens, HELLO_USAGE.total_tokens);
      assert.equal(u.prompt_tokens_details?.cached_tokens, HELLO_USAGE.cached_tokens);
      assert.equal(u.completion_tokens_details?.reasoning_tokens, HELLO_USAGE.reasoning_tokens);
      assert.equal(got.usageAnywhere.length, 1, 'usage only on the usage chunk');
      assert.equal((await upstreamLast()).body.model, UPSTREAM_MODEL, 'the upstream got the route\'s model');
    });
  }

  test('streamed completion without include_usage hides usage', async (t) => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    });
    const got = await collect(stream);
    // OpenAI leaves the usage field out entirely when not asked; null is harmless to SDKs, so only note it.
    const withNull = got.chunks.filter((c) => 'usage' in c).length;
    if (withNull) t.diagnostic(`${withNull} of ${got.chunks.length} chunks carry "usage": null (OpenAI omits the field when not asked)`);
    assert.equal(got.text, HELLO);
    assert.deepEqual(got.finish, ['stop']);
    assert.equal(got.usageChunks.length, 0, 'no chunk with choices: []');
    assert.equal(got.usageAnywhere.length, 0, 'no chunk carries usage');
    // ...while the gateway still asked upstream for usage, to record spend.
    const up = await upstreamLast();
    assert.equal(up.body.model, UPSTREAM_MODEL);
    assert.equal(up.body.stream, true);
    assert.equal(up.body.stream_options?.include_usage, true, 'gateway forces include_usage upstream');
  });

  test('stream framing on the wire, OpenClaw-style request to /chat/completions', async () => {
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
        stream: true,
        stream_options: { include_usage: true },
        tools: [weatherTool],
        tool_choice: 'auto',
        max_completion_tokens: 1024,
      }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const raw = await res.text();
    assert.ok(raw.endsWith('data: [DONE]\n\n'), `stream ends with [DONE]; tail: ${JSON.stringify(raw.slice(-80))}`);
    const events = raw.split('\n\n').filter(Boolean);
    for (const ev of events) assert.ok(ev.startsWith('data: '), `event framing: ${JSON.stringify(ev.slice(0, 80))}`);
    const payloads = events.slice(0, -1).map((ev) => JSON.parse(ev.slice('data: '.length)));
    // The tools make the fake answer with a tool call: finish chunk, then usage, then [DONE].
    const finishAt = payloads.findIndex((p) => p.choices?.[0]?.finish_reason);
    assert.equal(payloads[finishAt]?.choices[0].finish_reason, 'tool_calls');
    assert.equal(finishAt, payloads.length - 2, 'finish_reason chunk right before the usage chunk');
    assert.deepEqual(payloads.at(-1).choices, []);
    // The tool-call recording: 68 prompt (40 cached) and 15 completion (9 reasoning) tokens.
    assert.equal(payloads.at(-1).usage?.prompt_tokens, 68);
    assert.equal(payloads.at(-1).usage?.completion_tokens, 15);
    assert.equal(payloads.at(-1).usage?.total_tokens, 83);
    assert.equal((await upstreamLast()).body.model, UPSTREAM_MODEL, "the upstream got the route's model");
  });

  test('tool-call round trip, streamed', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages,
        tools: [weatherTool],
        tool_choice: 'auto',
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    assert.deepEqual(first.finish, ['tool_calls']);
    assert.equal(first.tools.length, 1, 'one tool call');
    const call = first.tools[0];
    assert.ok(call.id, 'tool call id');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.equal(first.usageChunks.length, 1);

    const result = JSON.stringify({ city: 'Paris', temp_c: 18, sky: 'clear' });
    messages.push(
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.id, content: result },
    );
    const second = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages,
        tools: [weatherTool],
        tool_choice: 'auto',
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    assert.deepEqual(second.finish, ['stop']);
    assert.ok(second.text.includes(result), `answer quotes the tool result: ${second.text}`);
    assert.equal(second.usageChunks.length, 1);

    // The tool turn reached the upstream intact.
    const up = await upstreamLast();
    assert.equal(up.body.model, UPSTREAM_MODEL);
    const sent = up.body.messages.at(-1);
    assert.equal(sent.role, 'tool');
    assert.equal(sent.tool_call_id, call.id);
    assert.equal(sent.content, result);
    assert.equal(up.body.tools?.[0]?.function?.name, 'get_weather');
  });

  test('unknown model: 400 BadRequestError naming the available models', async () => {
    for (const stream of [false, true]) {
      await assert.rejects(
        client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }], stream }),
        (err) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `${stream ? 'streamed' : 'non-streamed'}: got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 400);
          assert.ok(err.message.includes(MODEL), `message names the available models: ${err.message}`);
          return true;
        },
      );
    }
  });

  test('wrong key: 401 AuthenticationError', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong-key', baseURL: `${base}/v1`, maxRetries: 0 });
    await assert.rejects(wrong.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 401);
      assert.ok(!err.message.includes('sk-wrong-key'), 'the key is not echoed back');
      return true;
    });
    await assert.rejects(wrong.models.list(), (err) => err instanceof OpenAI.AuthenticationError && err.status === 401);
  });

  for (const [label, pick] of [
    ['baseURL /v1', () => client],
    ['baseURL without /v1', () => bare],
  ]) {
    test(`models.list (${label})`, async () => {
      const ids = [];
      for await (const m of pick().models.list()) ids.push(m.id);
      assert.ok(ids.includes(MODEL), `models: ${ids.join(', ')}`);
      assert.ok(!ids.includes(UPSTREAM_MODEL), `the upstream's own model list leaked: ${ids.join(', ')}`);
    });
  }

  // Last: a clean exit on SIGTERM is part of the serve contract.
  test('exits cleanly on SIGTERM', async () => {
    gateway.stoppedByTest = true;
    const exited = await stop(gateway);
    assert.equal(exited.forced, undefined, 'exited before SIGKILL');
    assert.equal(exited.code, 0, `exit ${JSON.stringify(exited)}`);
  });
});
