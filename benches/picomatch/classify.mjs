// The Node side of the classification benchmark in `scripts/bench`: what
// dorny/paths-filter does with a push, on the same input as the Rust criterion bench
// (shared/benches/classify.rs).
//
//   npm install --prefix benches/picomatch --no-save picomatch@4
//   node benches/picomatch/classify.mjs [--samples N]
//
// The 3,000 paths are push_paths() of shared/benches/classify.rs and the filters are
// BUILTIN_FILTERS_YAML of shared/src/scope.rs, both read from the Rust sources so the
// two sides cannot drift apart. Each glob is compiled once with picomatch({ dot: true }),
// the options paths-filter uses; a classification is, as in paths-filter's
// Filter.match, every filter's `files.filter(f => patterns.some(p => p(f)))`.
// Prints one JSON object: the median and spread of one classification, in ms.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(join(here, 'package.json'));
const picomatch = require('picomatch');
const { version: picomatchVersion } = require('picomatch/package.json');

function fail(message) {
  console.error(`classify.mjs: ${message}`);
  process.exit(1);
}

// --- The built-in filters, from the Rust constant (a simple YAML: name, then '- glob' items).
function builtinFilters() {
  const source = readFileSync(join(root, 'shared/src/scope.rs'), 'utf8');
  const start = source.indexOf('pub const BUILTIN_FILTERS_YAML: &str = "\\\n');
  if (start < 0) fail('BUILTIN_FILTERS_YAML not found in shared/src/scope.rs');
  const body = source.slice(source.indexOf('\n', start) + 1);
  const end = body.indexOf('";');
  if (end < 0) fail('the end of BUILTIN_FILTERS_YAML not found');
  const filters = new Map();
  let current = null;
  for (const line of body.slice(0, end).split('\n')) {
    if (line.trim() === '') continue;
    let m;
    if ((m = /^([A-Za-z0-9_-]+):\s*$/.exec(line))) {
      current = [];
      filters.set(m[1], current);
    } else if ((m = /^\s+-\s+'([^']*)'\s*$/.exec(line)) && current) {
      current.push(m[1]);
    } else {
      fail(`unexpected line in BUILTIN_FILTERS_YAML (only name: and - 'glob' are read): ${line}`);
    }
  }
  if (filters.size === 0) fail('BUILTIN_FILTERS_YAML holds no filters');
  return filters;
}

// --- push_paths(), from shared/benches/classify.rs.
function pushPaths() {
  const source = readFileSync(join(root, 'shared/benches/classify.rs'), 'utf8');
  const array = (name) => {
    const m = new RegExp(`let ${name} = \\[([^\\]]*)\\];`).exec(source);
    if (!m) fail(`\`let ${name} = [...]\` not found in shared/benches/classify.rs`);
    return [...m[1].matchAll(/"([^"]*)"/g)].map((s) => s[1]);
  };
  // Compared without whitespace, so rustfmt's layout of the line does not count as a change.
  const squash = (text) => text.replace(/\s+/g, '');
  const shape = '(0..3000).map(|i| format!("{}/dir{}/file{i}.{}", roots[i % roots.len()], i % 17, exts[i % exts.len()]))';
  if (!squash(source).includes(squash(shape))) fail('push_paths() in shared/benches/classify.rs changed; update classify.mjs to match');
  const roots = array('roots');
  const exts = array('exts');
  const paths = [];
  for (let i = 0; i < 3000; i++) paths.push(`${roots[i % roots.length]}/dir${i % 17}/file${i}.${exts[i % exts.length]}`);
  return paths;
}

const argv = process.argv.slice(2);
const samples = argv[0] === '--samples' ? Number(argv[1]) : 300;
if (!Number.isInteger(samples) || samples < 1) fail('usage: classify.mjs [--samples N]');

const filters = builtinFilters();
const paths = pushPaths();
const compiled = [...filters].map(([name, globs]) => [name, globs.map((g) => picomatch(g, { dot: true }))]);

function classify(files) {
  const result = {};
  for (const [name, matchers] of compiled) {
    result[name] = files.filter((file) => matchers.some((isMatch) => isMatch(file)));
  }
  return result;
}

// Warm up (let V8 optimise), then time one classification at a time.
let sink = 0;
const warmUntil = performance.now() + 1000;
while (performance.now() < warmUntil) sink += classify(paths).backend.length;
const times = [];
for (let i = 0; i < samples; i++) {
  const t0 = process.hrtime.bigint();
  const result = classify(paths);
  const t1 = process.hrtime.bigint();
  sink += result.backend.length;
  times.push(Number(t1 - t0) / 1e6);
}
times.sort((a, b) => a - b);
const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
const matches = Object.fromEntries(Object.entries(classify(paths)).map(([name, files]) => [name, files.length]));
console.log(JSON.stringify({
  picomatch: picomatchVersion,
  node: process.version,
  paths: paths.length,
  globs: compiled.reduce((n, [, m]) => n + m.length, 0),
  samples,
  median_ms: median,
  min_ms: times[0],
  max_ms: times[times.length - 1],
  matches,
  sink: sink > 0,
}));
