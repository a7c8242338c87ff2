// End to end with the real OpenClaw: `clawgate serve` in front of the fake upstream, OpenClaw's
// own config pointing at the gateway, two headless `openclaw agent exec` turns, a model switch in
// between, and the gateway's spend log showing both turns on the right models.
//
// This file runs under the machine's Node (20 is fine): it only spawns processes. OpenClaw itself
// runs under the Node 24 that e2e/openclaw/install.sh puts in the cache (OPENCLAW_DIR, NODE24_BIN).
// Run it with e2e/openclaw/run.sh, which installs OpenClaw and builds the binaries.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile, stat, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requireBin, freePort, start, stop, serveGateway } from '../harness.mjs';
import { OPENCLAW_ENTRY, NODE24_BIN, run, describeRun, lastJSON } from './kit.mjs';

const MASTER_KEY = 'sk-master-e2e-openclaw';
const UPSTREAM_KEY = 'sk-upstream-openclaw';
// The fake upstream's recorded text answer (internal/fakeupstream/testdata/chat_completion.json).
const HELLO = 'Hello! How can I assist you today?';
// OpenClaw's model names (the gateway's routes) and the upstream model ids behind them differ,
// so a gateway that forwards OpenClaw's model name unchanged fails; both ids are in the price table.
const UPSTREAM = { 'mock-a': 'gpt-4o-mini', 'mock-b': 'gpt-4.1-mini', 'mock-paid': 'gpt-4o-mini' };
// Every answer is the text recording: 19 prompt tokens (6 cached) and 10 completion tokens, so a
// request costs 13 × input + 6 × cached + 10 × output at the upstream model's table prices.
const REQUEST_COST = {
  'mock-a': 8.4e-6, // gpt-4o-mini: 13×0.15e-6 + 6×0.075e-6 + 10×0.6e-6
  'mock-b': 21.8e-6, // gpt-4.1-mini: 13×0.4e-6 + 6×0.1e-6 + 10×1.6e-6
  // A route priced by model_info so that one request costs what an agent's turn really does:
  // no input price, $0.04 per output token × 10 tokens = $0.40 a request.
  'mock-paid': 0.4,
};
// OpenClaw's key gets a $1 daily budget for the budget test: three $0.40 turns are served (the
// third starts at $0.80 spent, below the limit, and ends at $1.20), the fourth is refused.
const DAILY_BUDGET = 1;
// A user's own line in their config: whatever edits the file must keep it.
const USER_COMMENT = '// my own note: keep this line';

