/**
 * Entry streams own what they read from: whether the consumer reads to the end, stops half-way
 * (an aborted download) or meets a corrupt entry, every stream opened on the archive's source is
 * closed. One opened archive serves many reads at once.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { countingSource } from '../test-support/counting-source.js';
import { craftZip } from '../test-support/craft-zip.js';
import { openStoredPackArchive } from './read-archive.js';

const big = randomBytes(2 * 1024 * 1024 + 3);
const text = Buffer.from(Array.from({ length: 100_000 }, (_, i) => `key-${i}: ${(i * 7919) % 100_003}\n`).join(''));
const bytes = craftZip([
  { name: 'a.bin', data: big, method: 0 },
  { name: 'b.yaml', data: text },
  { name: 'empty.txt', data: '' },
  { name: 'pack.json', data: '{}' },
  { name: 'z-bad-crc.yaml', data: text, declaredCrc: 7 },
  { name: 'z-bad-deflate.bin', raw: Buffer.from([0xff, 0xfe, 0xfd, 0xfc]), declaredSize: 64 },
]);

/** Lets destroyed streams emit 'close' (a tick or two). */
const settle = () => sleep(20);

async function opened() {
  const counting = countingSource(bytes);
  const archive = await openStoredPackArchive(counting.source);
  // Opening reads the directory and closes what it read.
  await settle();
  expect(counting.open()).toBe(0);
  return { counting, archive };
}

describe('entry streams of a stored archive', () => {
  it.each(['a.bin', 'b.yaml'])('close their source when the consumer destroys them mid-read (%s)', async (name) => {
    const { counting, archive } = await opened();
    const stream = archive.stream(name);
    await new Promise<void>((resolve) =>
      stream.once('data', () => {
        resolve();
      }),
    );
    stream.destroy();
    await settle();
    expect(counting.opened()).toBeGreaterThan(0);
    expect(counting.open()).toBe(0);
  });

  it('close their source when destroyed before the first byte', async () => {
    const { counting, archive } = await opened();
    archive.stream('b.yaml').destroy();
    await settle();
    expect(counting.open()).toBe(0);
  });

  it('close their source when read to the end, and return the exact bytes', async () => {
    const { counting, archive } = await opened();
    expect((await archive.read('a.bin')).equals(big)).toBe(true);
    expect((await archive.read('b.yaml')).equals(text)).toBe(true);
    expect((await archive.read('empty.txt')).length).toBe(0);
    await settle();
    expect(counting.open()).toBe(0);
  });

  it.each(['z-bad-crc.yaml', 'z-bad-deflate.bin'])('end %s as ARCHIVE_CORRUPT and close the source', async (name) => {
    const { counting, archive } = await opened();
    await expect(archive.read(name)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', status: 422 });
    await settle();
    expect(counting.open()).toBe(0);
  });

  it('serve many concurrent reads from one opened archive (no state shared between reads)', async () => {
    const { counting, archive } = await opened();
    const names = ['a.bin', 'b.yaml', 'pack.json', 'empty.txt'];
    const reads = Array.from({ length: 24 }, (_, i) => names[i % names.length] ?? 'a.bin');
    const expected: Record<string, Buffer> = {
      'a.bin': big,
      'b.yaml': text,
      'pack.json': Buffer.from('{}'),
      'empty.txt': Buffer.alloc(0),
    };
    // Half are abandoned after their first chunk while the others run.
    const abandoned = reads.map(async (name, i) => {
      if (i % 2 === 0) return;
      const stream = archive.stream(name);
      stream.once('data', () => stream.destroy());
      await finished(stream).catch(() => undefined);
    });
    const results = await Promise.all(reads.map((name) => archive.read(name)));
    await Promise.all(abandoned);
    results.forEach((result, i) => {
      expect(result.equals(expected[reads[i] ?? ''] ?? Buffer.alloc(1))).toBe(true);
    });
    await settle();
    expect(counting.open()).toBe(0);
  });

  it.each<[string, number]>([
    ['inside another entry', 0],
    ['where its data would run into the central directory', 70],
  ])('end an entry whose local header the directory puts %s as ARCHIVE_CORRUPT', async (_label, offset) => {
    const zip = craftZip([
      { name: 'a.txt', data: 'first', method: 0 },
      { name: 'b.txt', data: 'second', method: 0, centralOffset: offset },
    ]);
    const counting = countingSource(zip);
    const archive = await openStoredPackArchive(counting.source);
    await expect(archive.read('b.txt')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    await settle();
    expect(counting.open()).toBe(0);
  });

  it('verify() checks every entry through the source and closes it all', async () => {
    const { counting, archive } = await opened();
    await expect(archive.verify()).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: /^z-bad-crc/ });
    await settle();
    expect(counting.open()).toBe(0);
  });
});
