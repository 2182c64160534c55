import type { PackArchive } from '@packyard/pack-core';
import { describe, expect, it } from 'vitest';
import { OpenedArchives } from './opened-archives.js';

/** A stand-in archive with `entries` directory entries. */
function archiveOf(entries: number): PackArchive {
  return { entries: Array.from({ length: entries }, (_, i) => ({ path: `f${i}` })) } as unknown as PackArchive;
}

describe('OpenedArchives', () => {
  it('opens an archive once, for concurrent and later reads alike', async () => {
    const archives = new OpenedArchives({ maxArchives: 4, maxEntries: 100 });
    let opened = 0;
    const open = () => {
      opened++;
      return Promise.resolve(archiveOf(3));
    };
    const [a, b] = await Promise.all([archives.get('sha256:a', open), archives.get('sha256:a', open)]);
    expect(a).toBe(b);
    expect(await archives.get('sha256:a', open)).toBe(a);
    expect(opened).toBe(1);
  });

  it('drops the least recently used archives past the entry bound', async () => {
    const archives = new OpenedArchives({ maxArchives: 10, maxEntries: 100 });
    const opens: string[] = [];
    const open = (digest: string, entries: number) => () => {
      opens.push(digest);
      return Promise.resolve(archiveOf(entries));
    };
    await archives.get('a', open('a', 40));
    await archives.get('b', open('b', 40));
    await archives.get('a', open('a', 40)); // a is now the most recently used
    await archives.get('c', open('c', 40)); // 120 entries: b goes
    expect(archives.heldEntries).toBe(80);
    await archives.get('a', open('a', 40));
    await archives.get('b', open('b', 40));
    expect(opens).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not keep an archive that failed to open', async () => {
    const archives = new OpenedArchives({ maxArchives: 4, maxEntries: 100 });
    await expect(archives.get('x', () => Promise.reject(new Error('storage is unavailable')))).rejects.toThrow();
    expect(await archives.get('x', () => Promise.resolve(archiveOf(1)))).toBeDefined();
    expect(archives.heldEntries).toBe(1);
  });
});
