// Outside-in test with the real Claude Code (@anthropic-ai/claude-code from npm, its native
// binary): `claude -p` with ANTHROPIC_BASE_URL at `clawgate serve` and a virtual key runs a turn
// that reads a file with its Read tool, once through a Claude route (Anthropic's API, passed
// through) and once through an OpenAI route (translated). The fake upstream here speaks both
// APIs in their documented formats; it asks for a Read of notes.txt and answers with the code word
// only when the tool result it gets back holds the file's content. A logging hop between Claude
// Code and the gateway records every request Claude Code makes, and each must be answered with a
// 2xx. Run with e2e/run.sh, which builds clawgate and installs the npm packages.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { serveGateway, stop } from './harness.mjs';

const MASTER_KEY = 'sk-master-claude-code';
const UPSTREAM_KEY = 'sk-upstream-claude-code';
const CLAUDE_BIN = new URL('./node_modules/@anthropic-ai/claude-code/bin/claude.exe', import.meta.url).pathname;
// The deployments' upstream model ids: the fake refuses any other, so a call that reached it with
// Claude Code's own model name (no routing, no model rewrite) fails.
const ANTHROPIC_MODEL = 'claude-e2e-upstream-1';
const OPENAI_MODEL = 'gpt-e2e-upstream-1';
// Fixed usage per answer, so the spend log can be checked exactly.
const ANT_USAGE = { input_tokens: 100, cache_creation_input_tokens: 20, cache_read_input_tokens: 50, output_tokens: 30 };
const OAI_USAGE = { prompt_tokens: 120, completion_tokens: 25, total_tokens: 145 };
const PRICES = { input_cost_per_token: 1e-6, output_cost_per_token: 8e-6, cache_read_input_token_cost: 1e-7, cache_creation_input_token_cost: 2e-6 };

