// A tool round trip with the real OpenClaw through `clawgate serve`, on an OpenAI, an Anthropic
// and a Gemini route: the upstream's first answer asks OpenClaw to run its `read` tool on a file in
// the agent's folder; OpenClaw runs it and sends the result back; the upstream's second answer
// says the code word only when that result (in the provider's own wire format: an OpenAI `tool`
// message, an Anthropic `tool_result` block, a Gemini `functionResponse` part) holds the file's
// content. So the gateway must carry the tool call out to OpenClaw and the tool result back in
// every direction of translation.
//
// The upstream is a scripted fake in this file rather than internal/fakeupstream, whose replay
// always calls the first tool offered with filler arguments: the round trip needs the one tool
// that reads files, called on one path, and a check of what came back.
//
// Like the other files here it runs under the machine's Node and spawns OpenClaw under the Node 24
// that install.sh cached: `e2e/openclaw/run.sh e2e/openclaw/tools.test.mjs`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireBin, freePort, serveGateway, stop } from '../harness.mjs';
import { OPENCLAW_ENTRY, NODE24_BIN, run, describeRun, lastJSON, openclawEnv, requireOpenClaw } from './kit.mjs';

const MASTER_KEY = 'sk-master-e2e-openclaw-tools';
const UPSTREAM_KEY = 'sk-upstream-openclaw-tools';
// The tool OpenClaw offers for reading files (its schema names the path argument; the fake reads
// the argument's name from the schema it receives).
const READ_TOOL = 'read';

// One route per provider, each named apart from its upstream model, so a gateway that forwards
// OpenClaw's model name unchanged fails at the fake. Each has its own file and code word.
const ROUTES = [
  { route: 'tools-openai', provider: 'openai', upstream: 'gpt-4o-mini', base: (u) => `${u}/v1` },
  { route: 'tools-claude', provider: 'anthropic', upstream: 'claude-sonnet-4-5', base: (u) => u },
  { route: 'tools-gemini', provider: 'gemini', upstream: 'gemini-2.5-flash', base: (u) => u },
].map((r) => ({ ...r, file: `notes-${r.provider}.txt`, secret: `cw-${r.provider}-${randomBytes(6).toString('hex')}` }));
const byUpstream = new Map(ROUTES.map((r) => [r.upstream, r]));
const answerFor = (secret) => `The code word is ${secret}.`;

// What one request carried, reduced to the same shape for every provider.
//   tools:   [{name, schema}] offered
//   results: tool results in the last turn (after the model's last reply), as text
function readOpenAI(body) {
  const tools = (body.tools ?? []).map((t) => ({ name: t.function?.name, schema: t.function?.parameters }));
  const results = afterLastReply(body.messages, 'assistant')
    .filter((m) => m.role === 'tool')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
  return { tools, results };
}

// afterLastReply is the last turn: the messages after the model's last reply. OpenClaw follows its
// tool results with a user message of its own, so the results are not always the last message.
function afterLastReply(messages = [], role) {
  const i = messages.findLastIndex((m) => m.role === role);
  return messages.slice(i + 1);
}

function readAnthropic(body) {
  const tools = (body.tools ?? []).map((t) => ({ name: t.name, schema: t.input_schema }));
  const results = afterLastReply(body.messages, 'assistant')
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((b) => b.type === 'tool_result')
    .map((b) => (typeof b.content === 'string' ? b.content : JSON.stringify(b.content)));
  return { tools, results };
}

function readGemini(body) {
  const tools = (body.tools ?? []).flatMap((t) => (t.functionDeclarations ?? []).map((d) => ({ name: d.name, schema: d.parameters ?? d.parametersJsonSchema })));
  const results = afterLastReply(body.contents, 'model')
    .flatMap((c) => c.parts ?? [])
    .filter((p) => p.functionResponse)
    .map((p) => JSON.stringify(p.functionResponse.response));
  return { tools, results };
}

// decide: a result in the last turn gets the code word when it holds it (or says what it got
// instead); otherwise, with the read tool offered, a call to it on the route's file; else "OK".
function decide(route, { tools, results }) {
  if (results.length > 0) {
    return results.some((r) => r.includes(route.secret))
      ? { text: answerFor(route.secret) }
      : { text: `The tool result did not hold the file: ${results.join(' | ').slice(0, 300)}` };
  }
  const read = tools.find((t) => t.name === READ_TOOL);
  if (!read) return { text: 'OK' };
  // The path argument: the schema's first required property (OpenClaw: "path").
  const arg = read.schema?.required?.[0] ?? 'path';
  return { tool: { id: randomBytes(6).toString('hex'), name: READ_TOOL, input: { [arg]: route.file } } };
}

// Wire formats of the answer, streamed when asked (as the gateway asks) or whole.
function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [name, data] of events) res.write(`${name ? `event: ${name}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  res.end();
}

