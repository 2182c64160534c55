/**
 * Reading Chart.yaml out of a chart archive as Helm's loader does (which entry is the chart's
 * Chart.yaml, which entries it refuses), and within bounds: gunzipping stops at the first cap,
 * reading stops at Chart.yaml, and a broken archive ends in a PackError.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { helmChartPath, readChartMetadata, readChartMetadataFromBuffer, writeTarGz } from './chart-archive.js';
import { chartYaml, craftTar, craftTgz, tarHeader, type CraftTarEntry } from './test-support/craft-tar.js';

const MIB = 1024 * 1024;

describe('which entry is the chart’s Chart.yaml (Helm’s loader: first path segment stripped)', () => {
  it.each<[string, CraftTarEntry[], string]>([
    ['helm package’s layout', [{ name: 'demo/Chart.yaml', data: chartYaml('demo', '1.0.0') }], 'demo'],
    [
      'entries under ./',
      [
        { name: './', type: '5' },
        { name: './Chart.yaml', data: chartYaml('dot', '2.0.0') },
        { name: './templates/a.yaml', data: 'kind: ConfigMap\n' },
      ],
      'dot',
    ],
    [
      'a subchart’s Chart.yaml first',
      [
        { name: 'demo/charts/sub/Chart.yaml', data: chartYaml('sub', '9.9.9') },
        { name: 'demo/Chart.yaml', data: chartYaml('demo', '1.0.0') },
      ],
      'demo',
    ],
    [
      'a directory under ./ holding a Chart.yaml (not the chart’s: "sub/Chart.yaml" once stripped)',
      [
        { name: './sub/Chart.yaml', data: chartYaml('sub', '9.9.9') },
        { name: './Chart.yaml', data: chartYaml('dot', '2.0.0') },
      ],
      'dot',
    ],
    [
      'backslashes (an archive made on Windows)',
      [{ name: 'demo\\Chart.yaml', data: chartYaml('win', '1.0.0') }],
      'win',
    ],
    [
      'a path that cleans to Chart.yaml',
      [{ name: 'demo/./templates/../Chart.yaml', data: chartYaml('clean', '1.0.0') }],
      'clean',
    ],
  ])('%s', async (_label, entries, name) => {
    await expect(readChartMetadataFromBuffer(craftTgz(entries))).resolves.toMatchObject({ name });
  });

  it('reads name, version and appVersion, past a UTF-8 byte order mark', async () => {
    const tgz = craftTgz([{ name: 'x/Chart.yaml', data: `\ufeff${chartYaml('bom', '1.2.3')}appVersion: "4.5"\n` }]);
    await expect(readChartMetadataFromBuffer(tgz)).resolves.toEqual({
      name: 'bom',
      version: '1.2.3',
      appVersion: '4.5',
      apiVersion: 'v2',
    });
  });

  it.each<[string, CraftTarEntry[], string]>([
    ['a Chart.yaml at the top', [{ name: 'Chart.yaml', data: chartYaml('top', '1.0.0') }], 'CHART_UNSAFE_PATH'],
    ['an entry outside the chart directory', [{ name: 'README', data: 'x' }], 'CHART_UNSAFE_PATH'],
    ['an absolute path once stripped', [{ name: 'demo//etc/passwd', data: 'x' }], 'CHART_UNSAFE_PATH'],
    ['a parent reference', [{ name: 'demo/../../etc/x', data: 'x' }], 'CHART_UNSAFE_PATH'],
    ['a drive letter', [{ name: 'demo/c:/x', data: 'x' }], 'CHART_UNSAFE_PATH'],
    ['"Chart.yaml" as the chart directory', [{ name: 'Chart.yaml/x', data: 'x' }], 'CHART_UNSAFE_PATH'],
    [
      'only a subchart’s Chart.yaml',
      [{ name: 'demo/charts/sub/Chart.yaml', data: chartYaml('s', '1') }],
      'CHART_YAML_INVALID',
    ],
    ['only directories', [{ name: 'demo/', type: '5' }], 'CHART_NOT_TGZ'],
    ['a Chart.yaml over 1 MiB', [{ name: 'demo/Chart.yaml', data: randomBytes(MIB + 1) }], 'CHART_YAML_INVALID'],
  ])('refuses %s', async (_label, entries, code) => {
    await expect(readChartMetadataFromBuffer(craftTgz(entries))).rejects.toMatchObject({ code });
  });

  it.each([
    ['demo/Chart.yaml', 'Chart.yaml'],
    ['./templates/a.yaml', 'templates/a.yaml'],
    ['demo/charts/sub/Chart.yaml', 'charts/sub/Chart.yaml'],
    ['a\\b\\c', 'b/c'],
    ['demo/x/', 'x'],
  ])('helmChartPath(%j) is %j', (name, expected) => {
    expect(helmChartPath(name)).toEqual({ path: expected });
  });

  it('still reads what writeTarGz writes', async () => {
    const tgz = await writeTarGz([{ name: 'w/Chart.yaml', content: chartYaml('w', '0.1.0') }]);
    await expect(readChartMetadataFromBuffer(tgz)).resolves.toMatchObject({ name: 'w', version: '0.1.0' });
  });
});

/** A gzip stream of a tar whose first entry is `size` zero bytes, then a Chart.yaml. */
async function zerosThenChart(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  gzip.write(tarHeader('demo/zeros.bin', size));
  const zeros = Buffer.alloc(MIB);
  for (let left = size; left > 0; left -= MIB) {
    if (!gzip.write(zeros.subarray(0, Math.min(MIB, left)))) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end(craftTar([{ name: 'demo/Chart.yaml', data: chartYaml('bomb', '1.0.0') }]));
  await done;
  return Buffer.concat(out);
}

describe('bounded decompression', () => {
  it('stops a gzip bomb at 200 times its size, whether or not the size is known', async () => {
    const bomb = await zerosThenChart(64 * MIB); // about 64 KiB of gzip
    await expect(readChartMetadataFromBuffer(bomb)).rejects.toMatchObject({ code: 'CHART_TOO_LARGE' });
    await expect(readChartMetadata(Readable.from([bomb]))).rejects.toMatchObject({ code: 'CHART_TOO_LARGE' });
  });

  it('refuses an entry whose header alone passes the cap, without inflating it', async () => {
    const tgz = gzipSync(tarHeader('demo/huge.bin', 2 ** 40));
    await expect(readChartMetadataFromBuffer(tgz)).rejects.toMatchObject({ code: 'CHART_TOO_LARGE' });
  });

  it('takes the caps from the limits given', async () => {
    const tgz = craftTgz([
      { name: 'demo/values.yaml', data: randomBytes(2 * MIB) },
      { name: 'demo/Chart.yaml', data: chartYaml('demo', '1.0.0') },
    ]);
    await expect(readChartMetadataFromBuffer(tgz)).resolves.toMatchObject({ name: 'demo' });
    await expect(readChartMetadataFromBuffer(tgz, { limits: { maxEntrySize: MIB } })).rejects.toMatchObject({
      code: 'CHART_TOO_LARGE',
    });
  });

  it('draws on a budget shared by the charts of one upload', async () => {
    const tgz = craftTgz([
      { name: 'demo/values.yaml', data: randomBytes(MIB) },
      { name: 'demo/Chart.yaml', data: chartYaml('demo', '1.0.0') },
    ]);
    const budget = { remaining: 1.5 * MIB };
    await expect(readChartMetadataFromBuffer(tgz, { budget })).resolves.toMatchObject({ name: 'demo' });
    await expect(readChartMetadataFromBuffer(tgz, { budget })).rejects.toMatchObject({ code: 'CHART_TOO_LARGE' });
  });

  it('stops reading at Chart.yaml: the rest is neither read nor checked', async () => {
    const tgz = craftTgz([
      { name: 'demo/Chart.yaml', data: chartYaml('demo', '1.0.0') },
      { name: 'demo/images.tar', data: randomBytes(4 * MIB) },
    ]);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let at = 0; at < tgz.length; at += 64 * 1024) {
          pulled += Math.min(64 * 1024, tgz.length - at);
          yield tgz.subarray(at, at + 64 * 1024);
        }
      })(),
    );
    await expect(readChartMetadata(source)).resolves.toMatchObject({ name: 'demo' });
    expect(pulled).toBeLessThan(tgz.length / 2);
    // Cut short after Chart.yaml: what follows is not looked at.
    await expect(readChartMetadataFromBuffer(tgz.subarray(0, 100_000))).resolves.toMatchObject({ name: 'demo' });
  });
});

describe('broken chart archives end in a PackError', () => {
  const chart = craftTgz([
    { name: 'demo/values.yaml', data: 'a: 1\n'.repeat(2000) },
    { name: 'demo/Chart.yaml', data: chartYaml('demo', '1.0.0') },
  ]);
  it.each<[string, Buffer]>([
    [
      'a tar entry shorter than its header says',
      gzipSync(craftTar([{ name: 'demo/x', data: 'abc', declaredSize: 1024 }], { end: false }).subarray(0, 600)),
    ],
    ['a gzip stream cut short', chart.subarray(0, chart.length - 40)],
    ['bytes that are not gzip', Buffer.from('not a chart')],
    ['gzip of bytes that are not tar', gzipSync(randomBytes(4096))],
    ['an empty gzip stream', gzipSync(Buffer.alloc(0))],
  ])('%s', async (_label, bytes) => {
    await expect(readChartMetadataFromBuffer(bytes)).rejects.toMatchObject({ code: expect.stringMatching(/^CHART_/) });
  });
});
