// `npm run env:docs` writes README.md's configuration table from the config classes (src/core/config/*.config.ts):
// one row per property, its default from a fresh instance, its meaning from the property's doc comment.
// `npm run env:check` (CI) fails when the README's table is not what the classes say, or a variable has no doc.
import 'reflect-metadata';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import ts from 'typescript';
import { ALL_CONFIG_CLASSES } from '../src/core/config/config.module';

const root = path.join(__dirname, '..');
const configDir = path.join(root, 'src/core/config');
const readme = path.join(root, 'README.md');
const BEGIN = /<!-- env:begin[^>]*-->\n/;
const END = '<!-- env:end -->';

/** Variables read by the tooling rather than by a Conflux process. */
const TOOLING: Array<[string, string, string]> = [
  [
    'TEST_DATABASE_URL',
    '`postgres://root@127.0.0.1:5432/postgres`',
    'tests: the server each test file creates its database on',
  ],
  [
    'TEST_REDIS_URL',
    '`redis://127.0.0.1:6379`',
    'tests: the Redis each test file takes a fresh key prefix on',
  ],
  ['TEST_WORKERS', '`3`', 'tests: test files run at once (jest workers)'],
  ['TEST_LOG_LEVEL', '`silent`', 'tests: log level of the API and workers the tests start'],
];

interface Row {
  name: string;
  fallback: string;
  meaning: string;
}

function docsByProperty(): Map<string, Map<string, { doc: string; optional: boolean }>> {
  const classes = new Map<string, Map<string, { doc: string; optional: boolean }>>();
  for (const file of readdirSync(configDir).filter((f) => f.endsWith('.config.ts'))) {
    const source = ts.createSourceFile(
      file,
      readFileSync(path.join(configDir, file), 'utf8'),
      ts.ScriptTarget.Latest,
      true,
    );
    for (const node of source.statements) {
      if (!ts.isClassDeclaration(node) || !node.name) continue;
      const props = new Map<string, { doc: string; optional: boolean }>();
      for (const member of node.members) {
        if (!ts.isPropertyDeclaration(member) || !ts.isIdentifier(member.name)) continue;
        const doc = ts
          .getJSDocCommentsAndTags(member)
          .filter(ts.isJSDoc)
          .map((jsdoc) => ts.getTextOfJSDocComment(jsdoc.comment) ?? '')
          .join(' ');
        props.set(member.name.text, {
          doc: doc.replace(/\s+/g, ' ').trim(),
          optional: !!member.questionToken,
        });
      }
      classes.set(node.name.text, props);
    }
  }
  return classes;
}

function defaultOf(value: unknown, optional: boolean): string {
  if (value === undefined) return optional ? '—' : 'required';
  if (Array.isArray(value)) return value.length === 0 ? '—' : `\`${value.join(',')}\``;
  return `\`${JSON.stringify(value).replace(/^"|"$/g, '')}\``;
}

function rows(): { rows: Row[]; problems: string[] } {
  const docs = docsByProperty();
  const problems: string[] = [];
  const out: Row[] = [];
  for (const name of docs.keys()) {
    if (!ALL_CONFIG_CLASSES.some((cls) => cls.name === name))
      problems.push(
        `${name} is declared in src/core/config but no process reads it (add it to CONFIG_CLASSES)`,
      );
  }
  for (const cls of ALL_CONFIG_CLASSES) {
    const props = docs.get(cls.name);
    if (!props) {
      problems.push(`${cls.name}: not found in src/core/config/*.config.ts`);
      continue;
    }
    const defaults = new cls() as Record<string, unknown>;
    for (const [name, { doc, optional }] of props) {
      if (!doc) problems.push(`${cls.name}.${name} has no doc comment (it is the README's description)`);
      out.push({ name, fallback: defaultOf(defaults[name], optional), meaning: doc });
    }
  }
  for (const [name, fallback, meaning] of TOOLING) out.push({ name, fallback, meaning });
  return { rows: out, problems };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const { rows: table, problems } = rows();
  const current = readFileSync(readme, 'utf8');
  const begin = BEGIN.exec(current);
  const end = current.indexOf(END);
  if (!begin || end < 0) problems.push('README.md has no <!-- env:begin --> … <!-- env:end --> block');
  if (problems.length > 0) {
    console.error(`env-docs:\n  - ${problems.join('\n  - ')}`);
    process.exit(1);
  }
  const body = [
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...table.map((row) => `| \`${row.name}\` | ${row.fallback} | ${row.meaning.replace(/\|/g, '\\|')} |`),
  ].join('\n');
  const start = (begin as RegExpExecArray).index + (begin as RegExpExecArray)[0].length;
  const next = `${current.slice(0, start)}${body}\n${current.slice(end)}`;
  const formatted = await format(next, { ...(await resolveConfig(readme)), filepath: readme });
  if (check) {
    if (formatted !== current) {
      console.error(
        "env-docs: README.md's configuration table differs from the config classes: run `npm run env:docs`",
      );
      process.exit(1);
    }
    console.log(`env-docs: README.md lists all ${table.length} variables`);
    return;
  }
  writeFileSync(readme, formatted);
  console.log(`env-docs: wrote ${table.length} variables into README.md`);
}

void main();