function json(res, status, obj) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function answerOpenAI(res, body, ans) {
  const head = { id: `chatcmpl-${randomBytes(8).toString('hex')}`, created: Math.floor(Date.now() / 1000), model: body.model };
  const usage = { prompt_tokens: 50, completion_tokens: 7, total_tokens: 57 };
  const finish = ans.tool ? 'tool_calls' : 'stop';
  const call = ans.tool && { index: 0, id: `call_${ans.tool.id}`, type: 'function', function: { name: ans.tool.name, arguments: JSON.stringify(ans.tool.input) } };
  const message = ans.tool ? { role: 'assistant', content: null, tool_calls: [call] } : { role: 'assistant', content: ans.text };
  if (!body.stream) return json(res, 200, { ...head, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish }], usage });
  const chunk = (choices, extra = {}) => ['', { ...head, object: 'chat.completion.chunk', choices, ...extra }];
  const events = [chunk([{ index: 0, delta: message, finish_reason: null }]), chunk([{ index: 0, delta: {}, finish_reason: finish }])];
  if (body.stream_options?.include_usage) events.push(chunk([], { usage }));
  sse(res, [...events, ['', '[DONE]']]);
}

function answerAnthropic(res, body, ans) {
  const id = `msg_${randomBytes(8).toString('hex')}`;
  const block = ans.tool ? { type: 'tool_use', id: `toolu_${ans.tool.id}`, name: ans.tool.name, input: ans.tool.input } : { type: 'text', text: ans.text };
  const stop_reason = ans.tool ? 'tool_use' : 'end_turn';
  const msg = { id, type: 'message', role: 'assistant', model: body.model, stop_sequence: null };
  if (!body.stream) return json(res, 200, { ...msg, content: [block], stop_reason, usage: { input_tokens: 50, output_tokens: 7 } });
  const delta = ans.tool ? { type: 'input_json_delta', partial_json: JSON.stringify(ans.tool.input) } : { type: 'text_delta', text: ans.text };
  const ev = (type, data) => [type, { type, ...data }];
  sse(res, [
    ev('message_start', { message: { ...msg, content: [], stop_reason: null, usage: { input_tokens: 50, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: ans.tool ? { ...block, input: {} } : { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 0, delta }),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: 7 } }),
    ev('message_stop', {}),
  ]);
}

function answerGemini(res, model, stream, ans) {
  const part = ans.tool ? { functionCall: { name: ans.tool.name, args: ans.tool.input } } : { text: ans.text };
  const out = {
    candidates: [{ content: { role: 'model', parts: [part] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 7, totalTokenCount: 57 },
    modelVersion: model,
    responseId: randomBytes(8).toString('hex'),
  };
  if (!stream) return json(res, 200, out);
  sse(res, [['', out]]);
}

// fakeUpstream serves the three providers' chat APIs and records every request it reads.
function fakeUpstream() {
  const seen = []; // {provider, model, tools, results, status}
  const srv = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const url = new URL(req.url, 'http://x');
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return json(res, 400, { error: { message: 'the request body is not JSON' } });
    }
    let provider, model, reader, answer, authorized;
    if (url.pathname === '/v1/chat/completions') {
      [provider, model, reader, answer] = ['openai', body.model, readOpenAI, (a) => answerOpenAI(res, body, a)];
      authorized = req.headers.authorization === `Bearer ${UPSTREAM_KEY}`;
    } else if (url.pathname === '/v1/messages') {
      [provider, model, reader, answer] = ['anthropic', body.model, readAnthropic, (a) => answerAnthropic(res, body, a)];
      authorized = req.headers['x-api-key'] === UPSTREAM_KEY && Boolean(req.headers['anthropic-version']);
    } else {
      const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname);
      if (!m) return json(res, 404, { error: { message: `fake upstream: no route ${req.method} ${url.pathname}` } });
      const stream = m[2] === 'streamGenerateContent';
      [provider, model, reader, answer] = ['gemini', m[1], readGemini, (a) => answerGemini(res, m[1], stream, a)];
      authorized = (req.headers['x-goog-api-key'] ?? url.searchParams.get('key')) === UPSTREAM_KEY;
    }
    const route = byUpstream.get(model);
    const entry = { provider, model, ...reader(body), status: 200 };
    seen.push(entry);
    if (!authorized) return json(res, (entry.status = 401), { error: { message: `${provider}: wrong or missing key` } });
    if (!route || route.provider !== provider) return json(res, (entry.status = 404), { error: { message: `${provider}: no model ${model}` } });
    entry.answer = decide(route, entry);
    answer(entry.answer);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, seen, url: `http://127.0.0.1:${srv.address().port}` })));
}

