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

// The usage each recorded answer of the fake upstream (internal/fakeupstream/testdata) must
// come out as, in OpenAI's terms, worked out by hand from the recordings with LiteLLM's rules;
// every field differs, so a translation that swaps or drops one fails. tool is the first turn
// (the tool-call recording), text the second (the text recording, quoting the tool result).
// cached: prompt tokens read from the cache; write: written to it; reasoning: inside completion.
const USAGE = {
  // OpenAI's own figures, as recorded: prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens.
  openai: {
    tool: { prompt: 68, completion: 15, cached: 40, write: 0, reasoning: 9 },
    text: { prompt: 19, completion: 10, cached: 6, write: 0, reasoning: 4 },
  },
  // Anthropic's input_tokens leaves the cache out: prompt = input + cache_read + cache_creation.
  anthropic: {
    tool: { prompt: 759, completion: 89, cached: 256, write: 31, reasoning: 0 }, // 472 + 256 + 31
    text: { prompt: 80, completion: 15, cached: 48, write: 7, reasoning: 0 }, // 25 + 48 + 7
  },
  // Gemini's promptTokenCount holds the cached part; completion = candidates + thoughts.
  gemini: {
    tool: { prompt: 71, completion: 80, cached: 32, write: 0, reasoning: 58 }, // 22 + 58
    text: { prompt: 1062, completion: 448, cached: 1024, write: 0, reasoning: 427 }, // 21 + 427
  },
  // Bedrock's inputTokens leaves the cache out too: prompt = input + cacheRead + cacheWrite.
  bedrock: {
    tool: { prompt: 557, completion: 87, cached: 128, write: 17, reasoning: 0 }, // 412 + 128 + 17
    text: { prompt: 61, completion: 21, cached: 40, write: 9, reasoning: 0 }, // 12 + 40 + 9
  },
};

// Every route but az is priced by model_info with these made-up prices (USD per token), so each
// turn's cost below is stated here, not looked up; az is priced as its base_model, azure/gpt-4o,
// from the table ($2.50/M input, $1.25/M cached, $10/M output and reasoning).
const PRICES = {
  input_cost_per_token: 1e-6,
  cache_read_input_token_cost: 1e-7,
  cache_creation_input_token_cost: 2e-6,
  output_cost_per_token: 8e-6,
  output_cost_per_reasoning_token: 5e-6,
};
// cost = (prompt - cached - write) × input + cached × read + write × creation
//        + (completion - reasoning) × output + reasoning × reasoning price
const COST = {
  openai: { tool: 125e-6, text: 81.6e-6 }, // 28+4+0+48+45; 13+0.6+0+48+20
  anthropic: { tool: 1271.6e-6, text: 163.8e-6 }, // 472+25.6+62+712; 25+4.8+14+120
  gemini: { tool: 508.2e-6, text: 2443.4e-6 }, // 39+3.2+176+290; 38+102.4+168+2135
  bedrock: { tool: 1154.8e-6, text: 202e-6 }, // 412+12.8+34+696; 12+4+18+168
  azure: { tool: 270e-6, text: 140e-6 }, // 28×2.5+40×1.25+15×10; 13×2.5+6×1.25+10×10
};

