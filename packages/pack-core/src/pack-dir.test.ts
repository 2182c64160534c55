/**
 * Reading a pack's files bounded by what they hold, not by the size they report: a file can grow
 * while it is read, and some say 0 and hold more (Linux's /proc files, FUSE and network mounts).
 */
import { open, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { directoryPackFiles } from './lint/pack-files.js';
import { readAtMost } from './pack-dir.js';

async function readAtMostOf(file: string, maxBytes: number): Promise<Buffer | null> {
  const handle = await open(file, 'r');
  try {
    return await readAtMost(handle, maxBytes);
  } finally {
    await handle.close();
  }
}

describe('readAtMost', () => {
  it('reads a file that reports 0 bytes to its end, but never past the bound', async () => {
    const file = '/proc/self/maps';
    const handle = await open(file, 'r');
    expect((await handle.stat()).size).toBe(0);
    await handle.close();
    const whole = await readAtMostOf(file, 1024 * 1024);
    expect(whole?.length).toBeGreaterThan(200);
    expect(whole?.toString()).toContain('[stack]');
    expect(await readAtMostOf(file, 100)).toBeNull();
  });

  it("is how lint reads a pack's files", async () => {
    const files = directoryPackFiles('/proc/self');
    expect((await files.read('maps', 1024 * 1024)).toString()).toContain('[stack]');
    await expect(files.read('maps', 100)).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
  });

  it('reads a regular file whole, and refuses one over the bound', async () => {
    const file = new URL('../package.json', import.meta.url).pathname;
    const bytes = await readFile(file);
    expect((await readAtMostOf(file, bytes.length))?.equals(bytes)).toBe(true);
    expect(await readAtMostOf(file, bytes.length - 1)).toBeNull();
  });
});
