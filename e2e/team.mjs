// Process plumbing for the team deployment e2e (replicas.test.mjs): N `clawgate serve` replicas on
// one database behind HAProxy, configured from docs/deploy/haproxy.cfg, with TLS ended at HAProxy.
import { spawn, execFile } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { requireBin, freePort, start, waitHealthy } from './harness.mjs';

const run = promisify(execFile);

// databaseURL is the PostgreSQL database the replicas share, when one is given
// (CLAWGATE_E2E_DATABASE_URL, else the one scripts/with-postgres.sh exports); empty means they
// share one SQLite data folder, several processes on one file, as clawgate supports today.
export function databaseURL() {
  return process.env.CLAWGATE_E2E_DATABASE_URL || process.env.CLAWGATE_TEST_DATABASE_URL || '';
}

// startReplicas starts n `clawgate serve` on config, each on its own loopback port, with a
// throwaway HOME under dir. Without dbURL they share dir/data; with it each has its own data
// folder (spill file, last good config) and DATABASE_URL=dbURL. Replicas start one after another, so the first
// creates (migrates) the database alone.
export async function startReplicas(dir, config, n, dbURL = '') {
  const bin = requireBin('CLAWGATE_BIN');
  const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config') };
  for (const k of Object.keys(env)) {
    if (k.startsWith('AWS_') || k === 'LITELLM_MASTER_KEY' || k === 'DATABASE_URL') delete env[k];
  }
  if (dbURL) env.DATABASE_URL = dbURL;
  const replicas = [];
  for (let i = 1; i <= n; i++) {
    const port = await freePort();
    const data = path.join(dir, dbURL ? `data-r${i}` : 'data');
    const r = { name: `r${i}`, port, base: `http://127.0.0.1:${port}`, bin, env,
      // As docs/deploy's unit runs them: on SIGTERM a replica fails its health check for 2.5 s (HAProxy
      // checks every second and takes it out after two failures) before it stops taking requests.
      args: ['serve', '--config', config, '--host', '127.0.0.1', '--port', String(port), '--data-dir', data,
        '--shutdown-grace', '2500ms'] };
    await restartReplica(r);
    replicas.push(r);
  }
  return replicas;
}

// restartReplica starts replica r (again, after it stopped) on its port, folder and database, as
// systemd's Restart= does, and waits until it answers.
export async function restartReplica(r) {
  r.proc = await start(r.name, r.bin, r.args, { env: r.env });
  await waitHealthy(`${r.base}/health/liveliness`);
}

export const DEPLOY_HAPROXY = new URL('../docs/deploy/haproxy.cfg', import.meta.url).pathname;

// sections splits an HAProxy configuration into its sections: a line starting at column 0 opens
// one ("global", "backend clawgate"); comments and blank lines are dropped.
function sections(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    if (/^\S/.test(line)) out.push({ head: line.trim(), body: [] });
    else if (out.length) out[out.length - 1].body.push(line.trim());
  }
  return out;
}

// haproxyConfig turns the documented configuration into one this test can run unprivileged: the
// global section loses what needs root (chroot, user, the system's log and stats socket) and gets a
// stats socket in the test's folder; the TLS bind moves to tlsPort with the test's certificate,
// the plain one to httpPort; the servers r1..rN point at the replicas; and each answer says which
// replica served it (X-Clawgate-Replica), so the test can count per replica. The defaults, the
// frontend's rules and the backend's balancing, health checks and retries are used as written.
// It throws when the document no longer has what it replaces, so the two cannot drift apart.
export function haproxyConfig(doc, { tlsPort, httpPort, cert, sock, replicas }) {
  const out = [];
  let binds = 0;
  let servers = 0;
  for (const s of sections(doc)) {
    const body = [];
    if (s.head === 'global') {
      body.push(`stats socket ${sock} mode 600 level admin`, 'log stdout format raw local0 info');
      for (const l of s.body) {
        if (!/^(log|chroot|stats|user|group|daemon)\b/.test(l)) body.push(l);
      }
    } else if (s.head.startsWith('frontend ')) {
      for (const l of s.body) {
        const tls = l.match(/^bind :443 ssl crt (\S+)(.*)$/);
        if (tls) {
          body.push(`bind 127.0.0.1:${tlsPort} ssl crt ${cert}${tls[2]}`);
          binds++;
        } else if (l === 'bind :80') {
          body.push(`bind 127.0.0.1:${httpPort}`);
          binds++;
        } else {
          body.push(l);
        }
      }
    } else if (s.head.startsWith('backend ')) {
      for (const l of s.body) {
        const m = l.match(/^server (r\d+) 127\.0\.0\.1:\d+ (.*)$/);
        if (!m) {
          body.push(l);
          continue;
        }
        const r = replicas.find((x) => x.name === m[1]);
        if (!r) throw new Error(`${DEPLOY_HAPROXY}: server ${m[1]} has no replica here`);
        body.push(`server ${m[1]} 127.0.0.1:${r.port} ${m[2]}`);
        servers++;
      }
      body.push('http-response set-header X-Clawgate-Replica %s');
    } else {
      body.push(...s.body);
    }
    out.push(s.head, ...body.map((l) => `\t${l}`), '');
  }
  if (binds !== 2) throw new Error(`${DEPLOY_HAPROXY}: expected "bind :443 ssl crt ..." and "bind :80", found ${binds} of them`);
  if (servers !== replicas.length) {
    throw new Error(`${DEPLOY_HAPROXY}: expected ${replicas.length} "server rN 127.0.0.1:PORT ..." lines, found ${servers}`);
  }
  return out.join('\n');
}

