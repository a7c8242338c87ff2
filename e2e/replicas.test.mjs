// A team's deployment, outside in: three `clawgate serve` replicas from the real binary on one
// database, behind HAProxy configured from docs/deploy/haproxy.cfg with TLS ended there. The
// replicas share one SQLite data folder, or the PostgreSQL database in CLAWGATE_E2E_DATABASE_URL
// (or CLAWGATE_TEST_DATABASE_URL) when one is given. Every figure is printed; a missing haproxy or
// binary fails the suite.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { requireBin, start, stop } from './harness.mjs';
import { databaseURL, startReplicas, restartReplica, startHAProxy, admin, serverStats, serverStates, call } from './team.mjs';

const MASTER_KEY = 'sk-master-team-test';
const UPSTREAM_KEY = 'sk-upstream';
const MODEL = 'claw-team';
// One call's cost: the fake upstream reports 19 prompt tokens (6 cached) and 10 completion
// tokens, at gpt-4o-mini's prices: 13×0.15e-6 + 6×0.075e-6 + 10×0.6e-6 (as in ledger.test.mjs).
const CALL_COST = 8.4e-6;
// The budget has room for this many calls; the gate may overshoot by what is in flight.
const ROOM = 10;
const LIMIT = ROOM * CALL_COST;
const MAX_OVER = 0.15;
const CONCURRENT = 200;
// The spend log writer's flush interval (app/store/writer.go, FlushInterval): what a replica
// killed with SIGKILL may lose. A lost row must have been answered within twice that before the
// kill (the margin is for a write that had started but waited on the database).
const FLUSH_WINDOW_MS = 1000;
// max_tokens 10 (the fake answers 10 completion tokens) keeps the reservation near the real cost,
// so a budget with room for 10 calls admits about 10 at once, not 2.
const chat = { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 };
const CHUNK_DELAY_MS = 30;

const figures = [];
function report(line) {
  figures.push(line);
  console.log(`team: ${line}`);
}
const ms = (x) => `${x.toFixed(0)} ms`;
const tally = (xs) => xs.reduce((t, x) => ({ ...t, [x]: (t[x] ?? 0) + 1 }), {});

