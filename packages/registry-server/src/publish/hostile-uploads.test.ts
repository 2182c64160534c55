/**
 * The hostile-upload corpus, generated here: every archive or body an attacker (or a broken tool)
 * might send gets a 4xx with its own code, the server keeps serving, and nothing is stored.
 */
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createDeflateRaw, crc32, gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartYaml, craftTar, craftTgz, tarHeader } from '../../../pack-core/src/test-support/craft-tar.js';
import { craftZip, zerosEntry, type CraftEntry } from '../../../pack-core/src/test-support/craft-zip.js';
import { pino } from 'pino';
import type { ArchiveLimits } from '@packyard/pack-core';
import { createApp } from '../app.js';
import { resolveConfig } from '../config/config.js';
import { closeServices, createServices, type RegistryServices } from '../services.js';
import { createStore } from '../storage/create-store.js';
import type { PackInspectorOptions } from './pack-inspector.js';
import {
  ADMIN_TOKEN,
  AUTH,
  buildTestPack,
  DRIVERS,
  startTestRegistry,
  storageFile,
  SUPER_ADMIN,
  tempDir,
  TEST_PASSWORD_HASH_COST,
  type TestRegistry,
} from '../test-support/test-registry.js';

const GIB = 1024 * 1024 * 1024;

/** A real deflate stream of 1 GiB of zeros (about 1 MiB), with its CRC-32, made without holding 1 GiB. */
async function gigabyteOfZeros(): Promise<{ raw: Buffer; crc: number }> {
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  let crc = 0;
  for (let i = 0; i < GIB / chunk.length; i++) crc = crc32(chunk, crc);
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (data: Buffer) => out.push(data));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  for (let i = 0; i < GIB / chunk.length; i++) {
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return { raw: Buffer.concat(out), crc };
}

const manifest = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({ name: 'evil', displayName: 'Evil', version: '1.0.0', layer: 'os', ...fields });
const values = { name: 'values.yaml', data: 'pack:\n  content:\n    images: []\n' };
const packJson = (data: string | Buffer = manifest()): CraftEntry => ({ name: 'pack.json', data });
/** A pack whose one chart is `tgz`, stored as packctl stores charts. */
const withChart = (tgz: Buffer): Buffer =>
  craftZip([
    packJson(manifest({ layer: 'addon', charts: ['charts/x-1.0.0.tgz'] })),
    values,
    { name: 'charts/x-1.0.0.tgz', data: tgz, method: 0 },
  ]);
const MIB = 1024 * 1024;

interface Case {
  label: string;
  body: () => Promise<Buffer> | Buffer;
  status: number;
  code: string;
}

