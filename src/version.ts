import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The package version, read once (works from src/ under ts-node and from dist/). */
export const version: string = (
  JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;
