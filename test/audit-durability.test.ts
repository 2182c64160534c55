/**
 * The audit log against a real `pack-registry` process killed with SIGKILL: a change whose answer
 * arrived is in the log after a restart, every time; a change in progress when the process died
 * is settled as interrupted by the next process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, BACKENDS, startRegistryProcess, storageEnv } from './registry-process.js';

interface Entry {
  method: string;
  path: string;
  status: number;
  outcome: string;
}

describe.each(BACKENDS)('audit log durability (%s)', (backend) => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'packyard-audit-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('keeps every acknowledged change when the process is killed right after answering', async () => {
    const env = storageEnv(backend, path.join(work, 'shared'));
    const names: string[] = [];
    for (let round = 0; round < 4; round++) {
      const registry = await startRegistryProcess({ dataDir: path.join(work, `kill-${round}`), env });
      const name = `tenant-${round}`;
      const res = await fetch(`${registry.url}/v1/tenants`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      // Killed the moment the answer is here: nothing may be left for later.
      registry.child.kill('SIGKILL');
      expect(res.status).toBe(201);
      names.push(name);
      await registry.kill();
    }
    const registry = await startRegistryProcess({ dataDir: path.join(work, 'after'), env });
    try {
      const log = await fetch(`${registry.url}/v1/audit?limit=500`, { headers: AUTH });
      const entries = ((await log.json()) as { items: Entry[] }).items;
      const created = entries.filter((e) => e.method === 'POST' && e.path === '/v1/tenants' && e.status === 201);
      expect(created).toHaveLength(names.length);
      expect(entries.every((e) => e.outcome !== 'interrupted')).toBe(true);
    } finally {
      await registry.stop();
    }
  });
});
