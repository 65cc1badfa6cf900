#!/usr/bin/env node
// The registry mirror this project is developed against serves only the current platform's optional
// binaries, so `npm install` writes a lockfile without the other platforms' entries and `npm ci` then
// refuses it. Run this after every `npm install` that changes dependencies: it adds the missing optional
// entries, marked with the os/cpu their names declare, so npm skips them on other platforms as it should.
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const OS = [
  'darwin',
  'linux',
  'win32',
  'freebsd',
  'android',
  'openharmony',
  'sunos',
  'aix',
  'netbsd',
  'openbsd',
];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

let added = 0;
for (const [where, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${where ? `${where}/` : ''}node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
    const tokens = name.split(/[/-]/);
    const os = OS.filter((o) => tokens.includes(o));
    const cpu = CPU.filter((c) => tokens.includes(c) || (c === 'arm' && tokens.includes('armv7')));
    const placeholder = { version: version.replace(/^[\^~]/, ''), optional: true };
    if (os.length) placeholder.os = os;
    if (cpu.length) placeholder.cpu = cpu;
    lock.packages[`node_modules/${name}`] = placeholder;
    added += 1;
  }
}
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-platforms: added ${added} optional platform entries`);
