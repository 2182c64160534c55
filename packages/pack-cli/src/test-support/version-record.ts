/**
 * A version record as a registry answers it for `archive`, a pack `demo@1.0.0` of the public
 * registry: what the tests' small hostile or slow servers send before the archive itself.
 */
import { createHash } from 'node:crypto';

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
