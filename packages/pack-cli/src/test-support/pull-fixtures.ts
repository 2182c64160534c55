/**
 * What the pull tests share: the version record their small hostile or slow servers send for a
 * pack `demo@1.0.0` of the public registry before its archive, and the pull itself.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { runInProcess } from './run-in-process.js';

/** `packctl pull demo@1.0.0 -o <out> --extract` from the server at `url`, run in `work` (no config). */
export function pullExtracting(url: string, work: string, out: string): Promise<{ status: number; stderr: string }> {
  return runInProcess(['pull', 'demo@1.0.0', '--server', url, '-o', out, '--extract'], {
    env: { PATH: process.env['PATH'], HOME: work, PACKCTL_CONFIG: path.join(work, 'none.json') },
    cwd: work,
  });
}

/** The version record a registry answers for `archive` as `demo@1.0.0`. */
export function versionRecordOf(archive: Buffer) {
  return {
    registry: 'public',
    name: 'demo',
    version: '1.0.0',
    layer: 'addon',
    digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
    integrity: 'sha512-AAAA',
    size: archive.length,
    publishedAt: '2024-01-01T00:00:00.000Z',
    publisher: 'alice',
    message: null,
    deprecated: null,
    manifest: { name: 'demo', displayName: 'Demo', version: '1.0.0', layer: 'addon' },
    files: [],
    history: [],
    revision: 1,
  };
}