// haproxyBin is HAPROXY_BIN when set, else haproxy on PATH or in /usr/sbin; missing, the test fails.
function haproxyBin() {
  if (process.env.HAPROXY_BIN) {
    if (!existsSync(process.env.HAPROXY_BIN)) throw new Error(`HAPROXY_BIN=${process.env.HAPROXY_BIN} does not exist`);
    return process.env.HAPROXY_BIN;
  }
  const candidates = [...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'haproxy')), '/usr/sbin/haproxy'];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('haproxy is not installed: run `make deps` (Debian package haproxy) or set HAPROXY_BIN');
  return found;
}

// selfSigned writes a certificate for localhost and 127.0.0.1 with openssl and returns the CA the
// client trusts (the certificate itself) and the PEM HAProxy loads (certificate, then key).
async function selfSigned(dir) {
  const key = path.join(dir, 'tls.key');
  const crt = path.join(dir, 'tls.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  const pem = path.join(dir, 'haproxy.pem');
  await writeFile(pem, readFileSync(crt, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
  return { ca: readFileSync(crt, 'utf8'), pem };
}

// startHAProxy runs HAProxy in the foreground on the documented configuration in front of
// replicas and waits until it answers over TLS and counts every replica up. It returns the https
// base URL, the plain one, an agent that trusts the certificate, and its stats socket.
export async function startHAProxy(dir, replicas) {
  const bin = haproxyBin();
  await mkdir(dir, { recursive: true });
  const { ca, pem } = await selfSigned(dir);
  const tlsPort = await freePort();
  const httpPort = await freePort();
  const sock = path.join(dir, 'haproxy.sock');
  const cfg = path.join(dir, 'haproxy.cfg');
  await writeFile(cfg, haproxyConfig(readFileSync(DEPLOY_HAPROXY, 'utf8'), { tlsPort, httpPort, cert: pem, sock, replicas }));
  await run(bin, ['-c', '-q', '-f', cfg]).catch((err) => {
    throw new Error(`haproxy -c refused the configuration made from ${DEPLOY_HAPROXY}:\n${err.stderr || err.message}`);
  });
  const child = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lb = { name: 'haproxy', child, output: '', exited: null, sock, ca,
    base: `https://127.0.0.1:${tlsPort}`, plain: `http://127.0.0.1:${httpPort}`,
    agent: new https.Agent({ ca, keepAlive: true, maxSockets: Infinity }) };
  // HAProxy's log (one line per request, with the replica and how it ended) goes to haproxy.log.
  lb.log = path.join(dir, 'haproxy.log');
  const logFile = createWriteStream(lb.log);
  const keep = (chunk) => {
    logFile.write(chunk);
    lb.output = (lb.output + chunk.toString()).slice(-20000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  lb.exit = new Promise((res) => child.on('exit', (code, signal) => { lb.exited = { code, signal }; res(lb.exited); }));
  const deadline = Date.now() + 15000;
  let last = '';
  while (Date.now() < deadline) {
    if (lb.exited) throw new Error(`haproxy exited (${JSON.stringify(lb.exited)}):\n${lb.output}`);
    try {
      const res = await call(lb, 'GET', '/health/liveliness');
      const up = Object.values(await serverStates(sock)).filter((s) => s === 'UP').length;
      if (res.status === 200 && up === replicas.length) return lb;
      last = `status ${res.status}, ${up} replicas up`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy not ready within 15 s (${last}):\n${lb.output}`);
}

// admin sends one command to HAProxy's stats socket (level admin) and returns its answer.
export function admin(sock, command) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let text = '';
    c.on('connect', () => c.write(`${command}\n`));
    c.on('data', (d) => { text += d; });
    c.on('error', reject);
    c.on('end', () => resolve(text));
  });
}

// serverStats reads the backend's servers from the stats socket: {r1: {status: 'UP', sessions: 3}, ...}
// (sessions: the requests it is serving now).
export async function serverStats(sock) {
  const text = await admin(sock, 'show stat');
  const lines = text.split('\n').filter(Boolean);
  const head = lines.shift()?.replace(/^# /, '').split(',') ?? [];
  const [px, sv, st, scur] = ['pxname', 'svname', 'status', 'scur'].map((f) => head.indexOf(f));
  if (st < 0 || scur < 0) throw new Error(`unexpected stats: ${text.slice(0, 200)}`);
  const out = {};
  for (const l of lines) {
    const f = l.split(',');
    if (f[px] === 'clawgate' && f[sv] !== 'BACKEND') out[f[sv]] = { status: f[st], sessions: Number(f[scur]) };
  }
  return out;
}

// serverStates is serverStats' status alone: {r1: 'UP', r2: 'DOWN', ...}.
export async function serverStates(sock) {
  const stats = await serverStats(sock);
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v.status]));
}

// call sends one request to target (HAProxy, a replica, or a base URL string) and reads the whole
// answer. It never throws for a status; a transport error comes back as status 0 with the message.
// The times are performance.now() milliseconds.
export function call(target, method, urlPath, { key, body } = {}) {
  const base = typeof target === 'string' ? target : target.base;
  const url = new URL(urlPath, base);
  const agent = url.protocol === 'https:' ? target.agent : undefined;
  const mod = url.protocol === 'https:' ? https : http;
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (data) headers['content-type'] = 'application/json';
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const req = mod.request(url, { method, headers, agent }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('error', (err) => resolve({ status: 0, error: err.message, startedAt, endedAt: performance.now(), headers: {} }));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json, startedAt, endedAt: performance.now() });
      });
    });
    req.on('error', (err) => resolve({ status: 0, error: err.message, startedAt, endedAt: performance.now(), headers: {} }));
    if (data) req.write(data);
    req.end();
  });
}
