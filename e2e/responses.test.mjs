// Outside-in tests of the Responses API (POST /v1/responses) with the real clients that default
// to it: the Vercel AI SDK's openai(model) (and, beside it, openai.chat(model), which calls chat
// completions) and the OpenAI Agents SDK for JS. Each runs plain, streamed and a tool round trip
// through an OpenAI route (the Responses API passed through to the fake's /v1/responses) and an
// Anthropic route (translated to chat, then to Messages), against the fake upstream's recorded
// answers; the usage each client reads back is the recording's, turned into its terms.
// Run with e2e/run.sh, which builds both binaries.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, jsonSchema, stepCountIs } from 'ai';
import { Agent, Runner, OpenAIProvider, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { z } from 'zod';
import { requireBin, start, stop, serveGateway } from './harness.mjs';

const MASTER_KEY = 'sk-master-responses';
const UPSTREAM_KEY = 'sk-upstream';
const TOOL_RESULT = 'Sunny, 21 °C, light wind';

// Each route's recorded usage (internal/fakeupstream/testdata), as input and output tokens: the
// text answer, and the tool-call turn. Anthropic's input counts the cache reads and writes too.
const ROUTES = [
  {
    route: 'oa',
    text: { input: 19, output: 10 },
    tool: { input: 68, output: 15 },
    // Passed through to OpenAI's own Responses API; chat completions stay chat completions.
    upstream: { last: '/_fake/native/last', path: '/v1/responses', model: 'gpt-4o-mini' },
    chatUpstream: { last: '/_fake/last', model: 'gpt-4o-mini' },
  },
  {
    route: 'claude',
    text: { input: 80, output: 15 },
    tool: { input: 759, output: 89 },
    upstream: { last: '/_fake/native/last', path: '/v1/messages', model: 'claude-sonnet-4-5' },
  },
];

const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

describe('Responses API clients through clawgate serve', { timeout: 400000 }, () => {
  let dir;
  let fake;
  let gateway;
  let base;
  let provider;

  // assertUpstream checks that the last call reached the fake where the route sends it, with
  // the route's upstream model (route names differ from it: a bare forwarder fails here).
  async function assertUpstream(upstream) {
    const last = await (await fetch(`${fake.url}${upstream.last}`)).json();
    if (upstream.path) assert.equal(last.path, upstream.path, "the provider's own API was called");
    assert.equal(last.body?.model, upstream.model, "the upstream got the route's model id");
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-responses-'));
    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
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
        'general_settings:',
        `  master_key: ${MASTER_KEY}`,
        '',
      ].join('\n'),
    );
    ({ gateway, base } = await serveGateway(dir, config));
    provider = createOpenAI({ apiKey: MASTER_KEY, baseURL: `${base}/v1` });
    setTracingDisabled(true); // the Agents SDK would otherwise export traces to OpenAI
  });

  after(async () => {
    if (gateway?.exited) console.error(`clawgate exited early; output tail:\n${gateway.output.slice(-4000)}`);
    await stop(gateway);
    await stop(fake);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const weather = () =>
    tool({
      description: 'Current weather for a city',
      inputSchema: jsonSchema(weatherSchema),
      execute: async ({ city }) => {
        assert.equal(typeof city, 'string');
        return TOOL_RESULT;
      },
    });

  for (const { route, text, tool: toolUsage, upstream: responsesUpstream, chatUpstream } of ROUTES) {
    for (const api of ['responses', 'chat']) {
      const upstream = api === 'chat' ? (chatUpstream ?? responsesUpstream) : responsesUpstream;
      const model = () => (api === 'responses' ? provider(route) : provider.chat(route));

      test(`AI SDK ${api}: generateText via ${route}`, async () => {
        const res = await generateText({ model: model(), prompt: 'Say hello', maxRetries: 0 });
        assert.ok(res.text.length > 0, `text: ${JSON.stringify(res.text)}`);
        assert.equal(res.finishReason, 'stop');
        assert.equal(res.usage.inputTokens, text.input, `usage ${JSON.stringify(res.usage)}`);
        assert.equal(res.usage.outputTokens, text.output, `usage ${JSON.stringify(res.usage)}`);
        if (api === 'responses') assert.match(res.response.id, /^resp_/, 'a Responses id');
        await assertUpstream(upstream);
      });

      test(`AI SDK ${api}: streamText via ${route}`, async () => {
        const res = streamText({ model: model(), prompt: 'Say hello', maxRetries: 0 });
        let streamed = '';
        for await (const part of res.textStream) streamed += part;
        assert.ok(streamed.length > 0, 'streamed text');
        assert.equal(await res.text, streamed);
        const usage = await res.usage;
        assert.equal(usage.inputTokens, text.input, `usage ${JSON.stringify(usage)}`);
        assert.equal(usage.outputTokens, text.output, `usage ${JSON.stringify(usage)}`);
        assert.equal(await res.finishReason, 'stop');
        await assertUpstream(upstream);
      });

      test(`AI SDK ${api}: streamed tool round trip via ${route}`, async () => {
        const res = streamText({
          model: model(),
          prompt: 'What is the weather in Paris?',
          tools: { get_weather: weather() },
          stopWhen: stepCountIs(3),
          maxRetries: 0,
        });
        for await (const _ of res.textStream);
        const steps = await res.steps;
        assert.equal(steps.length, 2, `steps: ${steps.map((s) => s.finishReason)}`);
        assert.equal(steps[0].finishReason, 'tool-calls');
        assert.equal(steps[0].toolCalls.length, 1);
        assert.equal(steps[0].toolCalls[0].toolName, 'get_weather');
        assert.equal(steps[0].toolResults[0].output, TOOL_RESULT);
        assert.ok((await res.text).includes(TOOL_RESULT), `the answer quotes the tool result: ${await res.text}`);
        const total = await res.totalUsage;
        assert.equal(total.inputTokens, toolUsage.input + text.input, `total usage ${JSON.stringify(total)}`);
        assert.equal(total.outputTokens, toolUsage.output + text.output, `total usage ${JSON.stringify(total)}`);
        await assertUpstream(upstream);
      });

      test(`AI SDK ${api}: generateText tool round trip via ${route}`, async () => {
        const res = await generateText({
          model: model(),
          prompt: 'What is the weather in Paris?',
          tools: { get_weather: weather() },
          stopWhen: stepCountIs(3),
          maxRetries: 0,
        });
        assert.equal(res.steps.length, 2);
        assert.ok(res.text.includes(TOOL_RESULT), `the answer quotes the tool result: ${res.text}`);
        assert.equal(res.totalUsage.inputTokens, toolUsage.input + text.input);
        assert.equal(res.totalUsage.outputTokens, toolUsage.output + text.output);
        await assertUpstream(upstream);
      });
    }

    test(`OpenAI Agents SDK (Responses) runs a tool via ${route}`, async () => {
      const upstream = responsesUpstream;
      let called = 0;
      const getWeather = agentTool({
        name: 'get_weather',
        description: 'Current weather for a city',
        parameters: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          called++;
          assert.equal(typeof city, 'string');
          return TOOL_RESULT;
        },
      });
      const runner = new Runner({
        modelProvider: new OpenAIProvider({ apiKey: MASTER_KEY, baseURL: `${base}/v1`, useResponses: true }),
      });
      const agent = new Agent({ name: 'Weather', instructions: 'Answer with the tool.', model: route, tools: [getWeather] });
      const result = await runner.run(agent, 'What is the weather in Paris?');
      assert.equal(called, 1, 'the tool ran once');
      assert.ok(String(result.finalOutput).includes(TOOL_RESULT), `final output: ${result.finalOutput}`);
      const usage = result.state.usage;
      assert.equal(usage.inputTokens, toolUsage.input + text.input, `usage ${JSON.stringify(usage)}`);
      assert.equal(usage.outputTokens, toolUsage.output + text.output, `usage ${JSON.stringify(usage)}`);
      await assertUpstream(upstream);
    });
  }

  // OpenAI's Codex CLI (the native binary in @openai/codex) with a custom provider at the
  // gateway: `codex exec` runs one turn in which the model (the fake) calls Codex's shell tool,
  // Codex runs it and sends its output back, and the answer quotes it. Its sandbox is off
  // (danger-full-access) so that it runs wherever CI does; the command is the fake's "Paris".
  // Codex offers its built-in web_search tool unless told not to, and translated routes refuse
  // built-in tools, so web_search is disabled, as a user of a non-OpenAI route must.
  for (const { route, upstream } of ROUTES) {
    test(`Codex CLI (codex exec) runs a tool via ${route}`, async () => {
      const codex = fileURLToPath(new URL('./node_modules/.bin/codex', import.meta.url));
      const home = path.join(dir, `codex-${route}`);
      const work = path.join(home, 'work');
      await mkdir(work, { recursive: true });
      await writeFile(
        path.join(home, 'config.toml'),
        [
          `model = "${route}"`,
          'model_provider = "clawgate"',
          'web_search = "disabled"',
          '[model_providers.clawgate]',
          'name = "Clawgate"',
          `base_url = "${base}/v1"`,
          'env_key = "CLAWGATE_KEY"',
          'wire_api = "responses"',
          '',
        ].join('\n'),
      );
      const env = { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, CLAWGATE_KEY: MASTER_KEY };
      // stdin closed: codex exec reads more prompt from a stdin that stays open.
      const run = promisify(execFile)(
        codex,
        ['exec', '--skip-git-repo-check', '--sandbox', 'danger-full-access', 'What is the weather in Paris?'],
        { cwd: work, env, timeout: 120000 },
      );
      run.child.stdin.end();
      let out;
      try {
        out = await run;
      } catch (err) {
        throw new Error(`codex exec failed (${err.code ?? err.signal}): ${err.message}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
      }
      assert.match(out.stderr, /provider: clawgate/, `codex used the gateway: ${out.stderr}`);
      assert.match(out.stderr, /\nexec\n/, `codex ran a tool: ${out.stderr}`);
      assert.match(out.stdout, /The tool returned: [\s\S]*Process exited with code/, `the answer quotes the tool's output: ${out.stdout}`);
      await assertUpstream(upstream);
    });
  }

  // Every Responses call is metered like a chat call, under its own call type: the spend log has
  // them for both routes, with the tokens the clients read.
  test('the spend log holds the Responses calls of each route', async () => {
    const deadline = Date.now() + 4000;
    let rows = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/spend/logs?summarize=false`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      assert.equal(res.status, 200);
      rows = (await res.json()).filter((r) => r.call_type === 'aresponses');
      // Per route: 2 plain calls, 2 tool round trips of 2 calls, 1 agent run of 2 calls, and
      // Codex's turn of 2 calls.
      if (rows.length >= 20) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const { route, text } of ROUTES) {
      const mine = rows.filter((r) => r.model_group === route);
      assert.equal(mine.length, 10, `${route}: aresponses rows ${mine.length}`);
      const failed = mine.filter((r) => r.status !== 'success');
      assert.equal(failed.length, 0, `${route}: rows not a success: ${JSON.stringify(failed.map((r) => [r.status, r.metadata?.error_information ?? r.metadata]))}`);
      assert.ok(mine.some((r) => r.prompt_tokens === text.input && r.completion_tokens === text.output), `${route}: a text turn's tokens`);
    }
  });
});
