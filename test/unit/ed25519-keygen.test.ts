// The ephemeral key pushed by EC2 Instance Connect (src/driver/ssh2.ts generateEd25519). ssh2 1.17
// makes one ed25519 pair in 256 that it then refuses to parse (mscdex/ssh2#1513): a connect that
// fails at random with "Malformed OpenSSH private key". CI hit it in the instance-connect test.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { generateEd25519 } from '../../src/driver/ssh2.js';

const { utils } = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');

describe('generateEd25519', () => {
  it('never hands out a pair ssh2 cannot read (2,000 pairs; before the fix about 8 of them were malformed)', async () => {
    const malformed: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const { publicKey, privateKey } = await generateEd25519('test');
      for (const key of [privateKey, publicKey]) {
        const parsed = utils.parseKey(key);
        if (parsed instanceof Error) malformed.push(parsed.message);
      }
    }
    expect(malformed).toEqual([]);
  });
});
