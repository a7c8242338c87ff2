// OpenClaw through Clawgate the way people run it every day, with the real OpenClaw: two profiles
// each with its own key (one through OpenClaw's own gateway, restarted after its key changed), an
// agent that pins its own model, and a switch while OpenClaw holds its config lock.
//
// Like openclaw.test.mjs this runs under the machine's Node and spawns OpenClaw under the Node 24
// that install.sh cached. Run it with e2e/openclaw/run.sh (both files) or
// `e2e/openclaw/run.sh e2e/openclaw/daily.test.mjs` (this one only).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requireBin, freePort, start, stop, serveGateway, waitHealthy } from '../harness.mjs';
import { OPENCLAW_ENTRY, NODE24_BIN, run, describeRun, lastJSON } from './kit.mjs';

const MASTER_KEY = 'sk-master-e2e-openclaw-daily';
const UPSTREAM_KEY = 'sk-upstream-openclaw-daily';
const HELLO = 'Hello! How can I assist you today?';
const UPSTREAM = { 'mock-a': 'gpt-4o-mini', 'mock-b': 'gpt-4.1-mini' };
const GATEWAY_TOKEN = 'oc-gateway-token-e2e-daily';

describe('OpenClaw daily use: profiles, pinned agents, locks', { timeout: 1800000 }, () => {
  let dir;
  let home;
  let work; // --cwd for the agent
  let binDir; // holds an `openclaw` command, as a user's PATH would
  let dataDir;
  let configYAML;
  let base;
  let fake;
  let gateway;
  let clawgateBin;
  let ocPort; // OpenClaw's own gateway (default profile)
  let ocGateway; // its process, while it runs
  const logs = [];

  const stateDir = (profile) => path.join(home, profile ? `.openclaw-${profile}` : '.openclaw');
  const configOf = (profile) => path.join(stateDir(profile), 'openclaw.json');

  // env for OpenClaw and `clawgate openclaw` in a profile ("" = the default one).
  function envFor(profile) {
    const env = { ...process.env };
    for (const k of Object.keys(env)) {
      if (k.startsWith('OPENCLAW_') || k.startsWith('LITELLM_') || k.startsWith('CLAWGATE_') || k.startsWith('XDG_')) delete env[k];
    }
    Object.assign(env, {
      HOME: home,
      PATH: `${binDir}:${path.dirname(NODE24_BIN)}:${env.PATH}`,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      NO_COLOR: '1',
    });
    if (profile) env.OPENCLAW_STATE_DIR = stateDir(profile);
    return env;
  }

  async function openclaw(label, profile, args, timeoutMs = 180000) {
    const r = await run(`openclaw ${label}`, NODE24_BIN, [OPENCLAW_ENTRY, ...args], { env: envFor(profile), cwd: work, timeoutMs });
    logs.push(`### [${profile || 'default'}] openclaw ${args.join(' ')}\n${describeRun(r)}`);
    return r;
  }

  async function clawgate(profile, args, want = 0) {
    const env = { ...envFor(profile), CLAWGATE_CONFIG: configYAML, CLAWGATE_DATA_DIR: dataDir, LITELLM_MASTER_KEY: MASTER_KEY };
    const r = await run('clawgate openclaw', clawgateBin, ['openclaw', ...args], { env, cwd: work, timeoutMs: 120000 });
    logs.push(`### [${profile || 'default'}] clawgate openclaw ${args.join(' ')}\n${describeRun(r)}`);
    assert.equal(r.code, want, `clawgate openclaw ${args.join(' ')} (profile ${profile || 'default'}): ${describeRun(r)}`);
    return r;
  }

  // turn runs one headless turn in a profile and returns its --json envelope after checking it.
  async function turn(profile, prompt) {
    const r = await openclaw('agent exec', profile, ['agent', 'exec', prompt, '--cwd', work, '--json']);
    const out = lastJSON(r.stdout);
    assert.ok(out, `no JSON envelope: ${describeRun(r)}`);
    assert.equal(out.ok, true, `the turn failed: ${JSON.stringify(out.error ?? out).slice(0, 2000)}\n${describeRun(r)}`);
    return out;
  }

  // gatewayTurn runs one turn through OpenClaw's running gateway (no --local).
  async function gatewayTurn(prompt) {
    const r = await openclaw('agent (gateway)', '', ['agent', '--agent', 'main', '--session-id', `s-${Date.now()}`, '--message', prompt, '--json']);
    const out = lastJSON(r.stdout);
    assert.equal(r.code, 0, `openclaw agent through the gateway: ${describeRun(r)}`);
    assert.ok(out, `no JSON envelope: ${describeRun(r)}`);
    return out;
  }

  async function upstreamRequests() {
    const res = await fetch(`${fake.url}/_fake/last`);
    return (await res.json()).requests;
  }

  async function envKey(profile) {
    const text = await readFile(path.join(stateDir(profile), '.env'), 'utf8');
    const m = text.match(/^\s*(?:export\s+)?LITELLM_API_KEY\s*=\s*["']?([^"'\s#]+)/m);
    assert.ok(m, `no LITELLM_API_KEY in ${profile || 'default'}'s .env:\n${text}`);
    return m[1];
  }

  async function keyInfo(key) {
    const res = await fetch(`${base}/key/info?key=${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    return { status: res.status, body: await res.json() };
  }

  // spendOf returns the spend-log rows of a key, polling until there are at least want.
  async function spendOf(key, want) {
    const deadline = Date.now() + 8000;
    let rows = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/spend/logs?summarize=false&api_key=${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      rows = await res.json();
      if (rows.length >= want) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`key has ${rows.length} spend rows after 8 s, want ${want}`);
  }

  // startOpenClawGateway runs `openclaw gateway run` for the default profile in its own process
  // group and waits for its readiness probe (/readyz: an agent call before it is ready times out);
  // it takes 40-80 s to get there on these machines.
  async function startOpenClawGateway() {
    const child = spawn(NODE24_BIN, [OPENCLAW_ENTRY, 'gateway', 'run'], { env: envFor(''), cwd: work, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const proc = { child, output: '', exited: null };
    const keep = (d) => {
      proc.output = (proc.output + d).slice(-20000);
      if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[openclaw gateway] ${d}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    proc.exit = new Promise((res) => child.on('exit', (code, signal) => res((proc.exited = { code, signal }))));
    try {
      await waitHealthy(`http://127.0.0.1:${ocPort}/readyz`, 240000);
    } catch (err) {
      logs.push(`### openclaw gateway run\n${proc.output}`);
      throw err;
    }
    ocGateway = proc;
  }

  async function stopOpenClawGateway() {
    if (!ocGateway || ocGateway.exited) return;
    const p = ocGateway;
    try {
      process.kill(-p.child.pid, 'SIGTERM');
    } catch {
      // gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-p.child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 20000);
    await p.exit;
    clearTimeout(timer);
    logs.push(`### openclaw gateway run (stopped)\n${p.output}`);
  }

  async function writeConfig(profile, lines) {
    await mkdir(stateDir(profile), { recursive: true, mode: 0o700 });
    await writeFile(configOf(profile), lines.join('\n') + '\n', { mode: 0o600 });
  }

  before(async () => {
    for (const [what, p] of [
      ['NODE24_BIN', NODE24_BIN],
      ['OpenClaw (OPENCLAW_DIR)', OPENCLAW_ENTRY],
    ]) {
      if (!existsSync(p)) throw new Error(`${what}: ${p} does not exist: run e2e/openclaw/install.sh (or e2e/openclaw/run.sh)`);
    }
    clawgateBin = requireBin('CLAWGATE_BIN');
    const fakeBin = requireBin('FAKEUPSTREAM_BIN');
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-openclaw-daily-'));
    home = path.join(dir, 'home');
    work = path.join(dir, 'work');
    binDir = path.join(dir, 'bin');
    dataDir = path.join(dir, 'data');
    await mkdir(work, { recursive: true });
    await mkdir(binDir, { recursive: true });
    // The `openclaw` command a user has on PATH, which `clawgate openclaw connect` calls to ask
    // whether a service runs OpenClaw's gateway.
    await writeFile(path.join(binDir, 'openclaw'), `#!/bin/sh\nexec "${NODE24_BIN}" "${OPENCLAW_ENTRY}" "$@"\n`);
    await chmod(path.join(binDir, 'openclaw'), 0o755);

    fake = await start('fakeupstream', fakeBin, ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ocPort = await freePort();
    configYAML = path.join(dir, 'config.yaml');
    const deployment = (name) => [
      `  - model_name: ${name}`,
      '    litellm_params:',
      `      model: openai/${UPSTREAM[name]}`,
      `      api_base: "${fake.url}/v1"`,
      `      api_key: ${UPSTREAM_KEY}`,
      '      extra_headers:',
      '        x-fake-mode: text',
    ];
    await writeFile(configYAML, ['model_list:', ...deployment('mock-a'), ...deployment('mock-b'), 'general_settings:', `  master_key: ${MASTER_KEY}`, ''].join('\n'));
    ({ gateway } = await serveGateway(dir, configYAML, port, { passthroughHeaders: { 'x-fake-mode': 'text' } }));

    await writeConfig('', [
      '// the default profile: OpenClaw\'s own gateway runs for it',
      '{',
      `  gateway: { mode: "local", port: ${ocPort}, bind: "loopback", auth: { mode: "token", token: "${GATEWAY_TOKEN}" } },`,
      '  agents: { defaults: { workspace: "~/.openclaw/workspace" } },',
      '}',
    ]);
    await writeConfig('work', ['{', '  agents: { defaults: { workspace: "~/.openclaw-work/workspace" } },', '}']);
    // One agent pinned to another provider: OpenClaw resolves the lone agent implicitly, so its
    // model wins over any default.
    await writeConfig('pinned', [
      '{',
      '  agents: {',
      '    defaults: { workspace: "~/.openclaw-pinned/workspace" },',
      '    entries: { coder: { model: "openai/gpt-4o" } },',
      '  },',
      '}',
    ]);
  });

  after(async () => {
    await stopOpenClawGateway();
    await stop(gateway);
    await stop(fake);
    if (gateway) await writeFile(new URL('./last-daily-gateway.log', import.meta.url), gateway.output);
    await writeFile(new URL('./last-daily-openclaw.log', import.meta.url), logs.join('\n\n'));
    if (dir && process.env.E2E_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  });

  test('connect refuses a URL where no gateway answers, unless forced', async () => {
    const dead = await freePort();
    const r = await clawgate('work', ['connect', '--port', String(dead)], 1);
    assert.match(r.stderr, /no Clawgate gateway answers at http:\/\/127\.0\.0\.1:\d+\/v1/);
    assert.match(r.stderr, /--force/);
    await assert.rejects(readFile(path.join(stateDir('work'), '.env'), 'utf8'), 'a refused connect wrote a key');
  });

  test('two profiles connected: each its own key, OpenClaw\'s gateway restarted, both keys working', async () => {
    const port = new URL(base).port;
    await clawgate('', ['connect', '--port', port]);
    await clawgate('', ['use', 'mock-a']);
    const kDefault = await envKey('');
    assert.equal((await keyInfo(kDefault)).body.info?.key_alias, 'openclaw');

    await startOpenClawGateway();
    // A turn through OpenClaw's gateway, on the default profile's key.
    let before = await upstreamRequests();
    let out = await gatewayTurn('Say PONG');
    assert.ok(JSON.stringify(out).includes(HELLO), `gateway turn: ${JSON.stringify(out).slice(0, 1500)}`);
    assert.ok((await upstreamRequests()) > before, 'the turn through OpenClaw\'s gateway did not reach the upstream');
    await spendOf(kDefault, 1);

    // Connecting the second profile mints its own key and leaves the first one alone.
    const c = await clawgate('work', ['connect', '--port', port]);
    await clawgate('work', ['use', 'mock-b']);
    const kWork = await envKey('work');
    assert.notEqual(kWork, kDefault);
    assert.equal((await keyInfo(kWork)).body.info?.key_alias, 'openclaw-work', c.stdout);
    assert.equal((await keyInfo(kDefault)).status, 200, 'connecting the work profile broke the default profile\'s key');
    assert.equal(await envKey(''), kDefault);

    // The default profile's key is lost (deleted in the gateway): connect writes a new one and
    // says that OpenClaw's running gateway keeps the old one until restarted by hand (no service
    // manager runs it here; `openclaw gateway status` says so).
    const del = await fetch(`${base}/key/delete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [kDefault] }),
    });
    assert.equal(del.status, 200, await del.text());
    const s = await clawgate('', ['status'], 1);
    assert.match(s.stdout, /key:\s+LITELLM_API_KEY from .*\.env: refused \(401\)/, s.stdout);
    const re = await clawgate('', ['connect', '--port', port]);
    const kDefault2 = await envKey('');
    assert.notEqual(kDefault2, kDefault);
    assert.match(re.stdout, new RegExp(`OpenClaw's gateway on port ${ocPort} is running and keeps sending the key it started with: it was started by hand`), re.stdout);

    await stopOpenClawGateway();
    await startOpenClawGateway();
    before = await upstreamRequests();
    out = await gatewayTurn('Say PONG after the restart');
    assert.ok(JSON.stringify(out).includes(HELLO), `gateway turn after the restart: ${JSON.stringify(out).slice(0, 1500)}`);
    assert.ok((await upstreamRequests()) > before);
    await spendOf(kDefault2, 1);

    // A switch while OpenClaw's gateway runs is hot-applied: the next turn through it is on mock-b.
    const applied = (ocGateway.output.match(/config hot reload applied/g) ?? []).length;
    await clawgate('', ['use', 'mock-b']);
    const deadline = Date.now() + 30000;
    while ((ocGateway.output.match(/config hot reload applied/g) ?? []).length <= applied) {
      assert.ok(Date.now() < deadline, `OpenClaw's gateway did not apply the switch within 30 s:\n${ocGateway.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    out = await gatewayTurn('Say PONG on mock-b');
    assert.ok(JSON.stringify(out).includes(HELLO));
    const last = await (await fetch(`${fake.url}/_fake/last`)).json();
    assert.equal(last.body.model, UPSTREAM['mock-b'], 'the turn after the hot-applied switch did not use mock-b');

    // And the work profile's turns go through on its own key.
    before = await upstreamRequests();
    out = await turn('work', 'Say PONG from work');
    assert.equal(out.model, 'mock-b');
    assert.ok((await upstreamRequests()) > before);
    await spendOf(kWork, 1);
    const st = await clawgate('work', ['status']);
    assert.match(st.stdout, /gateway:\s+http:\/\/127\.0\.0\.1:\d+\/v1 answers now/, st.stdout);
    assert.match(st.stdout, /key:\s+LITELLM_API_KEY from .*\.openclaw-work\/\.env: works/, st.stdout);
    await stopOpenClawGateway();
  });

  test('a pinned agent: use names it, --agents all switches it, and the next turn reaches the gateway', async () => {
    const port = new URL(base).port;
    await clawgate('pinned', ['connect', '--port', port]);
    // Default scope: the lone agent keeps openai/gpt-4o, so no agent would use the model: exit 1.
    const r = await clawgate('pinned', ['use', 'mock-a'], 1);
    assert.match(r.stdout, /agent coder keeps its own model openai\/gpt-4o \(agents\.entries\.coder\.model\); `--agents all` switches it too/, r.stdout);
    assert.match(r.stderr, /no agent will use litellm\/mock-a/);
    let s = await clawgate('pinned', ['status']);
    assert.match(s.stdout, /agent coder: openai\/gpt-4o, its own model/, s.stdout);

    await clawgate('pinned', ['use', 'mock-a', '--agents', 'all']);
    s = await clawgate('pinned', ['status']);
    assert.match(s.stdout, /agent coder: litellm\/mock-a, its own model/, s.stdout);
    const v = await openclaw('config validate', 'pinned', ['config', 'validate'], 60000);
    assert.equal(v.code, 0, describeRun(v));

    const before = await upstreamRequests();
    const out = await turn('pinned', 'Say PONG as coder');
    assert.equal(out.final, HELLO);
    assert.equal(out.model, 'mock-a');
    assert.ok((await upstreamRequests()) > before, 'the pinned agent\'s turn did not reach the gateway');
  });

  test('use while OpenClaw holds its config lock for 2 s waits and succeeds', async () => {
    const cfg = configOf('work');
    const lock = `${cfg}.lock`;
    // OpenClaw's lock file: {pid, createdAt}, held here by a live process (this one) for 2 s.
    await writeFile(lock, JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() }, null, 2) + '\n');
    const held = Date.now();
    const release = setTimeout(() => rm(lock, { force: true }), 2000);
    try {
      const r = await clawgate('work', ['use', 'mock-a']);
      assert.ok(Date.now() - held >= 2000, `use finished ${Date.now() - held} ms after the lock was taken: it did not wait`);
      assert.match(r.stdout, /litellm\/mock-a/);
    } finally {
      clearTimeout(release);
      await rm(lock, { force: true });
    }
    assert.match(await readFile(cfg, 'utf8'), /primary: "litellm\/mock-a"/);
    const v = await openclaw('config validate', 'work', ['config', 'validate'], 60000);
    assert.equal(v.code, 0, describeRun(v));
  });
});