describe('the real OpenClaw runs a tool through the gateway on each provider', { timeout: 900000 }, () => {
  let dir;
  let home;
  let work; // the agent's folder (--cwd): the files it reads are here
  let fake;
  let gateway;
  let clawgateBin;
  let configYAML;
  let dataDir;
  let port;
  const logs = [];

  const childEnv = () => openclawEnv(home);

  async function clawgateOpenclaw(args) {
    const env = { ...childEnv(), CLAWGATE_CONFIG: configYAML, CLAWGATE_DATA_DIR: dataDir, LITELLM_MASTER_KEY: MASTER_KEY };
    const r = await run('clawgate openclaw', clawgateBin, ['openclaw', ...args], { env, cwd: work, timeoutMs: 60000 });
    logs.push(`### clawgate openclaw ${args.join(' ')}\n${describeRun(r)}`);
    assert.equal(r.code, 0, `clawgate openclaw ${args.join(' ')} failed: ${describeRun(r)}`);
  }

  before(async () => {
    requireOpenClaw();
    clawgateBin = requireBin('CLAWGATE_BIN');
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-openclaw-tools-'));
    home = path.join(dir, 'home');
    work = path.join(dir, 'work');
    dataDir = path.join(dir, 'data');
    await mkdir(path.join(home, '.openclaw'), { recursive: true, mode: 0o700 });
    await mkdir(work, { recursive: true });
    for (const r of ROUTES) await writeFile(path.join(work, r.file), `Notes for the ${r.provider} route.\nThe secret here is ${r.secret}.\n`);

    fake = await fakeUpstream();
    port = await freePort();
    configYAML = path.join(dir, 'config.yaml');
    const lines = ['model_list:'];
    for (const r of ROUTES) {
      lines.push(`  - model_name: ${r.route}`, '    litellm_params:', `      model: ${r.provider}/${r.upstream}`, `      api_base: "${r.base(fake.url)}"`, `      api_key: ${UPSTREAM_KEY}`);
    }
    await writeFile(configYAML, [...lines, 'general_settings:', `  master_key: ${MASTER_KEY}`, ''].join('\n'));
    ({ gateway } = await serveGateway(dir, configYAML, port));
    await writeFile(path.join(home, '.openclaw', 'openclaw.json'), '{\n  agents: { defaults: { workspace: "~/.openclaw/workspace" } },\n}\n', { mode: 0o600 });
    await clawgateOpenclaw(['connect', '--data-dir', dataDir, '--port', String(port)]);
    await clawgateOpenclaw(['sync']);
  });

  after(async () => {
    await stop(gateway);
    fake?.srv.close();
    if (gateway) await writeFile(new URL('./last-tools-gateway.log', import.meta.url), gateway.output);
    if (fake) logs.push(`### what the fake upstream saw\n${JSON.stringify(fake.seen.map(({ tools, ...e }) => ({ ...e, tools: tools.length })), null, 2)}`);
    await writeFile(new URL('./last-tools-openclaw.log', import.meta.url), logs.join('\n\n'));
    if (dir && process.env.E2E_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  });

  for (const r of ROUTES) {
    test(`${r.provider}: OpenClaw runs ${READ_TOOL} on ${r.file} and the answer carries its code word`, async () => {
      await clawgateOpenclaw(['use', r.route]);
      const from = fake.seen.length;
      const prompt = `Read ${r.file} in this folder and tell me the secret in it.`;
      const run1 = await run(`openclaw agent exec (${r.route})`, NODE24_BIN, [OPENCLAW_ENTRY, 'agent', 'exec', prompt, '--cwd', work, '--json', '--timeout', '90'], {
        env: childEnv(),
        cwd: work,
        timeoutMs: 150000,
      });
      logs.push(`### openclaw agent exec on ${r.route}\n${describeRun(run1)}`);
      const seen = fake.seen.slice(from);
      const described = JSON.stringify(seen.map(({ tools, ...e }) => ({ ...e, tools: tools.map((t) => t.name) })), null, 1).slice(0, 4000);
      const out = lastJSON(run1.stdout);
      assert.ok(out, `openclaw agent exec printed no JSON envelope: ${describeRun(run1)}`);
      assert.equal(out.ok, true, `the turn failed: ${JSON.stringify(out).slice(0, 2000)}\nthe fake saw: ${described}`);
      assert.equal(run1.code, 0, describeRun(run1));

      // The fake saw, on this route's upstream model only: OpenClaw's read tool offered, then a
      // request whose last turn is the tool result holding the file's content.
      assert.ok(seen.length >= 2, `the fake saw ${seen.length} requests, want the tool call and the tool result: ${described}`);
      assert.ok(seen.every((e) => e.provider === r.provider && e.model === r.upstream && e.status === 200), `requests off this route: ${described}`);
      assert.ok(seen[0].tools.some((t) => t.name === READ_TOOL), `OpenClaw offered no ${READ_TOOL} tool: ${seen[0].tools.map((t) => t.name)}`);
      assert.ok(seen[0].answer?.tool, `the first answer was not a tool call: ${described}`);
      const withResult = seen.filter((e) => e.results.some((x) => x.includes(r.secret)));
      assert.equal(withResult.length, 1, `want one request carrying the ${READ_TOOL} result with the code word: ${described}`);

      // OpenClaw's answer is the fake's second answer, which only a result holding the file gets.
      assert.equal(out.final, answerFor(r.secret), `final text: ${JSON.stringify(out).slice(0, 2000)}`);
      assert.equal(out.model, r.route);
    });
  }
});
