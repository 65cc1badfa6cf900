/** Archives and signatures made outside Conflux, as another deployment or an attacker would. */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { keyIdOf } from '../../../src/core/config/signing.config';
import { type Signable, signingPayload } from '../../../src/modules/packages/package-signer';

export interface CraftedEntry {
  path: string;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory' | 'CharacterDevice';
  data?: string | Buffer;
  linkpath?: string;
}

/** A gzipped tar of exactly these headers and bodies, written block by block (no library sanitises them). */
export function craftArchive(entries: CraftedEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    const header = new Header({
      path: entry.path,
      mode: 0o644,
      size: data.length,
      mtime: new Date(0),
      type: entry.type ?? 'File',
      ...(entry.linkpath ? { linkpath: entry.linkpath } : {}),
    });
    header.encode();
    blocks.push(header.block as Buffer, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The `manifest.json` + `workflows/<key>.json` pair packArchive writes, for crafted archives to start from. */
export function wpkEntries(
  name: string,
  version: string,
  workflows: Array<{ key: string; name: string; definition: unknown }>,
): CraftedEntry[] {
  return [
    {
      path: 'manifest.json',
      data: JSON.stringify({
        format: 'conflux-wpk/1',
        name,
        version,
        workflows: workflows.map((w) => ({ key: w.key, name: w.name, file: `workflows/${w.key}.json` })),
      }),
    },
    ...workflows.map((w) => ({
      path: `workflows/${w.key}.json`,
      data: JSON.stringify({ definition: w.definition }),
    })),
  ];
}

/** A release key of another deployment: its PEM for WPK_TRUSTED_KEYS and a signer. */
export function foreignKey(): {
  publicPem: string;
  keyId: string;
  sign(artifact: Signable): string;
  privateKey: KeyObject;
} {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
    privateKey,
    sign: (artifact) => sign(null, signingPayload(artifact), privateKey).toString('base64'),
  };
}