describe.each(DRIVERS)('hostile uploads (%s)', (driver) => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let bomb: { raw: Buffer; crc: number };

  beforeAll(async () => {
    registry = await startTestRegistry(driver, { config: { limits: { maxEntries: 100 } } });
    work = await tempDir();
    bomb = await gigabyteOfZeros();
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  const cases: Case[] = [
    {
      label: 'a non-zip body',
      body: () => Buffer.from('<html>not a zip</html>'),
      status: 422,
      code: 'ARCHIVE_INVALID',
    },
    { label: 'an empty body', body: () => Buffer.alloc(0), status: 400, code: 'UPLOAD_EMPTY' },
    {
      label: 'a truncated zip',
      body: () => craftZip([packJson(), values]).subarray(0, 90),
      status: 422,
      code: 'ARCHIVE_INVALID',
    },
    {
      label: 'a zip-slip name',
      body: () => craftZip([packJson(), { name: '../../etc/cron.d/evil', data: '* * * * * root sh' }]),
      status: 422,
      code: 'ARCHIVE_UNSAFE_PATH',
    },
    {
      label: 'an absolute name',
      body: () => craftZip([packJson(), { name: '/etc/passwd', data: 'x' }]),
      status: 422,
      code: 'ARCHIVE_UNSAFE_PATH',
    },
    {
      label: 'a backslash name',
      body: () => craftZip([packJson(), { name: '..\\..\\evil.exe', data: 'x' }]),
      status: 422,
      code: 'ARCHIVE_UNSAFE_PATH',
    },
    {
      label: 'a symlink',
      body: () => craftZip([packJson(), { name: 'values.yaml', data: '/etc/shadow', unixMode: 0o120777 }]),
      status: 422,
      code: 'ARCHIVE_SPECIAL_ENTRY',
    },
    {
      label: 'duplicate entries',
      body: () => craftZip([packJson(), values, { ...values, data: 'other: 1\n' }]),
      status: 422,
      code: 'ARCHIVE_DUPLICATE_ENTRY',
    },
    {
      label: 'a 1 MiB zip that inflates to 1 GiB',
      body: () =>
        craftZip([packJson(), values, { name: 'bomb.bin', raw: bomb.raw, declaredSize: GIB, declaredCrc: bomb.crc }]),
      status: 422,
      code: 'ARCHIVE_RATIO',
    },
    {
      // Each entry is under the per-entry exemption: only their sum gives the bomb away.
      label: 'a 70 KiB zip of 60 small entries that inflate to 60 MiB',
      body: () =>
        craftZip([packJson(), values, ...Array.from({ length: 60 }, (_, i) => zerosEntry(`d/${i}`, MIB - 1))]),
      status: 422,
      code: 'ARCHIVE_TOTAL_RATIO',
    },
    {
      label: 'an entry of exactly 1 MiB compressed 1,000:1',
      body: () => craftZip([packJson(), values, zerosEntry('d/1mib', MIB)]),
      status: 422,
      code: 'ARCHIVE_RATIO',
    },
    {
      label: 'a chart whose .tgz is a gzip bomb',
      body: () =>
        withChart(
          craftTgz([
            { name: 'x/zeros', data: Buffer.alloc(64 * MIB) },
            { name: 'x/Chart.yaml', data: chartYaml('x', '1.0.0') },
          ]),
        ),
      status: 422,
      code: 'PACK_INVALID',
    },
    {
      label: 'a chart .tgz whose tar header declares a terabyte',
      body: () => withChart(gzipSync(tarHeader('x/huge', 2 ** 40))),
      status: 422,
      code: 'PACK_INVALID',
    },
    {
      label: 'a chart .tgz cut short inside a tar entry',
      body: () =>
        withChart(gzipSync(craftTar([{ name: 'x/values.yaml', data: 'a: 1\n', declaredSize: 4096 }], { end: false }))),
      status: 422,
      code: 'PACK_INVALID',
    },
    {
      label: 'a zip bomb that lies about its size',
      body: () =>
        craftZip([packJson(), values, { name: 'bomb.bin', raw: bomb.raw, declaredSize: 1000, declaredCrc: bomb.crc }]),
      status: 422,
      code: 'ARCHIVE_CORRUPT',
    },
    {
      // Stored entries are checked from the block CRC-32s taken while the upload was received.
      label: 'a stored entry, several blocks long, whose bytes do not match its CRC-32',
      body: () => {
        const data = randomBytes(300 * 1024 + 11);
        const damaged = Buffer.from(data);
        damaged[150 * 1024] = (damaged[150 * 1024] ?? 0) ^ 0x20;
        return craftZip([packJson(), values, { name: 'charts/a-1.0.0.tgz', method: 0, data, raw: damaged }]);
      },
      status: 422,
      code: 'ARCHIVE_CORRUPT',
    },
    {
      label: 'deflate data that does not decode',
      body: () =>
        craftZip([
          packJson(),
          values,
          { name: 'data.bin', raw: Buffer.from([0xff, 0xfe, 0xfd, 0x00]), declaredSize: 64 },
        ]),
      status: 422,
      code: 'ARCHIVE_CORRUPT',
    },
    {
      label: 'too many entries',
      body: () => craftZip([packJson(), ...Array.from({ length: 120 }, (_, i) => ({ name: `f/${i}.txt`, data: 'x' }))]),
      status: 422,
      code: 'ARCHIVE_TOO_MANY_ENTRIES',
    },
    {
      label: 'a local header that disagrees with the directory',
      body: () => craftZip([packJson(), { ...values, localName: 'evil.sh' }]),
      status: 422,
      code: 'ARCHIVE_HEADER_MISMATCH',
    },
    {
      label: 'a 10 MB pack.json',
      body: () =>
        craftZip([packJson(manifest({ padding: randomBytes(7.5 * 1024 * 1024).toString('base64') })), values]),
      status: 422,
      code: 'PACK_INVALID',
    },
    {
      label: 'an entry name that is not UTF-8',
      body: () => craftZip([packJson(), { name: Buffer.from([0x76, 0xff, 0xfe, 0x2e, 0x79]), data: 'x' }]),
      status: 422,
      code: 'ARCHIVE_UNSAFE_PATH',
    },
    {
      label: 'a pack.json that is not UTF-8',
      body: () => craftZip([packJson(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), values]),
      status: 422,
      code: 'PACK_INVALID',
    },
    {
      label: 'a pack.json that is not JSON',
      body: () => craftZip([packJson('{"name": "evil",'), values]),
      status: 422,
      code: 'PACK_INVALID',
    },
    {
      label: 'a pack.json with schema errors',
      body: () => craftZip([packJson(manifest({ layer: 'database', name: 'Evil Pack' })), values]),
      status: 422,
      code: 'PACK_INVALID',
    },
    { label: 'no pack.json', body: () => craftZip([values]), status: 422, code: 'PACK_INVALID' },
    {
      label: 'a chart listed but missing',
      body: () => craftZip([packJson(manifest({ layer: 'addon', charts: ['charts/x-1.0.0.tgz'] })), values]),
      status: 422,
      code: 'PACK_INVALID',
    },
  ];

  it.each(cases)('refuses $label with $status $code', async ({ body, status, code }) => {
    const res = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .set('Content-Type', 'application/zip')
      .send(await body());
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code } });
    expect(typeof (res.body as { error: { hint?: unknown } }).error.hint).toBe('string');
  });

  it('lists every lint error of a rejected pack, with rule ids', async () => {
    const res = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .send(craftZip([packJson(manifest({ layer: 'database', name: 'Evil Pack' })), values]));
    const rules = (
      res.body as { error: { details: { findings: Array<{ rule: string }> } } }
    ).error.details.findings.map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['schema-violation', 'name-invalid']));
  });

  it('kept serving and stored nothing: no blob, no record, no temporary file', async () => {
    expect((await request(registry.app).get('/livez')).status).toBe(200);
    const stored: string[] = [];
    for await (const object of registry.services.store.list('blobs/')) stored.push(object.key);
    for await (const object of registry.services.store.list('packs/')) stored.push(object.key);
    expect(stored).toEqual([]);
    expect(await readdir(registry.services.uploadDir)).toEqual([]);
    // And a good pack still goes through.
    const pack = await buildTestPack(work.dir);
    const res = await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes);
    expect(res.status).toBe(201);
  });

  it('answers YAML built to exhaust the parser: refused by its rule, or published, never a 500', async () => {
    const publish = (name: string, valuesYaml: string) =>
      request(registry.app)
        .post('/v1/registries/public/packs')
        .set(AUTH)
        .send(craftZip([packJson(manifest({ name })), { name: 'values.yaml', data: valuesYaml }]));
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      laughs.push(
        `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9)
          .fill(`*${'abcdefghij'[i - 1]}`)
          .join(',')}]`,
      );
    const bomb = await publish('alias-bomb', `${laughs.join('\n')}\n`);
    expect(bomb.status).toBe(422);
    expect(bomb.body.error.details.findings.map((f: { rule: string }) => f.rule)).toContain('yaml-alias-expansion');
    // Each of these took seconds to minutes of the event loop, or answered 500, before.
    const keys = Array.from({ length: 25_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    expect((await publish('many-keys', `${keys}\n`)).status).toBe(201);
    expect((await publish('templated-line', `x: ${'{{}}'.repeat(29)}\n`)).status).toBe(201);
    const aliases = ['base: &base {a: 1}', ...Array.from({ length: 150 }, (_, i) => `c${i}: *base`)].join('\n');
    expect((await publish('many-aliases', `${aliases}\n`)).status).toBe(201);
  });

  it('takes a chart whose entries start with ./ (as Helm does)', async () => {
    const tgz = craftTgz([
      { name: './', type: '5' },
      { name: './Chart.yaml', data: chartYaml('x', '1.0.0') },
      { name: './templates/cm.yaml', data: 'kind: ConfigMap\n' },
    ]);
    const res = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .send(
        craftZip([
          packJson(manifest({ name: 'dot-chart', layer: 'addon', charts: ['charts/x-1.0.0.tgz'] })),
          values,
          { name: 'charts/x-1.0.0.tgz', data: tgz, method: 0 },
        ]),
      );
    expect(res.status).toBe(201);
  });
});

