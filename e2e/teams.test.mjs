// LiteLLM's team and user flow against `clawgate serve`, with curl-shaped calls for the admin API
// and the real openai SDK for the traffic: a team with a budget, a user in it, a key for the user;
// the key spends until the team's budget refuses, in words that name the team; a blocked team's
// key is refused; the team's spend survives a restart; deleting the team deletes its key.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { requireBin, freePort, start, stop, serveGateway } from './harness.mjs';

const MASTER_KEY = 'sk-master-teams-test';
const UPSTREAM_KEY = 'sk-upstream';
const MODEL = 'claw-team';
// One call's cost at gpt-4o-mini's prices, as in ledger.test.mjs (19 prompt tokens, 6 cached, 10
// completion tokens): 13×0.15e-6 + 6×0.075e-6 + 10×0.6e-6.
const CALL_COST = 8.4e-6;
// Room for three calls and a half: the fourth is refused.
const TEAM_BUDGET = 3.5 * CALL_COST;

describe('teams and users against clawgate serve', { timeout: 120000 }, () => {
  let fake;
  let gateway;
  let base;
  let dir;
  let config;
  let port;
  let userKey;

  async function admin(method, route, body) {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${route}: ${res.status} not JSON: ${text.slice(0, 200)}`);
    }
    return { status: res.status, json };
  }

  async function ok(method, route, body) {
    const r = await admin(method, route, body);
    assert.equal(r.status, 200, `${method} ${route}: ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  }

  function chat(key) {
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });
    return client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 });
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-teams-'));
    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    config = path.join(dir, 'config.yaml');
    await writeFile(config, [
      'model_list:',
      `  - model_name: ${MODEL}`,
      `    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: ${UPSTREAM_KEY}}`,
      `general_settings: {master_key: ${MASTER_KEY}}`,
      '',
    ].join('\n'));
    port = await freePort();
    ({ gateway, base } = await serveGateway(dir, config, port));
  });

  after(async () => {
    await stop(gateway);
    await stop(fake);
  });

  test('a team with a budget, a user in it, a key for the user', async () => {
    const team = await ok('POST', '/team/new', {
      team_id: 'eng', team_alias: 'Engineering', max_budget: TEAM_BUDGET, budget_duration: '30d', models: [MODEL],
      members_with_roles: [{ role: 'admin', user_id: 'ana' }],
    });
    assert.equal(team.team_id, 'eng');
    assert.equal(team.max_budget, TEAM_BUDGET);
    assert.ok(new Date(team.budget_reset_at) > new Date(), 'a 30d budget resets in the future');
    assert.deepEqual(team.members_with_roles, [{ role: 'admin', user_id: 'ana', user_email: null }]);
    const user = await ok('POST', '/user/new', { user_id: 'bob', teams: ['eng'], auto_create_key: false });
    assert.deepEqual(user.teams, ['eng']);
    const key = await ok('POST', '/key/generate', { team_id: 'eng', user_id: 'bob' });
    assert.equal(key.team_id, 'eng');
    userKey = key.key;
    const outside = await admin('POST', '/key/generate', { team_id: 'eng', models: ['gpt-4o'] });
    assert.equal(outside.status, 400);
    assert.match(outside.json.error.message, /not in team's allowed models/);
  });

  test('the key spends until the team budget refuses, naming the team', async () => {
    let served = 0;
    let refused;
    for (let i = 0; i < 10 && !refused; i++) {
      try {
        await chat(userKey);
        served++;
      } catch (err) {
        refused = err;
      }
    }
    assert.equal(served, 4, 'three calls and a half fit: the fourth starts below the budget, the fifth is refused');
    assert.equal(refused?.status, 429);
    assert.equal(refused.error?.type, 'budget_exceeded');
    assert.match(refused.message, /^429 Team Engineering reached its usage limit/);
    assert.match(refused.message, /Budget has been exceeded! Team=eng/);
    const info = await ok('GET', '/team/info?team_id=eng');
    assert.ok(Math.abs(info.team_info.spend - served * CALL_COST) < 1e-12, `team spend ${info.team_info.spend}`);
    const bob = await ok('GET', '/user/info?user_id=bob');
    assert.ok(Math.abs(bob.user_info.spend - served * CALL_COST) < 1e-12, `bob's spend ${bob.user_info.spend}`);
    // The rows carry the team and the key's user (the writer flushes each second: poll a little).
    let rows = [];
    for (let i = 0; i < 40 && rows.length < served; i++) {
      rows = (await ok('GET', '/spend/logs?team_id=eng&summarize=false')).filter((r) => r.status === 'success');
      if (rows.length < served) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(rows.length, served);
    for (const r of rows) {
      assert.equal(r.team_id, 'eng');
      assert.equal(r.user, 'bob');
    }
  });

  test("the team's spend survives a restart; raising its budget lets the key in", async () => {
    await stop(gateway);
    ({ gateway, base } = await serveGateway(dir, config, port));
    const info = await ok('GET', '/team/info?team_id=eng');
    assert.ok(Math.abs(info.team_info.spend - 4 * CALL_COST) < 1e-12, `team spend after restart ${info.team_info.spend}`);
    await assert.rejects(chat(userKey), (err) => err.status === 429);
    await ok('POST', '/team/update', { team_id: 'eng', max_budget: 1 });
    await chat(userKey);
  });

  test("a blocked team's key is refused; unblocked, it works", async () => {
    const blocked = await ok('POST', '/team/block', { team_id: 'eng' });
    assert.equal(blocked.blocked, true);
    await assert.rejects(chat(userKey), (err) => err.status === 401 && /Team=eng is blocked/.test(err.message));
    await ok('POST', '/team/unblock', { team_id: 'eng' });
    await chat(userKey);
  });

  test('deleting the team deletes its key; organizations are not served', async () => {
    const del = await ok('POST', '/team/delete', { team_ids: ['eng'] });
    assert.equal(del.deleted_keys.length, 1);
    await assert.rejects(chat(userKey), (err) => err.status === 401);
    const org = await admin('POST', '/organization/new', { organization_alias: 'acme' });
    assert.equal(org.status, 501);
    assert.match(org.json.error.message, /not supported by Clawgate/);
  });
});
