// Process plumbing for the e2e suite: start the fake upstream and clawgate, find their
// addresses, wait for health, stop them; and collect, which reads an openai SDK stream.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// requireBin returns the path in env[name] or throws: a missing binary is a failure, never a skip.
export function requireBin(name) {
  const p = process.env[name];
  if (!p) {
    throw new Error(`${name} is not set: run e2e/run.sh, or set ${name} to a built binary`);
  }
  if (!existsSync(p)) {
    throw new Error(`${name}=${p} does not exist: build it first (see e2e/run.sh)`);
  }
  return p;
}

// freePort asks the kernel for a free loopback port. The port is released before use, so a
// race with another process is possible but harmless here: the start would fail loudly.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// start runs bin and resolves once either output stream prints "listening on http://...".
// The returned handle keeps the last output for error messages.
export function start(name, bin, args, { env = process.env, timeoutMs = 30000 } = {}) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, url: '', output: '', exited: null };
  const verbose = process.env.E2E_VERBOSE === '1';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not print "listening on" within ${timeoutMs} ms; output:\n${proc.output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      const text = chunk.toString();
      if (verbose) process.stderr.write(`[${name}] ${text}`);
      proc.output = (proc.output + text).slice(-20000);
      const m = proc.output.match(/listening on (http:\/\/[^\s"']+)/);
      if (m && !proc.url) {
        proc.url = m[1].replace(/\/$/, '');
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name}: cannot start ${bin}: ${err.message}`));
    });
    proc.exit = new Promise((res) => {
      child.on('exit', (code, signal) => {
        proc.exited = { code, signal };
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready; output:\n${proc.output}`));
        res(proc.exited);
      });
    });
  });
  return ready;
}

// stop sends SIGTERM and waits for the exit, escalating to SIGKILL after graceMs.
export async function stop(proc, graceMs = 10000) {
  if (!proc || proc.exited) return proc?.exited;
  proc.child.kill('SIGTERM');
  let timer;
  const killed = new Promise((res) => {
    timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      res({ code: null, signal: 'SIGKILL', forced: true });
    }, graceMs);
  });
  const result = await Promise.race([proc.exit, killed]);
  clearTimeout(timer);
  if (result.forced) await proc.exit;
  return result;
}

// waitHealthy polls url until it answers 200. Polling is the only signal a server gives.
export async function waitHealthy(url, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms (${last})`);
}

// serveGateway starts `clawgate serve` with config on port (a free one when not given), a throwaway
// HOME under dir (away from the developer's own config, keychain and AWS files: AWS_* and
// LITELLM_MASTER_KEY are dropped too) and its data in dir/data, and waits until it answers. It
// returns the process and its base URL.
//
// With E2E_PASSTHROUGH=1 it starts the bare forwarding proxy (passthrough/forward.mjs) instead,
// in front of the config's first api_base with its api_key, and passthroughHeaders added to every
// request: e2e/run-passthrough.sh runs each suite so, and every suite must fail.
export async function serveGateway(dir, config, port, { passthroughHeaders = {} } = {}) {
  port ??= await freePort();
  if (process.env.E2E_PASSTHROUGH === '1') return servePassthrough(config, port, passthroughHeaders);
  const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config') };
  for (const k of Object.keys(env)) {
    if (k.startsWith('AWS_') || k === 'LITELLM_MASTER_KEY') delete env[k];
  }
  const gateway = await start(
    'clawgate',
    requireBin('CLAWGATE_BIN'),
    ['serve', '--config', config, '--host', '127.0.0.1', '--port', String(port), '--data-dir', path.join(dir, 'data')],
    { env },
  );
  const base = `http://127.0.0.1:${port}`;
  if (gateway.url !== base) throw new Error(`clawgate announced ${gateway.url}, expected ${base}`);
  await waitHealthy(`${base}/health/liveliness`);
  return { gateway, base };
}

async function servePassthrough(config, port, headers) {
  const text = readFileSync(config, 'utf8');
  const apiBase = text.match(/api_base:\s*"([^"]+)"/)?.[1];
  const apiKey = text.match(/api_key:\s*([^\s,}]+)/)?.[1] ?? '';
  if (!apiBase) throw new Error(`E2E_PASSTHROUGH: no api_base in ${config}`);
  const forward = new URL('./passthrough/forward.mjs', import.meta.url).pathname;
  const args = [forward, '--upstream', apiBase, '--key', apiKey, '--port', String(port)];
  for (const [k, v] of Object.entries(headers)) args.push('--header', `${k}=${v}`);
  const gateway = await start('passthrough', process.execPath, args);
  return { gateway, base: `http://127.0.0.1:${port}` };
}

// collect reads an openai SDK stream the way OpenClaw does: text from delta.content, tool calls
// keyed by index with arguments concatenated, usage from any chunk, the usage-only chunks apart.
export async function collect(stream) {
  const out = { chunks: [], ids: new Set(), text: '', finish: [], usageChunks: [], usageAnywhere: [], tools: [] };
  for await (const chunk of stream) {
    out.chunks.push(chunk);
    out.ids.add(chunk.id);
    if (chunk.usage) out.usageAnywhere.push(chunk.usage);
    if (chunk.choices.length === 0) {
      out.usageChunks.push(chunk);
      continue;
    }
    const choice = chunk.choices[0];
    if (choice.delta?.content) out.text += choice.delta.content;
    for (const tc of choice.delta?.tool_calls ?? []) {
      const t = (out.tools[tc.index] ??= { id: '', name: '', arguments: '' });
      if (tc.id) t.id = tc.id;
      if (tc.function?.name) t.name += tc.function.name;
      if (tc.function?.arguments) t.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) out.finish.push(choice.finish_reason);
  }
  return out;
}
