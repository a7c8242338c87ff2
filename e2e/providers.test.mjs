// Outside-in tests of the native providers: the real `openai` SDK streams a tool call round trip
// through `clawgate serve` to each provider's own API (the fake upstream's Native handler speaks
// Anthropic Messages, Gemini generateContent, Bedrock Converse, Azure OpenAI's URLs and stream
// opening, and Vertex AI's Gemini and Claude paths behind an OAuth2 token endpoint, from recorded
// transcripts), and
// the real `@anthropic-ai/sdk` streams through the gateway's /v1/messages to an OpenAI-compatible
// route and to an anthropic route. Run with e2e/run.sh, which builds both binaries.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { requireBin, start, stop, serveGateway, collect } from './harness.mjs';

const MASTER_KEY = 'sk-master-providers';
const UPSTREAM_KEY = 'sk-upstream';
const TOOL_RESULT = 'Sunny, 21 °C, light wind';

// route name -> the provider the spend log must name.
// upstream is the path (and auth header) the last streamed call must reach on the fake, so a
// route that silently went elsewhere fails; openai's is checked by gateway.test.mjs.
const ROUTES = [
  { route: 'oa', provider: 'openai' },
  {
    route: 'claude',
    provider: 'anthropic',
    upstream: { path: '/v1/messages', header: ['X-Api-Key', (v) => v === UPSTREAM_KEY] },
  },
  {
    route: 'gem',
    provider: 'gemini',
    upstream: { path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent', header: ['X-Goog-Api-Key', (v) => v === UPSTREAM_KEY] },
  },
  {
    route: 'az',
    provider: 'azure',
    upstream: { path: '/openai/deployments/prod-chat/chat/completions', header: ['Api-Key', (v) => v === UPSTREAM_KEY] },
  },
  {
    route: 'vgem',
    provider: 'vertex_ai',
    upstream: {
      path: '/v1/projects/e2e-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent',
      header: ['Authorization', (v) => v.startsWith('Bearer ya29.')],
    },
  },
  {
    route: 'vclaude',
    provider: 'vertex_ai',
    upstream: {
      path: '/v1/projects/e2e-proj/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
      header: ['Authorization', (v) => v.startsWith('Bearer ya29.')],
    },
  },
  {
    route: 'br',
    provider: 'bedrock',
    upstream: {
      path: '/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream',
      header: ['Authorization', (v) => v.startsWith('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/')],
    },
  },
];

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const anthropicTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: weatherTool.function.parameters,
};

// assertOneUsage holds a stream to OpenAI's include_usage contract: one final chunk with empty
// choices carries the usage, and no other chunk does.
function assertOneUsage(got, label) {
  assert.equal(got.usageChunks.length, 1, `${label}: exactly one usage chunk`);
  assert.equal(got.usageAnywhere.length, 1, `${label}: usage on exactly one chunk`);
  const u = got.usageChunks[0].usage;
  assert.ok(u.prompt_tokens > 0, `${label}: prompt_tokens ${u.prompt_tokens}`);
  assert.ok(u.completion_tokens > 0, `${label}: completion_tokens ${u.completion_tokens}`);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens, `${label}: total_tokens`);
  assert.equal(got.ids.size, 1, `${label}: one completion id across chunks, got ${[...got.ids]}`);
}

