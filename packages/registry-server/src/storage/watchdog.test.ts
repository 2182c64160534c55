import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { idleBounded } from './watchdog.js';

describe('idleBounded', () => {
  it('passes a body through whole', async () => {
    const source = Readable.from([Buffer.from('abc'), Buffer.from('defgh')]);
    const body = idleBounded(source, 1000, () => new Error('idle'));
    expect(await text(body)).toBe('abcdefgh');
  });

  it('fails a body that stops sending while its reader asks for bytes', async () => {
    const source = new Readable({ read() {} });
    source.push('abc');
    const body = idleBounded(source, 50, () => new Error('no bytes for 50 ms'));
    await expect(text(body)).rejects.toThrow('no bytes for 50 ms');
  });
});