/** A registry (fs storage) whose pack check runs with `inspection` and archive limits over the defaults. */
async function registryWith(inspection: PackInspectorOptions, archive: Partial<ArchiveLimits> = {}) {
  const { dir, cleanup } = await tempDir();
  const config = resolveConfig({
    dataDir: dir,
    logging: { level: 'silent' },
    storage: storageFile('fs', dir),
    auth: { adminToken: ADMIN_TOKEN, superAdmin: SUPER_ADMIN, passwordHashCost: TEST_PASSWORD_HASH_COST },
  });
  Object.assign(config.limits.archive, archive);
  const logger = pino({ level: 'silent' });
  const services = await createServices({
    config,
    store: await createStore(config.storage, { logger }),
    logger,
    inspection,
  });
  return {
    app: createApp(services),
    services,
    close: async () => {
      await closeServices(services);
      await cleanup();
    },
  };
}

async function storedKeys(services: RegistryServices): Promise<string[]> {
  const stored: string[] = [];
  for await (const object of services.store.list('blobs/')) stored.push(object.key);
  for await (const object of services.store.list('packs/')) stored.push(object.key);
  return stored;
}

// On the fs store only: run in the project whose drivers include fs (vitest.config.ts), once.
describe.runIf(DRIVERS.includes('fs'))('the pack check runs on worker threads, within a time budget', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(() => work.cleanup());

  it('keeps answering other requests while an expensive but valid pack is checked', async () => {
    // About 700 KB of YAML: seconds of parsing, which the main thread would spend in one go.
    const lines = ['pack:', '  content:', '    images: []', 'items:'];
    for (let i = 0; lines.length < 4 * 9000; i++) {
      lines.push(`  - name: item-${i}`, `    labels: {app: demo, tier: t${i % 7}}`, `    value: "${i}"`);
    }
    const body = craftZip([packJson(), { name: 'values.yaml', data: `${lines.join('\n')}\n` }]);
    const registry = await registryWith({});
    try {
      const started = performance.now();
      // Held in an object: TypeScript does not see assignments made inside the callback.
      const publishing = { done: false };
      const publish = request(registry.app)
        .post('/v1/registries/public/packs')
        .set(AUTH)
        .send(body)
        .then((res) => {
          publishing.done = true;
          return res;
        });
      // The time from one answer of /livez to the next, asked every 10 ms: this thread (the
      // registry's main thread) stalls for the whole parse when the check runs on it.
      const gaps: number[] = [];
      for (let last = performance.now(); !publishing.done;) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        expect((await request(registry.app).get('/livez')).status).toBe(200);
        gaps.push(performance.now() - last);
        last = performance.now();
      }
      const res = await publish;
      const publishMs = performance.now() - started;
      expect(res.status).toBe(201);
      expect(gaps.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...gaps)).toBeLessThan(Math.max(500, publishMs / 3));
    } finally {
      await registry.close();
    }
  });

  it("serves callers in turn: one queueing costly packs delays their own checks, not another's", async () => {
    const lines = ['pack:', '  content:', '    images: []', 'items:'];
    for (let i = 0; lines.length < 4 * 2500; i++) {
      lines.push(`  - name: item-${i}`, `    labels: {app: demo, tier: t${i % 7}}`, `    value: "${i}"`);
    }
    const costly = path.join(work.dir, 'costly.zip');
    await writeFile(costly, craftZip([packJson(), { name: 'values.yaml', data: `${lines.join('\n')}\n` }]));
    const cheap = path.join(work.dir, 'cheap.zip');
    await writeFile(cheap, (await buildTestPack(work.dir, { name: 'cheap' })).bytes);
    const registry = await registryWith({});
    try {
      const { inspector } = registry.services;
      const limits = registry.services.config.limits.archive;
      const finished: string[] = [];
      const check = (file: string, caller: string, label: string, signal?: AbortSignal) =>
        inspector.inspect(file, limits, undefined, { caller, ...(signal ? { signal } : {}) }).then(
          () => finished.push(label),
          (err: unknown) => {
            finished.push(`${label}: ${(err as { code?: string }).code ?? String(err)}`);
          },
        );
      // Mallory queues five, the last two of a client that went away; then alice one.
      const gone = new AbortController();
      const checks = [0, 1, 2].map((i) => check(costly, 'mallory', `mallory-${i}`));
      checks.push(
        check(costly, 'mallory', 'mallory-3', gone.signal),
        check(costly, 'mallory', 'mallory-4', gone.signal),
      );
      checks.push(check(cheap, 'alice', 'alice'));
      gone.abort();
      await Promise.all(checks);
      // The two of the departed client leave the line at once; alice goes right after mallory's first.
      expect(finished.slice(0, 2).sort()).toEqual(['mallory-3: UPLOAD_ABORTED', 'mallory-4: UPLOAD_ABORTED']);
      expect(finished.slice(2)).toEqual(['mallory-0', 'alice', 'mallory-1', 'mallory-2']);
    } finally {
      await registry.close();
    }
  });

  it('refuses a pack whose check outlives the budget with 422 PACK_TOO_EXPENSIVE, and stores nothing', async () => {
    // Ratios raised so that the directory check lets 3 GiB of zeros through: only the budget is left.
    const registry = await registryWith({ timeBudgetMs: 1500 }, { maxCompressionRatio: 2000, maxArchiveRatio: 2000 });
    try {
      const bomb = await gigabyteOfZeros();
      const entries = Array.from({ length: 3 }, (_, i) => ({
        name: `data/${i}.bin`,
        raw: bomb.raw,
        declaredSize: GIB,
        declaredCrc: bomb.crc,
      }));
      const started = performance.now();
      const res = await request(registry.app)
        .post('/v1/registries/public/packs')
        .set(AUTH)
        .send(craftZip([packJson(), values, ...entries]));
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: { code: 'PACK_TOO_EXPENSIVE', hint: expect.any(String) as string } });
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(await storedKeys(registry.services)).toEqual([]);
      expect(await readdir(registry.services.uploadDir)).toEqual([]);
      // The terminated worker is replaced: the next pack goes through.
      const pack = await buildTestPack(work.dir);
      expect((await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status).toBe(
        201,
      );
    } finally {
      await registry.close();
    }
  });
});
