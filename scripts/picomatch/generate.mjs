// Regenerates shared/tests/data/picomatch.json: picomatch's own answer for each
// (pattern, path) case below, with the options dorny/paths-filter uses ({ dot: true }).
//
//   cd scripts/picomatch && npm install --no-save picomatch@2.3.1 && node generate.mjs
//
// picomatch 2.3.1 is the version paths-filter (through micromatch 4) resolves to.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const picomatch = require('picomatch');
const { version } = require('picomatch/package.json');

const cases = [
  // `*` stays inside one segment; root-only without a slash.
  ['*.sql', 'schema.sql'],
  ['*.sql', 'db/schema.sql'],
  ['*.md', 'README.md'],
  ['*.md', 'docs/README.md'],
  ['*', 'package.json'],
  ['*', 'apps/x'],
  ['apps/*', 'apps/client-ui'],
  ['apps/*', 'apps/client-ui/src/App.tsx'],
  // `**` spans directories, and `dir/**` matches `dir` itself.
  ['**/*.sql', 'schema.sql'],
  ['**/*.sql', 'apps/express-api/drizzle/0001.sql'],
  ['**/*.sql', 'apps/express-api/drizzle/0001.sql.bak'],
  ['apps/express-api/**', 'apps/express-api'],
  ['apps/express-api/**', 'apps/express-api/src/index.ts'],
  ['apps/express-api/**', 'apps/express-api-v2/src/index.ts'],
  ['apps/express-api/**', 'apps/express-apiary'],
  ['**/migrations/**', 'migrations/0001.sql'],
  ['**/migrations/**', 'packages/db/migrations/meta/_journal.json'],
  ['**/migrations/**', 'packages/db/migrations'],
  ['**/migrations/**', 'packages/db/migrationsx/a'],
  ['**', 'a/b/c.txt'],
  ['**', '.env'],
  ['a/**/b', 'a/b'],
  ['a/**/b', 'a/x/y/b'],
  ['a/**/b', 'a/x/y/bc'],
  // dot: true — dotfiles and dot directories match like any other name.
  ['.github/workflows/**', '.github/workflows/deploy-staging.yml'],
  ['**/*.yml', '.github/workflows/ci.yml'],
  ['*', '.eslintrc'],
  ['**/.env', 'apps/api/.env'],
  ['*.md', '.md'],
  // `-` inside a star segment, prefixes and suffixes.
  ['packages/config-*/**', 'packages/config-eslint/index.js'],
  ['packages/config-*/**', 'packages/config-/index.js'],
  ['packages/config-*/**', 'packages/configs/index.js'],
  ['packages/config-*/**', 'packages/config-a/b/c.js'],
  // `?` is one character, never a slash.
  ['?.txt', 'a.txt'],
  ['?.txt', 'ab.txt'],
  ['a?b', 'a/b'],
  // Braces.
  ['{apps,packages}/**', 'packages/ui-library/x.tsx'],
  ['{apps,packages}/**', 'libs/x.ts'],
  ['*.{ts,tsx}', 'App.tsx'],
  ['*.{ts,tsx}', 'App.jsx'],
  ['src/{a,b/c}/*.ts', 'src/b/c/x.ts'],
  // Classes.
  ['file[0-9].txt', 'file7.txt'],
  ['file[0-9].txt', 'filex.txt'],
  // picomatch 2 reads `[!...]` as a class that contains `!`; `[^...]` negates.
  ['file[!0-9].txt', 'filex.txt'],
  ['file[!0-9].txt', 'file7.txt'],
  ['file[!0-9].txt', 'file!.txt'],
  ['file[^0-9].txt', 'filex.txt'],
  ['file[^0-9].txt', 'file7.txt'],
  ['x[!]', 'x!'],
  ['[abc].js', 'b.js'],
  ['[abc].js', 'd.js'],
  // Literal names and case.
  ['drizzle.config.ts', 'drizzle.config.ts'],
  ['drizzle.config.ts', 'apps/drizzle.config.ts'],
  ['drizzle.config.ts', 'Drizzle.config.ts'],
  ['docker-compose.yml', 'docker-compose.yml'],
  ['tailwind.config.ts', 'tailwind.config.tsx'],
  // `**` not a whole segment acts like `*`.
  ['a**/b', 'ab/b'],
  ['a**/b', 'a/x/b'],
  // Trailing `/**` after a star.
  ['infrastructure/**', 'infrastructure'],
  ['infrastructure/**', 'infrastructure/envs/staging/main.tf'],
  ['infrastructure/**', 'infrastructure.md'],
  // Nested braces.
  ['{a,{b,c}}.js', 'c.js'],
  ['{a,{b,c}}.js', 'd.js'],
  // Escapes.
  ['\\*.txt', '*.txt'],
  ['\\*.txt', 'a.txt'],
];

const rows = cases.map(([pattern, path]) => ({
  pattern,
  path,
  matches: picomatch(pattern, { dot: true })(path),
}));
const out = new URL('../../shared/tests/data/picomatch.json', import.meta.url);
const lines = rows.map((r) => '  ' + JSON.stringify(r)).join(',\n');
writeFileSync(
  out,
  `{"picomatch": ${JSON.stringify(version)}, "options": {"dot": true}, "cases": [\n${lines}\n]}\n`,
);
console.log(`wrote ${rows.length} cases from picomatch ${version}`);