// fakeUpstream answers Anthropic's POST /v1/messages (and count_tokens) and OpenAI's POST
// /v1/chat/completions. With a Read tool offered and no tool result yet, it asks for a Read of
// file; once a tool result comes back it says the code word it found there, or that it found none.
function fakeUpstream(file, secret) {
  const seen = []; // every request: {path, model, stream, tools, beta, body}
  const srv = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    let body = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      body = { unparsable: raw.slice(0, 200) };
    }
    const url = new URL(req.url, 'http://x');
    seen.push({ path: url.pathname, header: req.headers, body, raw });
    const send = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    const anthropicError = (status, msg) => send(status, { type: 'error', error: { type: 'invalid_request_error', message: msg } });
    if (url.pathname === '/v1/messages' || url.pathname === '/v1/messages/count_tokens') {
      if (req.headers['x-api-key'] !== UPSTREAM_KEY) return send(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
      if (!req.headers['anthropic-version']) return anthropicError(400, 'anthropic-version: header is required');
      if (body.model !== ANTHROPIC_MODEL) return anthropicError(404, `model: ${body.model} not found`);
      if (url.pathname.endsWith('/count_tokens')) return send(200, { input_tokens: 4321 });
      return anthropicAnswer(res, body, decide(body, 'anthropic'));
    }
    if (url.pathname === '/v1/chat/completions') {
      if (req.headers.authorization !== `Bearer ${UPSTREAM_KEY}`) return send(401, { error: { message: 'bad key', type: 'invalid_request_error' } });
      if (body.model !== OPENAI_MODEL) return send(404, { error: { message: `The model ${body.model} does not exist`, type: 'invalid_request_error', code: 'model_not_found' } });
      if (body.max_tokens > 8192 || body.max_completion_tokens > 8192) {
        return send(400, { error: { message: 'max_tokens is too large: this model supports at most 8192 completion tokens', type: 'invalid_request_error' } });
      }
      return openaiAnswer(res, body, decide(body, 'openai'));
    }
    send(404, { error: { message: `fake upstream: no route ${req.method} ${url.pathname}` } });
  });

  // decide picks the answer: a Read call, the code word from a tool result, or a plain "OK".
  function decide(body, api) {
    const tools = (body.tools ?? []).map((t) => t.name ?? t.function?.name);
    const results = [];
    for (const m of body.messages ?? []) {
      if (api === 'openai' && m.role === 'tool') results.push(typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
      if (api === 'anthropic' && Array.isArray(m.content)) {
        for (const b of m.content) if (b.type === 'tool_result') results.push(typeof b.content === 'string' ? b.content : JSON.stringify(b.content));
      }
    }
    if (results.length > 0) {
      const found = results.some((r) => r.includes(secret));
      return { text: found ? `The code word is ${secret}.` : `The tool result did not hold the file: ${results.join(' | ').slice(0, 200)}` };
    }
    if (tools.includes('Read')) return { tool: { id: `toolu_${randomBytes(6).toString('hex')}`, name: 'Read', input: { file_path: file } } };
    return { text: 'OK' };
  }

  function anthropicAnswer(res, body, ans) {
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const block = ans.tool ? { type: 'tool_use', id: ans.tool.id, name: ans.tool.name, input: ans.tool.input } : { type: 'text', text: ans.text };
    const stop = ans.tool ? 'tool_use' : 'end_turn';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${id}` });
      res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model: body.model, content: [block], stop_reason: stop, stop_sequence: null, usage: ANT_USAGE }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': `req_${id}` });
    const ev = (name, data) => res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    const { output_tokens, ...input } = ANT_USAGE;
    ev('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...input, output_tokens: 1 } } });
    if (ans.tool) {
      ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { ...block, input: {} } });
      const json = JSON.stringify(ans.tool.input);
      const half = Math.floor(json.length / 2);
      for (const part of [json.slice(0, half), json.slice(half)]) {
        ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: part } });
      }
    } else {
      ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      ev('ping', { type: 'ping' });
      ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ans.text } });
    }
    ev('content_block_stop', { type: 'content_block_stop', index: 0 });
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens } });
    ev('message_stop', { type: 'message_stop' });
    res.end();
  }

  function openaiAnswer(res, body, ans) {
    const id = `chatcmpl-${randomBytes(8).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const finish = ans.tool ? 'tool_calls' : 'stop';
    const call = ans.tool && { index: 0, id: `call_${ans.tool.id}`, type: 'function', function: { name: ans.tool.name, arguments: JSON.stringify(ans.tool.input) } };
    if (!body.stream) {
      const message = ans.tool ? { role: 'assistant', content: null, tool_calls: [call] } : { role: 'assistant', content: ans.text };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, object: 'chat.completion', created, model: body.model, choices: [{ index: 0, message, finish_reason: finish }], usage: OAI_USAGE }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (choices, extra = {}) => res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`);
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    if (ans.tool) chunk([{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }]);
    else chunk([{ index: 0, delta: { content: ans.text }, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, finish_reason: finish }]);
    if (body.stream_options?.include_usage) chunk([], { usage: OAI_USAGE });
    res.end('data: [DONE]\n\n');
  }

  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, seen, url: `http://127.0.0.1:${srv.address().port}` })));
}

// loggingHop forwards every request to target as it is and records what Claude Code asked and
// what it was answered (status, and the gateway's own x-clawgate-* headers).
function loggingHop(target) {
  const log = [];
  const srv = http.createServer((req, res) => {
    const entry = { method: req.method, url: req.url, beta: req.headers['anthropic-beta'] ?? '', status: 0, clawgate: {}, raw: '' };
    log.push(entry);
    req.on('data', (c) => (entry.raw += c));
    const up = http.request(new URL(req.url, target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (ur) => {
      entry.status = ur.statusCode;
      for (const [k, v] of Object.entries(ur.headers)) if (k.startsWith('x-clawgate-')) entry.clawgate[k] = v;
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', (err) => {
      entry.status = 502;
      entry.error = err.message;
      res.writeHead(502).end(err.message);
    });
    req.pipe(up);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, log, url: `http://127.0.0.1:${srv.address().port}` })));
}

// run starts a process and resolves with its exit code and output (never rejects on a failed
// exit: the caller asserts); a run past timeoutMs is killed and says so.
function run(bin, args, { env, cwd, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}\ncannot start ${bin}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

describe('Claude Code through clawgate serve', { timeout: 600000 }, () => {
  let dir;
  let work;
  let fake;
  let hop;
  let gateway;
  let base;
  let virtualKey;
  let keyError;
  const secret = `PELICAN-${randomBytes(4).toString('hex').toUpperCase()}`;

  before(async () => {
    if (!existsSync(CLAUDE_BIN)) {
      throw new Error(`Claude Code is not installed at ${CLAUDE_BIN}: run e2e/run.sh (npm ci in e2e installs @anthropic-ai/claude-code)`);
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-claude-code-'));
    work = path.join(dir, 'project');
    await mkdir(work, { recursive: true });
    await writeFile(path.join(work, 'notes.txt'), `Meeting notes.\nThe code word is ${secret}.\n`);
    fake = await fakeUpstream(path.join(work, 'notes.txt'), secret);
    const config = path.join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'model_list:',
        '  - model_name: claude-route',
        '    litellm_params:',
        `      model: anthropic/${ANTHROPIC_MODEL}`,
        `      api_base: "${fake.url}"`,
        `      api_key: ${UPSTREAM_KEY}`,
        `    model_info: ${JSON.stringify(PRICES)}`,
        '  - model_name: openai-route',
        '    litellm_params:',
        `      model: openai/${OPENAI_MODEL}`,
        `      api_base: "${fake.url}/v1"`,
        `      api_key: ${UPSTREAM_KEY}`,
        `    model_info: ${JSON.stringify({ ...PRICES, max_output_tokens: 8192 })}`,
        'general_settings:',
        `  master_key: ${MASTER_KEY}`,
        '',
      ].join('\n'),
    );
    ({ gateway, base } = await serveGateway(dir, config));
    const res = await fetch(`${base}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key_alias: 'claude-code', models: ['claude-route', 'openai-route'], max_budget: 5 }),
    });
    const text = await res.text();
    // A refusal here fails each test (a failed hook would only cancel them, and the control run
    // counts failures).
    if (res.status !== 200) keyError = new Error(`/key/generate: ${res.status} ${text.slice(0, 300)}`);
    else virtualKey = JSON.parse(text).key;
    hop = await loggingHop(base);
  });

  after(async () => {
    for (const s of [hop?.srv, fake?.srv]) {
      s?.close();
      s?.closeAllConnections(); // a forwarder's keep-alive connection must not hold the run open
    }
    if (gateway) await writeFile(new URL('./last-gateway-claude-code.log', import.meta.url), gateway.output);
    await stop(gateway);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // claude runs one headless turn on route with a throwaway HOME, telemetry and updates off, the
  // Read tool allowed, and every model Claude Code picks (main, fast, per family) set to route.
  async function claude(route) {
    if (keyError) throw keyError;
    const home = path.join(dir, `home-${route}`);
    await mkdir(home, { recursive: true });
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
      TERM: 'dumb',
      ANTHROPIC_BASE_URL: hop.url,
      ANTHROPIC_API_KEY: virtualKey,
      ANTHROPIC_MODEL: route,
      ANTHROPIC_SMALL_FAST_MODEL: route,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: route,
      ANTHROPIC_DEFAULT_SONNET_MODEL: route,
      ANTHROPIC_DEFAULT_OPUS_MODEL: route,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_BUG_COMMAND: '1',
      CLAUDE_CODE_ENABLE_TELEMETRY: '0',
    };
    const from = hop.log.length;
    const seenFrom = fake.seen.length;
    const r = await run(
      CLAUDE_BIN,
      ['-p', 'Read notes.txt in this folder and tell me the code word in it.', '--allowedTools', 'Read', '--output-format', 'json', '--model', route, '--max-turns', '5'],
      { env, cwd: work, timeoutMs: 180000 },
    );
    const requests = hop.log.slice(from);
    const upstream = fake.seen.slice(seenFrom);
    const described =
      `claude exit ${r.code}\nstdout: ${r.stdout.slice(0, 3000)}\nstderr: ${r.stderr.slice(0, 3000)}\n` +
      `requests Claude Code made:\n${requests.map((e) => `  ${e.method} ${e.url} -> ${e.status} ${JSON.stringify(e.clawgate)}${e.error ? ' ' + e.error : ''}`).join('\n')}\n` +
      `upstream got:\n${upstream.map((s) => `  ${s.path} model=${s.body.model} stream=${s.body.stream} max_tokens=${s.body.max_tokens} keys=${Object.keys(s.body).join(',')} roles=${(s.body.messages ?? []).map((m) => m.role).join(',')}`).join('\n')}`;
    console.log(`--- ${route}\n${described}`);
    return { r, requests, upstream, described };
  }

  // spendRows polls the spend log (written off the hot path, flushed every second) for want rows.
  async function spendRows(route, want) {
    const deadline = Date.now() + 8000;
    let rows = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/spend/logs?summarize=false`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      assert.equal(res.status, 200, `/spend/logs: ${res.status}`);
      rows = (await res.json()).filter((row) => row.model_group === route);
      if (rows.length >= want) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
    return rows;
  }

  function checkTurn({ r, requests, upstream, described }, api) {
    assert.equal(r.code, 0, `claude -p failed:\n${described}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.is_error, false, `claude reported an error:\n${described}`);
    assert.ok(String(out.result).includes(secret), `the answer quotes the file's code word ${secret}:\n${described}`);
    const calls = upstream.filter((s) => s.path === (api === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'));
    const results = calls.filter((s) => JSON.stringify(s.body.messages ?? []).includes(secret));
    assert.ok(results.length >= 1, `a request carried the Read tool's result with the file's content:\n${described}`);
    assert.ok(requests.length >= 2, `Claude Code made its calls through the gateway:\n${described}`);
    for (const e of requests) {
      assert.ok(e.status >= 200 && e.status < 300, `every request Claude Code made is answered with a 2xx: ${e.method} ${e.url} got ${e.status}\n${described}`);
    }
  }

  test('a turn that runs the Read tool on a Claude route passes through untranslated', async () => {
    const turn = await claude('claude-route');
    checkTurn(turn, 'anthropic');
    // Pass-through: what Claude Code sent reached Anthropic's API whole, betas included.
    const messagesCalls = turn.requests.filter((e) => e.url.startsWith('/v1/messages') && !e.url.includes('count_tokens'));
    const sentBeta = messagesCalls.map((e) => e.beta).find((b) => b);
    const upCalls = turn.upstream.filter((s) => s.path === '/v1/messages');
    assert.ok(sentBeta, `Claude Code sent anthropic-beta:\n${turn.described}`);
    assert.ok(upCalls.some((s) => s.header['anthropic-beta']?.includes(sentBeta.split(',')[0])), `the upstream got anthropic-beta ${sentBeta}:\n${turn.described}`);
    assert.ok(upCalls.every((s) => s.body.metadata?.user_id), `metadata.user_id reached the upstream:\n${turn.described}`);
    // Byte for byte: each body Claude Code sent is the body Anthropic's API got, but for the model.
    const sent = messagesCalls.map((e) => e.raw);
    assert.equal(sent.length, upCalls.length, `one upstream call per Messages call:\n${turn.described}`);
    sent.forEach((raw, i) => {
      assert.ok(raw.includes('"model":"claude-route"'), `Claude Code named the route: ${raw.slice(0, 200)}`);
      assert.equal(upCalls[i].raw, raw.replace('"model":"claude-route"', `"model":"${ANTHROPIC_MODEL}"`), `call ${i}: the upstream body differs from Claude Code's beyond the model`);
    });
    const rows = await spendRows('claude-route', upCalls.length);
    assert.equal(rows.length, upCalls.length, `one spend row per upstream call: ${JSON.stringify(rows.map((r) => r.request_id))}\n${turn.described}`);
    for (const row of rows) {
      // Anthropic's input leaves the cache out: prompt = 100 + 20 + 50.
      assert.equal(row.prompt_tokens, 170, `prompt tokens of ${row.request_id}`);
      assert.equal(row.completion_tokens, 30, `completion tokens of ${row.request_id}`);
      assert.equal(row.call_type, 'anthropic_messages');
      const want = 100 * 1e-6 + 20 * 2e-6 + 50 * 1e-7 + 30 * 8e-6;
      assert.ok(Math.abs(row.spend - want) < 1e-12, `spend of ${row.request_id}: ${row.spend}, want ${want}`);
    }
  });

  test('a turn that runs the Read tool on an OpenAI route is translated', async () => {
    const turn = await claude('openai-route');
    checkTurn(turn, 'openai');
    const calls = turn.upstream.filter((s) => s.path === '/v1/chat/completions');
    for (const s of calls) {
      assert.ok((s.body.max_tokens ?? s.body.max_completion_tokens ?? 0) <= 8192, `max_tokens lowered to the model's 8192: ${s.body.max_tokens}`);
    }
    // Claude Code's mid-conversation system message (after the user's turn) was folded in as a
    // system message at its place, where it used to be a 400.
    assert.ok(calls.some((s) => (s.body.messages ?? []).slice(1).some((m) => m.role === 'system')), `a mid-conversation system message reached the upstream:\n${turn.described}`);
    const lowered = turn.requests.map((e) => e.clawgate['x-clawgate-max-tokens-lowered']).filter(Boolean);
    console.log(`max_tokens lowered: ${JSON.stringify(lowered)}`);
    assert.ok(lowered.length > 0 && lowered.every((v) => v.endsWith('->8192')), `the gateway said it lowered max_tokens: ${JSON.stringify(lowered)}`);
    const rows = await spendRows('openai-route', calls.length);
    assert.equal(rows.length, calls.length, `one spend row per upstream call\n${turn.described}`);
    for (const row of rows) {
      assert.equal(row.prompt_tokens, 120);
      assert.equal(row.completion_tokens, 25);
    }
  });
});