// route name -> the provider the spend log must name, the usage and cost its answers must show,
// and where the last streamed call must have reached on the fake: the path (and auth header), so
// a route that silently went elsewhere fails, and for the routes whose body names the model, the
// upstream's model id (the route names differ from it: forwarding the client's name fails).
const ROUTES = [
  {
    route: 'oa',
    provider: 'openai',
    usage: USAGE.openai,
    cost: COST.openai,
    upstream: { last: '/_fake/last', model: 'gpt-4o-mini', header: ['Authorization', (v) => v === `Bearer ${UPSTREAM_KEY}`] },
  },
  {
    route: 'claude',
    provider: 'anthropic',
    usage: USAGE.anthropic,
    cost: COST.anthropic,
    upstream: { path: '/v1/messages', model: 'claude-sonnet-4-5', header: ['X-Api-Key', (v) => v === UPSTREAM_KEY] },
  },
  {
    route: 'gem',
    provider: 'gemini',
    usage: USAGE.gemini,
    cost: COST.gemini,
    upstream: { path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent', header: ['X-Goog-Api-Key', (v) => v === UPSTREAM_KEY] },
  },
  {
    route: 'az',
    provider: 'azure',
    usage: USAGE.openai,
    cost: COST.azure,
    upstream: { path: '/openai/deployments/prod-chat/chat/completions', model: 'prod-chat', header: ['Api-Key', (v) => v === UPSTREAM_KEY] },
  },
  {
    route: 'vgem',
    provider: 'vertex_ai',
    usage: USAGE.gemini,
    cost: COST.gemini,
    upstream: {
      path: '/v1/projects/e2e-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent',
      header: ['Authorization', (v) => v.startsWith('Bearer ya29.')],
    },
  },
  {
    route: 'vclaude',
    provider: 'vertex_ai',
    usage: USAGE.anthropic,
    cost: COST.anthropic,
    upstream: {
      path: '/v1/projects/e2e-proj/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
      header: ['Authorization', (v) => v.startsWith('Bearer ya29.')],
    },
  },
  {
    route: 'br',
    provider: 'bedrock',
    usage: USAGE.bedrock,
    cost: COST.bedrock,
    upstream: {
      path: '/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream',
      header: ['Authorization', (v) => v.startsWith('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/')],
    },
  },
];

// assertUsage compares a streamed usage object and its spend log row with the expected figures.
function assertUsage(u, row, want, label) {
  const got = {
    prompt: u.prompt_tokens,
    completion: u.completion_tokens,
    cached: u.prompt_tokens_details?.cached_tokens ?? 0,
    write: u.cache_creation_input_tokens ?? 0,
    reasoning: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
  assert.deepEqual(got, want, `${label}: streamed usage ${JSON.stringify(u)}`);
  assert.equal(u.total_tokens, want.prompt + want.completion, `${label}: streamed total_tokens`);
  const uo = row.metadata?.usage_object ?? {};
  const logged = {
    prompt: row.prompt_tokens,
    completion: row.completion_tokens,
    cached: uo.cache_read_input_tokens,
    write: uo.cache_creation_input_tokens,
    reasoning: uo.completion_tokens_details?.reasoning_tokens,
  };
  assert.deepEqual(logged, want, `${label}: logged usage ${JSON.stringify(row)}`);
  assert.equal(row.total_tokens, want.prompt + want.completion, `${label}: logged total_tokens`);
}

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

  // assertUpstream checks where the last call reached the fake: the provider's own path, the
  // route's upstream model id, the upstream's auth.
  async function assertUpstream(upstream) {
    const last = await (await fetch(`${fake.url}${upstream.last ?? '/_fake/native/last'}`)).json();
    if (upstream.path) assert.equal(last.path, upstream.path, "the provider's own API was called");
    if (upstream.model) assert.equal(last.body?.model, upstream.model, "the upstream got the route's model id");
    const [name, ok] = upstream.header;
    assert.ok(ok(last.header[name]?.[0] ?? ''), `upstream ${name}: ${last.header[name]}`);
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
        `    model_info: ${JSON.stringify(PRICES)}`,
        '  - model_name: claude',
        '    litellm_params:',
        '      model: anthropic/claude-sonnet-4-5',
        `      api_base: "${fake.url}"`,
        `      api_key: ${UPSTREAM_KEY}`,
        `    model_info: ${JSON.stringify(PRICES)}`,
        '  - model_name: gem',
        '    litellm_params:',
        '      model: gemini/gemini-2.5-flash',
        `      api_base: "${fake.url}"`,
        `      api_key: ${UPSTREAM_KEY}`,
        `    model_info: ${JSON.stringify(PRICES)}`,
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
        `    model_info: ${JSON.stringify(PRICES)}`,
        '  - model_name: vclaude',
        '    litellm_params:',
        '      model: vertex_ai/claude-sonnet-4-5@20250929',
        `      api_base: "${fake.url}"`,
        '      vertex_project: e2e-proj',
        `      vertex_credentials: '${vertexCreds()}'`,
        `    model_info: ${JSON.stringify(PRICES)}`,
        '  - model_name: br',
        '    litellm_params:',
        '      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0',
        `      api_base: "${fake.url}"`,
        '      aws_access_key_id: AKIAIOSFODNN7EXAMPLE',
        '      aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        '      aws_region_name: us-east-1',
        `    model_info: ${JSON.stringify(PRICES)}`,
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

  for (const { route, provider, usage, cost, upstream } of ROUTES) {
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
      await assertUpstream(upstream);

      // Each streamed request reaches the spend log once, with the provider, the tokens the
      // recording reports (in the stream and in the log, each against the figures above) and its cost.
      const ids = [[...first.ids][0], [...second.ids][0]];
      const rows = await waitSpend(ids);
      assert.equal(rows.length, 2, `spend rows for ${ids}: ${JSON.stringify(rows.map(responseId))}`);
      for (const row of rows) {
        assert.equal(row.custom_llm_provider, provider, `custom_llm_provider of ${row.request_id}`);
        assert.equal(row.model_group, route);
        assert.equal(row.status, 'success');
        const turn = responseId(row) === ids[0] ? 'tool' : 'text';
        const streamed = (turn === 'tool' ? first : second).usageChunks[0].usage;
        assertUsage(streamed, row, usage[turn], `${route} ${turn} turn`);
        assert.ok(Math.abs(row.spend - cost[turn]) < 1e-12, `${route} ${turn} turn: spend ${row.spend}, want ${cost[turn]}`);
      }
    });
  }

  for (const { route, provider, upstream } of ROUTES.filter((r) => r.route === 'oa' || r.route === 'claude')) {
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
      await assertUpstream(upstream);
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
      await assertUpstream(upstream);
    });
  }
});