describe('three clawgate serve replicas behind HAProxy', { timeout: 180000 }, () => {
  let fake;
  let slow;
  let replicas = [];
  let lb;
  const db = databaseURL();

  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clawgate-e2e-team-'));
    fake = await start('fakeupstream', requireBin('FAKEUPSTREAM_BIN'), ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY]);
    // A model that writes a chunk every CHUNK_DELAY_MS, to see streams pass HAProxy unbuffered.
    slow = await start('fakeupstream-slow', requireBin('FAKEUPSTREAM_BIN'),
      ['-addr', '127.0.0.1:0', '-key', UPSTREAM_KEY, '-delay', `${CHUNK_DELAY_MS}ms`]);
    const config = path.join(dir, 'config.yaml');
    await writeFile(config, [
      'model_list:',
      `  - model_name: ${MODEL}`,
      `    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: ${UPSTREAM_KEY}}`,
      `  - model_name: ${MODEL}-slow`,
      `    litellm_params: {model: openai/gpt-4o-mini, api_base: "${slow.url}/v1", api_key: ${UPSTREAM_KEY}}`,
      `general_settings: {master_key: ${MASTER_KEY}}`,
      '',
    ].join('\n'));
    replicas = await startReplicas(dir, config, 3, db);
    lb = await startHAProxy(path.join(dir, 'haproxy'), replicas);
    report(`database: ${db ? `PostgreSQL (DATABASE_URL=${db.replace(/\/\/[^@]*@/, '//…@')}), a data folder per replica` : 'one SQLite data folder shared by the three replicas'}`);
  });

  after(async () => {
    if (lb && !lb.exited) {
      lb.child.kill('SIGTERM');
      await lb.exit;
    }
    for (const r of replicas) await stop(r.proc);
    await stop(fake);
    await stop(slow);
    console.log(`\nteam figures:\n${figures.map((f) => `  ${f}`).join('\n')}`);
  });

  // mint creates a virtual key through the load balancer.
  async function mint(body) {
    const res = await call(lb, 'POST', '/key/generate', { key: MASTER_KEY, body });
    assert.equal(res.status, 200, `/key/generate: ${res.status} ${res.text ?? res.error}`);
    return res.json.key;
  }

  // loggedIDs waits until every id in want is in the spend log (read from replica 1; each
  // replica reads the shared database) or 5 s pass, and returns how often each request id occurs.
  async function loggedIDs(key, want) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const res = await call(replicas[0], 'GET', `/spend/logs?api_key=${encodeURIComponent(key)}`, { key: MASTER_KEY });
      assert.equal(res.status, 200, `/spend/logs: ${res.status} ${res.text}`);
      const counts = new Map();
      for (const row of res.json) counts.set(row.request_id, (counts.get(row.request_id) ?? 0) + 1);
      const spend = res.json.reduce((s, row) => s + row.spend, 0);
      if (want.every((id) => counts.has(id)) || Date.now() > deadline) return { counts, spend, rows: res.json.length, all: res.json };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('the replicas share one database: a key minted on r1 works on r2 and r3', async () => {
    const res = await call(replicas[0], 'POST', '/key/generate', { key: MASTER_KEY, body: { key_alias: 'team-shared' } });
    assert.equal(res.status, 200, `/key/generate on r1: ${res.status} ${res.text}`);
    for (const r of replicas.slice(1)) {
      const info = await call(r, 'GET', '/key/info', { key: res.json.key });
      assert.equal(info.status, 200, `${r.name} does not know a key r1 minted (${info.status}): the replicas do not share a database` +
        (db ? '; does `clawgate serve` honour DATABASE_URL yet?' : ''));
    }
  });

  test('HAProxy ends TLS, redirects plain HTTP and deals requests round robin', async () => {
    const plain = await call(lb.plain, 'GET', '/health/liveliness');
    assert.equal(plain.status, 301, 'plain HTTP is redirected to HTTPS');
    assert.match(plain.headers.location ?? '', /^https:\/\//);
    const replicasSeen = [];
    for (let i = 0; i < 6; i++) {
      const res = await call(lb, 'GET', '/v1/models', { key: MASTER_KEY });
      assert.equal(res.status, 200, res.text ?? res.error);
      assert.ok(res.json.data.some((m) => m.id === MODEL), 'the replica serves the configured model');
      replicasSeen.push(res.headers['x-clawgate-replica']);
    }
    const served = tally(replicasSeen);
    report(`round robin over 6 requests: ${JSON.stringify(served)}`);
    assert.deepEqual(served, { r1: 2, r2: 2, r3: 2 });
  });

  test('a streamed answer passes HAProxy chunk by chunk', async () => {
    const body = JSON.stringify({ model: `${MODEL}-slow`, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    const t0 = performance.now();
    const seen = await new Promise((resolve, reject) => {
      const req = https.request(`${lb.base}/v1/chat/completions`, { method: 'POST', agent: lb.agent,
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' } }, (res) => {
        const out = { status: res.statusCode, type: res.headers['content-type'], reads: [], text: '' };
        res.on('data', (d) => { out.reads.push(performance.now() - t0); out.text += d; });
        res.on('end', () => resolve({ ...out, whole: performance.now() - t0 }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const chunks = seen.text.split('\n\n').filter((e) => e.startsWith('data: ')).length;
    report(`stream through HAProxy: ${chunks} events in ${seen.reads.length} reads, first at ${ms(seen.reads[0])}, whole answer ${ms(seen.whole)} (upstream: a chunk every ${CHUNK_DELAY_MS} ms)`);
    assert.equal(seen.status, 200, seen.text);
    assert.match(seen.type ?? '', /^text\/event-stream/);
    assert.ok(seen.text.trimEnd().endsWith('data: [DONE]'), 'the stream ends with [DONE]');
    assert.ok(seen.reads.length >= chunks / 2, `the events came in ${seen.reads.length} reads for ${chunks} events: HAProxy buffered them`);
    assert.ok(seen.reads[0] < seen.whole / 2, `the first byte came at ${ms(seen.reads[0])} of ${ms(seen.whole)}: buffered`);
  });

  const budget = {};
  test(`${CONCURRENT} concurrent requests on a key with room for ${ROOM}: every answered request logged exactly once`, async () => {
    const key = await mint({ key_alias: 'team-budget', max_budget: LIMIT });
    // Every replica knows the key before the burst, so none looks it up mid-flight.
    for (const r of replicas) {
      const res = await call(r, 'GET', '/key/info', { key });
      assert.equal(res.status, 200, `${r.name} /key/info: ${res.status} ${res.text}`);
    }
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: CONCURRENT }, () => call(lb, 'POST', '/v1/chat/completions', { key, body: chat })));
    const wall = performance.now() - t0;
    const answered = results.filter((r) => r.status === 200);
    const byStatus = tally(results.map((r) => r.status));
    const perReplica = tally(answered.map((r) => r.headers['x-clawgate-replica']));
    const ids = answered.map((r) => r.headers['x-litellm-call-id']);
    assert.ok(ids.every(Boolean), 'every answer carries x-litellm-call-id');
    assert.equal(new Set(ids).size, ids.length, 'call ids are unique');
    const { counts, spend, rows, all } = await loggedIDs(key, ids);
    const answeredIDs = new Set(ids);
    const others = all.filter((row) => !answeredIDs.has(row.request_id));
    const info = await call(replicas[0], 'GET', '/key/info', { key });
    Object.assign(budget, { spend, keySpend: info.json?.info?.spend, answered: answered.length });

    report(`burst: ${CONCURRENT} requests in ${ms(wall)}, statuses ${JSON.stringify(byStatus)}, answered per replica ${JSON.stringify(perReplica)}`);
    const missing = ids.filter((id) => !counts.has(id));
    const twice = [...counts].filter(([, n]) => n > 1);
    report(`spend log: ${rows} rows for the key; answered but not logged ${missing.length}; logged more than once ${twice.length}; ` +
      `rows of requests not answered 200: ${others.length} ${JSON.stringify(others.map((row) => ({ status: row.status, spend: row.spend, code: row.metadata?.status_code ?? row.metadata?.error_information?.error_code })))}`);
    const broken = results.filter((r) => r.status === 0 || r.status >= 500);
    assert.deepEqual(broken.map((r) => r.error ?? r.text), [], 'every request is answered or refused, none breaks');
    assert.deepEqual(missing, [], 'every answered request is in the spend log');
    assert.deepEqual(twice, [], 'no request is logged twice');
    assert.deepEqual(others.filter((row) => row.spend !== 0).map((row) => row.request_id), [], 'a request not answered is charged nothing');
  });

  test(`spend stays within ${MAX_OVER * 100}% of the key's limit`, () => {
    assert.ok(budget.answered !== undefined, 'needs the burst of the test before');
    const over = budget.spend / LIMIT - 1;
    report(`budget: limit $${LIMIT.toExponential(3)} (room for ${ROOM}), ${budget.answered} answered, spend logged $${budget.spend.toExponential(3)}, ` +
      `key spend $${Number(budget.keySpend).toExponential(3)}: ${(100 * over).toFixed(0)}% ${over >= 0 ? 'over' : 'under'} the limit (allowed ${MAX_OVER * 100}%)`);
    assert.ok(budget.spend <= LIMIT * (1 + MAX_OVER),
      `spend $${budget.spend} is ${(100 * over).toFixed(0)}% over the limit $${LIMIT} (${budget.answered} answered for room of ${ROOM})`);
  });

  test('a key blocked through replica 1 is refused by replica 3 within a second', async () => {
    const key = await mint({ key_alias: 'team-block' });
    for (const r of [replicas[0], replicas[2]]) {
      const res = await call(r, 'POST', '/v1/chat/completions', { key, body: chat });
      assert.equal(res.status, 200, `${r.name} before the block: ${res.status} ${res.text}`);
    }
    const blocked = await call(replicas[0], 'POST', '/key/block', { key: MASTER_KEY, body: { key } });
    assert.equal(blocked.status, 200, `/key/block on r1: ${blocked.status} ${blocked.text}`);
    const t0 = blocked.endedAt;
    let res;
    do {
      res = await call(replicas[2], 'POST', '/v1/chat/completions', { key, body: chat });
    } while (res.status === 200 && performance.now() - t0 < 5000);
    const took = res.endedAt - t0;
    report(`block through r1 seen by r3 after ${ms(took)} (status ${res.status})`);
    assert.ok([401, 403].includes(res.status), `r3 still answers the blocked key after 5 s: ${res.status} ${res.text}`);
    assert.ok(took <= 1000, `r3 refused the blocked key only after ${ms(took)}`);
  });

  // until polls cond every 20 ms for up to ms and reports whether it came true.
  async function until(cond, ms) {
    const deadline = performance.now() + ms;
    while (!(await cond())) {
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  test('a rolling restart as docs/deploy/README.md does it: no request fails, every answer logged once', async () => {
    const key = await mint({ key_alias: 'team-restart' });
    const workers = 16;
    const results = [];
    const t0 = performance.now();
    const marks = {};
    let halt = false;
    const load = Array.from({ length: workers }, async () => {
      while (!halt && !(marks.ready && performance.now() - marks.ready > 1000) && performance.now() - t0 < 30000) {
        results.push(await call(lb, 'POST', '/v1/chat/completions', { key, body: chat }));
      }
    });
    let exit;
    try {
      while (performance.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 20));
      // The documented restart: systemctl restart (SIGTERM, then a new process). With
      // --shutdown-grace r1 fails its health checks first, HAProxy takes it out, then it drains.
      marks.maint = performance.now();
      replicas[0].proc.child.kill('SIGTERM');
      assert.ok(await until(async () => (await serverStates(lb.sock)).r1 !== 'UP', 15000), 'HAProxy took r1 out of the rotation');
      marks.idle = performance.now();
      exit = await replicas[0].proc.exit;
      marks.stopped = performance.now();
      await restartReplica(replicas[0]);
      assert.ok(await until(async () => (await serverStates(lb.sock)).r1 === 'UP', 15000), 'r1 is back in the rotation');
      marks.ready = performance.now();
    } finally {
      halt = !marks.ready;
      await Promise.all(load);
    }

    const answered = results.filter((r) => r.status === 200);
    const failed = results.filter((r) => r.status !== 200);
    const r1 = answered.filter((r) => r.headers['x-clawgate-replica'] === 'r1');
    const r1After = r1.filter((r) => r.startedAt > marks.ready);
    const { counts } = await loggedIDs(key, answered.map((r) => r.headers['x-litellm-call-id']));
    const notOnce = answered.filter((r) => counts.get(r.headers['x-litellm-call-id']) !== 1);
    report(`restart: ${results.length} requests by ${workers} workers; r1 out of HAProxy's rotation ${ms(marks.idle - marks.maint)} after SIGTERM, ` +
      `exited ${ms(marks.stopped - marks.maint)} after SIGTERM (code ${exit.code}), back in the rotation ${ms(marks.ready - marks.maint)} after it left; ` +
      `failed ${failed.length} ${JSON.stringify(tally(failed.map((r) => r.status || r.error)))}; r1 answered ${r1.length} (${r1After.length} after its return); ` +
      `answers not logged exactly once: ${notOnce.length}`);
    assert.equal(exit.code, 0, 'SIGTERM ends clawgate serve cleanly');
    assert.deepEqual(failed.map((r) => r.status || r.error), [], 'no request fails during a rolling restart');
    assert.ok(r1After.length > 0, 'the restarted replica serves again');
    assert.deepEqual(notOnce.map((r) => r.headers['x-litellm-call-id']), [], 'every answer is logged exactly once, those the stopping replica wrote at exit too');
  });

  test('replica 2 killed with SIGKILL mid-load: the others keep serving, rows lost within the flush window', async () => {
    const key = await mint({ key_alias: 'team-kill' });
    const workers = 16;
    const results = [];
    const t0 = performance.now();
    let killAt = 0;
    let downAt = 0;
    const done = () => downAt && performance.now() - downAt > 2000;
    const load = Array.from({ length: workers }, async () => {
      while (!done() && performance.now() - t0 < 30000) {
        results.push(await call(lb, 'POST', '/v1/chat/completions', { key, body: chat }));
      }
    });
    // Kill once replica 2 has answered for three flush windows (so a longer window than the
    // documented one shows in the age of the lost rows), then watch HAProxy take it out.
    const watch = (async () => {
      while (performance.now() - t0 < 3 * FLUSH_WINDOW_MS) await new Promise((r) => setTimeout(r, 20));
      replicas[1].proc.child.kill('SIGKILL');
      killAt = performance.now();
      while (performance.now() - killAt < 10000) {
        const st = await serverStates(lb.sock);
        if (st.r2?.startsWith('DOWN') || st.r2?.startsWith('MAINT')) {
          downAt = performance.now();
          return st;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      downAt = performance.now();
      throw new Error('HAProxy did not mark r2 down within 10 s');
    })();
    let states;
    try {
      states = await watch;
    } finally {
      downAt ||= performance.now();
      await Promise.all(load);
    }
    await replicas[1].proc.exit;

    const answered = results.filter((r) => r.status === 200);
    const failed = results.filter((r) => r.status !== 200);
    const by = (name, pred = () => true) => answered.filter((r) => r.headers['x-clawgate-replica'] === name && pred(r));
    const afterKill = (r) => r.startedAt > killAt;
    const r2Answered = by('r2');
    const others = answered.filter((r) => r.headers['x-clawgate-replica'] !== 'r2');
    const { counts } = await loggedIDs(key, others.map((r) => r.headers['x-litellm-call-id']));
    const lost = r2Answered.filter((r) => !counts.has(r.headers['x-litellm-call-id']));
    const lostAge = lost.map((r) => killAt - r.endedAt);
    // A request sent on a connection HAProxy had kept open to r2 ends without an answer: HAProxy
    // closes the client's connection so that the client may retry, as after a keep-alive race. It
    // retries by itself only where nothing was sent (retry-on conn-failure), never a request r2 may
    // have passed upstream already. Once r2 is marked down, nothing may fail.
    const failedAfterDown = failed.filter((r) => r.startedAt > downAt);

    report(`kill: ${results.length} requests by ${workers} workers; r2 killed at ${ms(killAt - t0)}, HAProxy marked it down ${ms(downAt - killAt)} later (${JSON.stringify(states)})`);
    report(`kill: answered r1 ${by('r1').length} (${by('r1', afterKill).length} after the kill), r2 ${r2Answered.length}, r3 ${by('r3').length} (${by('r3', afterKill).length} after the kill); ` +
      `failed ${failed.length} ${JSON.stringify(tally(failed.map((r) => r.status || r.error)))}, sent ${failed.length ? `${ms(Math.min(...failed.map((r) => r.startedAt - killAt)))} to ${ms(Math.max(...failed.map((r) => r.startedAt - killAt)))} after the kill` : '-'}, ` +
      `${failedAfterDown.length} of them after r2 was down (HAProxy's log: ${lb.log})`);
    report(`kill: r2 answered ${r2Answered.length}, logged ${r2Answered.length - lost.length}, lost ${lost.length}` +
      (lost.length ? ` (answered ${ms(Math.min(...lostAge))} to ${ms(Math.max(...lostAge))} before the kill)` : ''));

    assert.equal(by('r2', afterKill).length, 0, 'nothing is answered by the killed replica');
    assert.ok(by('r1', afterKill).length > 0 && by('r3', afterKill).length > 0, 'both other replicas answer after the kill');
    assert.deepEqual(failedAfterDown.map((r) => r.status || r.error), [], 'no request fails once HAProxy has marked r2 down');
    const notLogged = others.filter((r) => counts.get(r.headers['x-litellm-call-id']) !== 1);
    assert.deepEqual(notLogged.map((r) => r.headers['x-litellm-call-id']), [], 'every answer of r1 and r3 is logged exactly once');
    assert.ok(r2Answered.length > 0, 'r2 answered before it was killed');
    for (const age of lostAge) {
      assert.ok(age <= 2 * FLUSH_WINDOW_MS, `a row answered ${ms(age)} before the kill was lost: beyond the ${FLUSH_WINDOW_MS} ms flush window`);
    }
  });
});
