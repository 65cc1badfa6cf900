#!/usr/bin/env node
// Compiles src/ to dist/ with the compiler plugins declared in nest-cli.json (the Swagger plugin).
// `@nestjs/cli` would do the same, but every 12.x release depends on packages that need Node >= 22,
// and this project supports Node >= 20.19.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.join(__dirname, '..');
const nestCli = JSON.parse(fs.readFileSync(path.join(root, 'nest-cli.json'), 'utf8'));
const tsconfigPath = path.join(root, nestCli.compilerOptions.tsConfigPath);

const parsed = ts.getParsedCommandLineOfConfigFile(
  tsconfigPath,
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail },
);
if (nestCli.compilerOptions.deleteOutDir) fs.rmSync(parsed.options.outDir, { recursive: true, force: true });

const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const before = nestCli.compilerOptions.plugins.map((plugin) =>
  require(`${plugin.name}/plugin`).before(plugin.options ?? {}, program),
);
const result = program.emit(undefined, undefined, undefined, false, { before });
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
if (diagnostics.length > 0) fail(diagnostics);
console.log(`build: ${parsed.fileNames.length} files -> ${path.relative(root, parsed.options.outDir)}/`);

function fail(diagnostics) {
  const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  console.error(ts.formatDiagnosticsWithColorAndContext(list, host));
  process.exit(1);
}
