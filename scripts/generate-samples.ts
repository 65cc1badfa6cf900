/**
 * `npm run samples`: writes each provider's sample export (5,000 rows, fixed seed) to
 * `templates/<provider>/samples/`. The generators are deterministic, so running it again changes nothing unless
 * a generator changed.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { PROVIDER_MAPPINGS } from '../src/modules/pipelines/providers';
import { SAMPLE_FILES, TEMPLATES_DIR } from '../src/modules/pipelines/templates/templates-dir';

const ROWS = 5000;

async function main(): Promise<void> {
  for (const mapping of PROVIDER_MAPPINGS) {
    const file = path.join(TEMPLATES_DIR, SAMPLE_FILES[mapping.provider]);
    mkdirSync(path.dirname(file), { recursive: true });
    await pipeline(Readable.from(mapping.sample(ROWS, 2026)), stringify(), createWriteStream(file));
    console.log(`${path.relative(process.cwd(), file)}: ${ROWS} rows`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