describe('the real OpenClaw through clawgate serve', { timeout: 1800000 }, () => {
  let dir; // everything throwaway lives here
  let home; // OpenClaw's HOME; ~/.openclaw is under it
  let work; // --cwd for the agent
  let dataDir;
  let configYAML;
  let port;
  let base;
  let fake;
  let gateway;
  let clawgateBin;
  let firstRequest; // what the fake upstream received on the first turn, kept for reading
  const logs = [];

  const openclawConfig = () => path.join(home, '.openclaw', 'openclaw.json');
  const openclawEnvFile = () => path.join(home, '.openclaw', '.env');

  // env for OpenClaw and `clawgate openclaw`: the throwaway HOME, Node 24 first on PATH, and
  // none of the developer's OpenClaw or LiteLLM settings (the key must come from ~/.openclaw/.env).
  function childEnv() {
    const env = { ...process.env };
    for (const k of Object.keys(env)) {
      if (k.startsWith('OPENCLAW_') || k.startsWith('LITELLM_') || k.startsWith('CLAWGATE_') || k.startsWith('XDG_')) delete env[k];
    }
    return {
      ...env,
      HOME: home,
      PATH: `${path.dirname(NODE24_BIN)}:${env.PATH}`,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      NO_COLOR: '1',
    };
  }

  async function openclaw(label, args, timeoutMs) {
    const r = await run(`openclaw ${label}`, NODE24_BIN, [OPENCLAW_ENTRY, ...args], { env: childEnv(), cwd: work, timeoutMs });
    logs.push(`### openclaw ${args.join(' ')}\n${describeRun(r)}`);
    return r;
  }

  // clawgateOpenclaw runs `clawgate openclaw ARGS` with the gateway's config and data dir in its
  // environment as well as any flags, so it finds the same ledger the running gateway uses.
  async function clawgateOpenclaw(args) {
    const env = { ...childEnv(), CLAWGATE_CONFIG: configYAML, CLAWGATE_DATA_DIR: dataDir, LITELLM_MASTER_KEY: MASTER_KEY };
    const r = await run('clawgate openclaw', clawgateBin, ['openclaw', ...args], { env, cwd: work, timeoutMs: 60000 });
    logs.push(`### clawgate openclaw ${args.join(' ')}\n${describeRun(r)}`);
    assert.equal(r.code, 0, `clawgate openclaw ${args.join(' ')} failed: ${describeRun(r)}`);
    return r;
  }

  // One agent turn; returns the --json envelope after checking it succeeded.
  async function turn(prompt) {
    const r = await openclaw('agent exec', ['agent', 'exec', prompt, '--cwd', work, '--json'], 180000);
    const out = lastJSON(r.stdout);
    assert.ok(out, `openclaw agent exec printed no JSON envelope: ${describeRun(r)}`);
    assert.equal(out.ok, true, `the turn failed: ${JSON.stringify(out.error ?? out).slice(0, 2000)}\n${describeRun(r)}`);
    assert.equal(r.code, 0, `openclaw agent exec: ${describeRun(r)}`);
    return out;
  }

  async function upstreamLast() {
    const res = await fetch(`${fake.url}/_fake/last`);
    assert.equal(res.status, 200);
    return res.json();
  }

  async function spendRows(query = '') {
    const res = await fetch(`${base}/spend/logs?summarize=false${query}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    const text = await res.text();
    assert.equal(res.status, 200, `GET /spend/logs: ${res.status} ${text}`);
    const rows = JSON.parse(text);
    assert.ok(Array.isArray(rows), `/spend/logs answered ${text.slice(0, 500)}`);
    return rows.sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  }

  // waitSpend polls the spend log until it holds want rows: the gateway writes them in batches
  // about once a second, and polling is the only signal it gives.
  async function waitSpend(want, query = '', timeoutMs = 8000) {
    const deadline = Date.now() + timeoutMs;
    let rows = [];
    while (Date.now() < deadline) {
      rows = await spendRows(query);
      if (rows.length >= want) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`spend log has ${rows.length} rows after ${timeoutMs} ms, want ${want}: ${JSON.stringify(rows.map((r) => r.model_group))}`);
  }

  // gatewayKey is the key OpenClaw sends: LITELLM_API_KEY from ~/.openclaw/.env.
  async function gatewayKey() {
    const text = await readFile(openclawEnvFile(), 'utf8');
    const m = text.match(/^\s*(?:export\s+)?LITELLM_API_KEY\s*=\s*["']?([^"'\s#]+)/m);
    assert.ok(m, `no LITELLM_API_KEY in ${openclawEnvFile()}:\n${text}`);
    return m[1];
  }

  before(async () => {
    // A missing install is a failure with the fix in the message, never a skip.
    for (const [what, p] of [
      ['NODE24_BIN', NODE24_BIN],
      ['OpenClaw (OPENCLAW_DIR)', OPENCLAW_ENTRY],
    ]) {
      if (!existsSync(p)) throw new Error(`${what}: ${p} does not exist: run e2e/openclaw/install.sh (or e2e/openclaw/run.sh)`);
    }
    clawgateBin = requireBin('CLAWGATE_BIN');
    const fakeBin = requireBin('FAKEUPSTREAM_BIN');
    // `clawgate openclaw` does the config edits; a build without it fails here, loudly.
    const help = spawnSync(clawgateBin, ['openclaw', '--help'], { stdio: 'ignore', timeout: 30000 });
    if (help.status !== 0) throw new Error(`${clawgateBin} openclaw --help exited ${help.status}: this build has no openclaw command`);

    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-openclaw-'));
    home = path.join(dir, 'home');
    work = path.join(dir, 'work');
    dataDir = path.join(dir, 'data');
    await mkdir(path.join(home, '.openclaw'), { recursive: true, mode: 0o700 });
    await mkdir(work, { recursive: true });

    fake = await start('fakeupstream', fakeBin, ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    configYAML = path.join(dir, 'config.yaml');
    // x-fake-mode: text, because OpenClaw offers tools on every request and ends each tool round
    // with a user message; the fake would call a tool each time and the turn would never end.
    const deployment = (name, info = []) => [
      `  - model_name: ${name}`,
      '    litellm_params:',
      `      model: openai/${UPSTREAM[name]}`,
      `      api_base: "${fake.url}/v1"`,
      `      api_key: ${UPSTREAM_KEY}`,
      '      extra_headers:',
      '        x-fake-mode: text',
      ...info,
    ];
    const paid = ['    model_info: {input_cost_per_token: 0, output_cost_per_token: 0.04, cache_read_input_token_cost: 0}'];
    await writeFile(
      configYAML,
      ['model_list:', ...deployment('mock-a'), ...deployment('mock-b'), ...deployment('mock-paid', paid), 'general_settings:', `  master_key: ${MASTER_KEY}`, ''].join('\n'),
    );
    // The gateway's HOME is dir (OpenClaw's is dir/home) and its data dir/data (= dataDir).
    // Under E2E_PASSTHROUGH the forwarding proxy sends x-fake-mode itself, as extra_headers would.
    ({ gateway } = await serveGateway(dir, configYAML, port, { passthroughHeaders: { 'x-fake-mode': 'text' } }));

    // The user's OpenClaw config before Clawgate touches it: hand-written JSON5 with a comment,
    // a gateway block as onboarding writes it, and no litellm provider yet.
    await writeFile(
      openclawConfig(),
      [
        USER_COMMENT,
        '{',
        '  gateway: { mode: "local", port: 18789, bind: "loopback" },',
        '  agents: {',
        '    defaults: {',
        '      workspace: "~/.openclaw/workspace",',
        '    },',
        '  },',
        '}',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  });

  after(async () => {
    if (gateway?.exited) {
      logs.push(`### clawgate exited early: ${JSON.stringify(gateway.exited)}`);
    }
    await stop(gateway);
    await stop(fake);
    // Kept for reading after a failure; e2e/openclaw/.gitignore keeps them out of git.
    if (gateway) await writeFile(new URL('./last-gateway.log', import.meta.url), gateway.output);
    if (firstRequest) await writeFile(new URL('./last-request.json', import.meta.url), JSON.stringify(firstRequest, null, 2));
    await writeFile(new URL('./last-openclaw.log', import.meta.url), logs.join('\n\n'));
    if (dir && process.env.E2E_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  });

  test('connect: OpenClaw points at the gateway with a key it accepts', async () => {
    await clawgateOpenclaw(['connect', '--data-dir', dataDir, '--port', String(port)]);
    await clawgateOpenclaw(['sync']);
    await clawgateOpenclaw(['use', 'mock-a']);
    const key = await gatewayKey();
    assert.notEqual(key, MASTER_KEY, 'connect should mint a virtual key, not hand out the master key');
    const res = await fetch(`${base}/key/info?key=${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    const info = await res.json();
    assert.equal(res.status, 200, JSON.stringify(info));
    assert.equal(info.info?.key_alias, 'openclaw', `/key/info: ${JSON.stringify(info)}`);
    const cfg = await readFile(openclawConfig(), 'utf8');
    assert.ok(cfg.includes(USER_COMMENT), `the user's comment was lost:\n${cfg}`);
    assert.ok(cfg.includes(`${base}/v1`) || cfg.includes(base), `baseUrl does not point at ${base}:\n${cfg}`);
    assert.match(cfg, /litellm\/mock-a/);
    assert.equal((await stat(openclawEnvFile())).mode & 0o777, 0o600, '~/.openclaw/.env must be 0600');
  });

  test('openclaw config validate accepts the file', async () => {
    const r = await openclaw('config validate', ['config', 'validate'], 60000);
    assert.equal(r.code, 0, `openclaw config validate: ${describeRun(r)}`);
    assert.match(r.stdout + r.stderr, /Config valid/);
  });

  test('a turn on mock-a goes through the gateway', async () => {
    const before = (await upstreamLast()).requests;
    const out = await turn('Say PONG');
    assert.equal(out.final, HELLO, `final text: ${JSON.stringify(out).slice(0, 2000)}`);
    assert.equal(out.provider, 'litellm');
    assert.equal(out.model, 'mock-a');

    // What reached the fake upstream came from the gateway (its upstream key and user agent),
    // carrying OpenClaw's request.
    const last = await upstreamLast();
    firstRequest = last;
    assert.ok(last.requests > before, `the fake upstream saw no request (before ${before}, after ${last.requests})`);
    assert.equal(last.header.Authorization?.[0], `Bearer ${UPSTREAM_KEY}`);
    assert.equal(last.header['X-Fake-Mode']?.[0], 'text', 'extra_headers did not reach the upstream');
    const body = last.body;
    assert.equal(body.model, UPSTREAM['mock-a'], "the upstream got mock-a's upstream model id");
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.tool_choice, 'auto');
    // connect synced mock-a with a maxTokens; OpenClaw asks for exactly that (it fits the window).
    // mock-a's entry runs to the next id; a priced model has a cost object before maxTokens.
    const synced = /id: "mock-a"(?:(?!id: ")[\s\S])*?maxTokens: (\d+)/.exec(await readFile(openclawConfig(), 'utf8'));
    assert.ok(synced, 'connect wrote no maxTokens for mock-a');
    assert.equal(body.max_completion_tokens, Number(synced[1]), 'OpenClaw asks for the synced output budget');
    assert.equal(body.messages[0].role, 'system');
    assert.ok(body.messages.some((m) => m.role === 'user' && JSON.stringify(m.content).includes('Say PONG')), 'the prompt is not in the messages');
    assert.ok(body.tools.length >= 5, `OpenClaw offers its tools; got ${body.tools.length}`);
    for (const t of body.tools) assert.equal(t.type, 'function');

    // One spend row for each request the gateway sent upstream.
    const rows = await waitSpend(last.requests - before);
    assert.equal(rows.length, last.requests - before, JSON.stringify(rows.map((r) => r.request_id)));
    assert.deepEqual([...new Set(rows.map((r) => r.model_group))], ['mock-a'], JSON.stringify(rows.map((r) => r.model_group)));
    assert.deepEqual([...new Set(rows.map((r) => r.model))], [UPSTREAM['mock-a']], JSON.stringify(rows.map((r) => r.model)));
    assert.ok(rows.every((r) => r.status === 'success'), JSON.stringify(rows.map((r) => r.status)));
  });

  test('switching the primary model to mock-b: the next turn lands on mock-b', async () => {
    await clawgateOpenclaw(['use', 'mock-b']);
    const cfg = await readFile(openclawConfig(), 'utf8');
    assert.match(cfg, /"?primary"?\s*:\s*"litellm\/mock-b"/);
    assert.ok(cfg.includes(USER_COMMENT), `the user's comment was lost:\n${cfg}`);
    const r = await openclaw('config validate', ['config', 'validate'], 60000);
    assert.equal(r.code, 0, `openclaw config validate after the switch: ${describeRun(r)}`);

    const firstTurnRows = (await spendRows()).length;
    const before = (await upstreamLast()).requests;
    const out = await turn('Say PONG again');
    assert.equal(out.final, HELLO);
    assert.equal(out.model, 'mock-b');
    const last = await upstreamLast();
    assert.equal(last.body.model, UPSTREAM['mock-b'], "the upstream got mock-b's upstream model id");
    const sent = last.requests - before;
    assert.ok(sent > 0, 'the second turn sent nothing upstream');

    // The spend log has both turns, mock-a first, under the key OpenClaw was given.
    const key = await gatewayKey();
    const rows = await waitSpend(firstTurnRows + sent, `&api_key=${encodeURIComponent(key)}`);
    assert.equal(rows.length, firstTurnRows + sent, `spend rows under OpenClaw's key: ${JSON.stringify(rows.map((r) => r.model_group))}`);
    const groups = rows.map((r) => r.model_group);
    const order = groups.filter((g, i) => i === 0 || g !== groups[i - 1]);
    assert.deepEqual(order, ['mock-a', 'mock-b'], `model groups in time order: ${JSON.stringify(groups)}`);
    for (const row of rows) {
      assert.equal(row.status, 'success');
      assert.equal(row.model, UPSTREAM[row.model_group], `row ${row.request_id}: upstream model`);
      assert.equal(row.prompt_tokens, 19, `row ${row.request_id}: prompt_tokens`);
      assert.equal(row.completion_tokens, 10, `row ${row.request_id}: completion_tokens`);
      const want = REQUEST_COST[row.model_group];
      assert.ok(Math.abs(row.spend - want) < 1e-12, `row ${row.request_id} (${row.model_group}) costs ${row.spend}, want ${want}`);
    }
  });

  // The product's promise: put OpenClaw behind a budget and forget it. Turns are served until the
  // budget is spent; the next turn is refused after ONE request (the refusal's words end
  // OpenClaw's retries), OpenClaw shows the gateway's message, and the refusal is in the spend log.
  test('a daily budget on OpenClaw\'s key: turns until it is spent, then one refused request', async () => {
    await clawgateOpenclaw(['use', 'mock-paid']);
    const key = await gatewayKey();
    const upd = await fetch(`${base}/key/update`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key, max_budget: DAILY_BUDGET, budget_duration: 'daily', spend: 0 }),
    });
    assert.equal(upd.status, 200, `POST /key/update: ${await upd.text()}`);
    const info = async () => (await (await fetch(`${base}/key/info?key=${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json()).info;
    const startSpend = (await info()).spend;
    assert.equal(startSpend, 0, 'the key starts the window with nothing spent');

    // Turns are served while the key's spend is below the limit; each request costs $0.40.
    let r;
    let out;
    let before;
    let refusedRowsBefore;
    let served = 0;
    for (let i = 1; i <= 6; i++) {
      const spentBefore = (await info()).spend;
      before = (await upstreamLast()).requests;
      refusedRowsBefore = (await spendRows(`&api_key=${encodeURIComponent(key)}`)).filter((x) => x.status === 'failure').length;
      r = await openclaw(`agent exec (turn ${i})`, ['agent', 'exec', `Say PONG ${i}`, '--cwd', work, '--json'], 180000);
      out = lastJSON(r.stdout);
      if (spentBefore >= DAILY_BUDGET) break; // this turn must be the refused one
      assert.equal(out?.ok, true, `turn ${i} with $${spentBefore} of $${DAILY_BUDGET} spent was refused: ${describeRun(r)}`);
      assert.equal(out.model, 'mock-paid');
      served++;
    }
    const spent = (await info()).spend;
    assert.ok(served >= 1 && spent >= DAILY_BUDGET && spent < DAILY_BUDGET + REQUEST_COST['mock-paid'] + 1e-9,
      `${served} turns served, key spend ${spent}: refusal must start once spend reaches $${DAILY_BUDGET}, and not before`);
    assert.equal((await upstreamLast()).requests, before, 'the refused turn reached the upstream');
    const said = JSON.stringify(out ?? {}) + r.stdout + r.stderr;
    assert.ok(out?.ok !== true, `the turn over budget succeeded: ${describeRun(r)}`);
    assert.match(said, /usage limit/, `OpenClaw does not show the gateway's budget message: ${describeRun(r)}`);
    assert.match(said, /daily budget of \$1\.00/, `the message names the window and the limit: ${describeRun(r)}`);

    // One refusal row for this turn, counting one request: OpenClaw did not retry.
    const rows = await waitSpend(1, `&api_key=${encodeURIComponent(key)}`);
    let refused = rows.filter((x) => x.status === 'failure');
    // Identical refusals are folded for 5 s before their row is written.
    const deadline = Date.now() + 15000;
    while (refused.length <= refusedRowsBefore && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      refused = (await spendRows(`&api_key=${encodeURIComponent(key)}`)).filter((x) => x.status === 'failure');
    }
    assert.equal(refused.length, refusedRowsBefore + 1, `refusal rows: ${JSON.stringify(refused)}`);
    const row = refused[refused.length - 1];
    assert.equal(row.model_group, 'mock-paid');
    assert.match(JSON.stringify(row), /usage limit/, 'the row says why');
    const count = row.metadata?.count ?? 1;
    assert.equal(count, 1, `OpenClaw retried the refused request: ${JSON.stringify(row)}`);
  });
});
