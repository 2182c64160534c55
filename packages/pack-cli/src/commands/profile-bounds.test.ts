/**
 * `packctl profile resolve` against a hostile registry whose version records list as many
 * dependencies as they can: each record is bounded by what a pack.json holds (the contract's
 * schema), and a resolution by what it keeps of all of them together.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MANIFEST_DEPENDENCIES } from '@packyard/registry-api';
import { RegistryClient } from '../registry/client.js';
import { MAX_PROFILE_LISTED, registrySource } from './profile.js';

/** Dependencies each record lists: the bound of one record, or one past it. */
let listed = 0;
let server: Server;
let url: string;

function record(name: string) {
  const dependencies = Array.from({ length: listed }, (_, i) => ({
    packName: `m${i}`,
    layer: 'addon',
    type: 'required',
  }));
  return {
    registry: 'public',
    name,
    version: '1.0.0',
    layer: 'addon',
    digest: `sha256:${'0'.repeat(64)}`,
    integrity: 'sha256-AAAA',
    size: 10,
    publishedAt: '2024-01-01T00:00:00.000Z',
    publisher: 'alice',
    message: null,
    deprecated: null,
    manifest: { name, displayName: name, version: '1.0.0', layer: 'addon', constraints: { dependencies } },
    files: [],
    history: [],
    revision: 1,
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const name = /\/packs\/([a-z0-9-]+)\/1\.0\.0/.exec(req.url ?? '')?.[1];
    if (name === undefined || (req.url ?? '').includes('/files/')) res.writeHead(404).end();
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(record(name)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('profile resolution keeps a bounded amount of what servers list', () => {
  it('refuses a record listing more dependencies than a pack.json can hold', async () => {
    listed = MAX_MANIFEST_DEPENDENCIES + 1;
    const source = registrySource(RegistryClient.connect(url, { insecure: false }));
    await expect(source.details('public', 'a', '1.0.0')).rejects.toThrow('does not match the API');
  });

  it('refuses records that list more than MAX_PROFILE_LISTED dependencies together', async () => {
    listed = MAX_MANIFEST_DEPENDENCIES;
    const source = registrySource(RegistryClient.connect(url, { insecure: false }));
    const packs = Math.ceil(MAX_PROFILE_LISTED / MAX_MANIFEST_DEPENDENCIES);
    for (let i = 0; i < packs - 1; i++) await source.details('public', `p${i}`, '1.0.0');
    await expect(source.details('public', `p${packs}`, '1.0.0')).rejects.toThrow(
      `list more than ${MAX_PROFILE_LISTED} dependencies and cloud types together`,
    );
  });
});