describe('native providers through clawgate serve', { timeout: 180000 }, () => {
  let dir;
  let fake;
  let gateway;
  let base; // http://127.0.0.1:PORT
  let client;
  let anthropic;

  async function spendLogs() {
    const res = await fetch(`${base}/spend/logs?summarize=false`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    assert.equal(res.status, 200, `/spend/logs: ${res.status}`);
    return res.json();
  }

  // responseId is the upstream's id a client saw in the stream; request_id is the gateway's call id.
  const responseId = (row) => row.metadata?.response_id;

  // waitSpend polls the spend log for rows with these response ids; usage is flushed every 1 s.
  async function waitSpend(ids) {
    const deadline = Date.now() + 4000;
    let rows = [];
    while (Date.now() < deadline) {
      rows = (await spendLogs()).filter((r) => ids.includes(responseId(r)));
      if (rows.length >= ids.length) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
    return rows;
  }

  const vertexCreds = () =>
    JSON.stringify({ type: 'authorized_user', client_id: 'cid', client_secret: 'cs', refresh_token: '1//e2e', token_uri: `${fake.url}/token` });

  before(async () => {
    const fakeBin = requireBin('FAKEUPSTREAM_BIN');
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-providers-'));
    fake = await start('fakeupstream', fakeBin, ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);

    const config = path.join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'model_list:',
        '  - model_name: oa',
        '    litellm_params:',
        '      model: openai/gpt-4o-mini',
        `      api_base: "${fake.url}/v1"`,
        `      api_key: ${UPSTREAM_KEY}`,
        '  - model_name: claude',
        '    litellm_params:',
        '      model: anthropic/claude-sonnet-4-5',
        `      api_base: "${fake.url}"`,
        `      api_key: ${UPSTREAM_KEY}`,
        '  - model_name: gem',
        '    litellm_params:',
        '      model: gemini/gemini-2.5-flash',
        `      api_base: "${fake.url}"`,
        `      api_key: ${UPSTREAM_KEY}`,
        '  - model_name: az',
        '    litellm_params:',
        '      model: azure/prod-chat',
        `      api_base: "${fake.url}"`,
        `      api_key: ${UPSTREAM_KEY}`,
        '    model_info: {base_model: azure/gpt-4o}',
        // gcloud-style credentials whose token_uri is the fake's, inline as LiteLLM takes them.
        '  - model_name: vgem',
        '    litellm_params:',
        '      model: vertex_ai/gemini-2.5-flash',
        `      api_base: "${fake.url}"`,
        '      vertex_project: e2e-proj',
        `      vertex_credentials: '${vertexCreds()}'`,
        '  - model_name: vclaude',
        '    litellm_params:',
        '      model: vertex_ai/claude-sonnet-4-5@20250929',
        `      api_base: "${fake.url}"`,
        '      vertex_project: e2e-proj',
        `      vertex_credentials: '${vertexCreds()}'`,
        '  - model_name: br',
        '    litellm_params:',
        '      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0',
        `      api_base: "${fake.url}"`,
        '      aws_access_key_id: AKIAIOSFODNN7EXAMPLE',
        '      aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        '      aws_region_name: us-east-1',
        'general_settings:',
        `  master_key: ${MASTER_KEY}`,
        '',
      ].join('\n'),
    );
    ({ gateway, base } = await serveGateway(dir, config));
    client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20000 });
    anthropic = new Anthropic({ apiKey: MASTER_KEY, baseURL: base, maxRetries: 0, timeout: 20000 });
  });

  after(async () => {
    if (gateway?.exited) {
      console.error(`clawgate exited early (${JSON.stringify(gateway.exited)}); output tail:\n${gateway.output.slice(-4000)}`);
    }
    await stop(gateway);
    await stop(fake);
    if (gateway) await writeFile(new URL('./last-gateway-providers.log', import.meta.url), gateway.output);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const { route, provider, upstream } of ROUTES) {
    test(`openai SDK streams a tool call round trip via ${provider} (${route})`, async () => {
      const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
      const first = await collect(
        await client.chat.completions.create({
          model: route,
          messages,
          tools: [weatherTool],
          tool_choice: 'auto',
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      assert.deepEqual(first.finish, ['tool_calls'], `first turn finish reasons: ${JSON.stringify(first.finish)}`);
      assertOneUsage(first, 'tool turn');
      assert.equal(first.tools.length, 1, `one tool call, got ${JSON.stringify(first.tools)}`);
      const call = first.tools[0];
      assert.equal(call.name, 'get_weather');
      assert.match(call.id, /\S{4,}/, 'the tool call has an id');
      const args = JSON.parse(call.arguments);
      assert.equal(typeof args.city, 'string', `arguments ${call.arguments} fit the schema`);

      messages.push(
        {
          role: 'assistant',
          content: first.text || null,
          tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
        },
        { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT },
      );
      const second = await collect(
        await client.chat.completions.create({
          model: route,
          messages,
          tools: [weatherTool],
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      assert.deepEqual(second.finish, ['stop'], `second turn finish reasons: ${JSON.stringify(second.finish)}`);
      assertOneUsage(second, 'answer turn');
      assert.equal(second.tools.length, 0, 'no tool call in the answer');
      assert.ok(second.text.includes(TOOL_RESULT), `the answer quotes the tool result: ${JSON.stringify(second.text)}`);
      if (upstream) {
        const last = await (await fetch(`${fake.url}/_fake/native/last`)).json();
        assert.equal(last.path, upstream.path, "the provider's own API was called");
        const [name, ok] = upstream.header;
        assert.ok(ok(last.header[name]?.[0] ?? ''), `upstream ${name}: ${last.header[name]}`);
      }

      // Each streamed request reaches the spend log once, with the provider and its tokens.
      const ids = [[...first.ids][0], [...second.ids][0]];
      const rows = await waitSpend(ids);
      assert.equal(rows.length, 2, `spend rows for ${ids}: ${JSON.stringify(rows.map(responseId))}`);
      for (const row of rows) {
        assert.equal(row.custom_llm_provider, provider, `custom_llm_provider of ${row.request_id}`);
        assert.equal(row.model_group, route);
        assert.equal(row.status, 'success');
        assert.ok(row.prompt_tokens > 0 && row.completion_tokens > 0, `tokens of ${row.request_id}: ${row.prompt_tokens}/${row.completion_tokens}`);
        const usage = responseId(row) === ids[0] ? first.usageChunks[0].usage : second.usageChunks[0].usage;
        assert.equal(row.prompt_tokens, usage.prompt_tokens, 'logged prompt_tokens match the stream');
        assert.equal(row.completion_tokens, usage.completion_tokens, 'logged completion_tokens match the stream');
        if (provider === 'azure') assert.ok(row.spend > 0, `the deployment is priced as its base_model: spend ${row.spend}`);
      }
    });
  }

  for (const { route, provider } of ROUTES.filter((r) => r.route === 'oa' || r.route === 'claude')) {
    test(`@anthropic-ai/sdk streams a tool round trip through /v1/messages to ${provider} (${route})`, async () => {
      const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
      const stream = anthropic.messages.stream({ model: route, max_tokens: 512, tools: [anthropicTool], messages });
      const types = [];
      for await (const ev of stream) types.push(ev.type);
      const msg = await stream.finalMessage();
      assert.equal(types[0], 'message_start', `events: ${types}`);
      assert.equal(types.at(-1), 'message_stop', `events: ${types}`);
      for (const want of ['content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta']) {
        assert.ok(types.includes(want), `events ${types} include ${want}`);
      }
      assert.equal(msg.role, 'assistant');
      assert.equal(msg.stop_reason, 'tool_use');
      const uses = msg.content.filter((b) => b.type === 'tool_use');
      assert.equal(uses.length, 1, `one tool_use block: ${JSON.stringify(msg.content)}`);
      assert.equal(uses[0].name, 'get_weather');
      assert.match(uses[0].id, /\S{4,}/);
      assert.equal(typeof uses[0].input.city, 'string', `parsed input ${JSON.stringify(uses[0].input)}`);
      assert.ok(msg.usage.output_tokens > 0, `usage ${JSON.stringify(msg.usage)}`);
      assert.ok(msg.usage.input_tokens > 0, `usage ${JSON.stringify(msg.usage)}`);

      messages.push(
        { role: 'assistant', content: msg.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: TOOL_RESULT }] },
      );
      const again = anthropic.messages.stream({ model: route, max_tokens: 512, tools: [anthropicTool], messages });
      const answer = await again.finalMessage();
      assert.equal(answer.stop_reason, 'end_turn');
      const text = answer.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
      assert.ok(text.includes(TOOL_RESULT), `the answer quotes the tool result: ${JSON.stringify(answer.content)}`);
      assert.equal(answer.content.filter((b) => b.type === 'tool_use').length, 0);
      assert.ok(answer.usage.output_tokens > 0, `usage ${JSON.stringify(answer.usage)}`);
    });

    test(`@anthropic-ai/sdk messages.create (not streamed) to ${provider} (${route})`, async () => {
      const msg = await anthropic.messages.create({
        model: route,
        max_tokens: 512,
        tools: [anthropicTool],
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      });
      assert.equal(msg.type, 'message');
      assert.equal(msg.role, 'assistant');
      assert.equal(msg.stop_reason, 'tool_use');
      const use = msg.content.find((b) => b.type === 'tool_use');
      assert.ok(use, `a tool_use block: ${JSON.stringify(msg.content)}`);
      assert.equal(use.name, 'get_weather');
      assert.equal(typeof use.input.city, 'string');
      assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0, `usage ${JSON.stringify(msg.usage)}`);

      const plain = await anthropic.messages.create({
        model: route,
        max_tokens: 512,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(plain.stop_reason, 'end_turn');
      assert.ok(plain.content.some((b) => b.type === 'text' && b.text.length > 0), JSON.stringify(plain.content));
    });
  }
});
