/**
 * `packctl pull NAME[@VERSION|@RANGE|@TAG]`: resolves the selector on the server, downloads the
 * archive, and keeps it only if its sha256 is the digest of the version record (a server that sends
 * other bytes is refused); `--extract` unpacks it with pack-core's checks, which refuse paths
 * leaving the directory, symlinks and other special entries even from a hostile server.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestingStream, extractPackArchive } from '@packyard/pack-core';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { printJson, type OutputFormat } from '../output/terminal.js';
import { RegistryClient } from '../registry/client.js';

export interface PullOptions {
  registry: string;
  output: string;
  extract?: boolean;
  server?: string;
  config?: string;
  format: OutputFormat;
}

interface VersionRecord {
  name: string;
  version: string;
  digest: string;
  size: number;
  deprecated: { message: string } | null;
}

export function parsePackRef(ref: string): { name: string; selector: string | null } {
  const at = ref.indexOf('@');
  if (at === 0 || at === ref.length - 1) {
    throw new CliError(`${ref} is not NAME or NAME@VERSION`, { exitCode: EXIT.usage, hint: 'e.g. cni-calico@3.27.x' });
  }
  return at < 0 ? { name: ref, selector: null } : { name: ref.slice(0, at), selector: ref.slice(at + 1) };
}

/**
 * Downloads `record`'s archive into `dir` as `<name>-<version>.zip`, keeping it only if its bytes
 * hash to the record's digest; returns the file.
 */
export async function downloadVerified(
  client: RegistryClient,
  registry: string,
  record: { name: string; version: string; digest: string; size: number },
  dir: string,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, `${record.name}-${record.version}.zip`);
  const partial = `${target}.partial`;
  const base = `/v1/registries/${encodeURIComponent(registry)}/packs/${encodeURIComponent(record.name)}`;
  const res = await client.send('GET', `${base}/${encodeURIComponent(record.version)}/archive`);
  await client.check(res, `downloading ${record.name}@${record.version}`);
  if (!res.body) throw new CliError(`${client.server} sent no body for ${record.name}@${record.version}`);
  const hashing = digestingStream();
  try {
    await pipeline(Readable.fromWeb(res.body), hashing.stream, createWriteStream(partial));
    const { digest, size: received } = hashing.result();
    if (digest !== record.digest || received !== record.size) {
      throw new CliError(
        `${client.server} sent ${received} bytes hashing to ${digest} for ${record.name}@${record.version}, whose record says ${record.digest} (${record.size} bytes): refused`,
        { hint: 'pull again; if it persists, the registry or something between you and it is damaging archives' },
      );
    }
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
  return target;
}

export async function pullCommand(ref: string, options: PullOptions): Promise<ExitCode> {
  const { name, selector } = parsePackRef(ref);
  const client = await RegistryClient.open(options);
  const base = `/v1/registries/${encodeURIComponent(options.registry)}/packs/${encodeURIComponent(name)}`;
  let version = selector;
  if (version === null) {
    const pack = await client.json<{ latest: string | null }>('GET', base, `looking up ${name} in ${options.registry}`);
    if (!pack.latest)
      throw new CliError(`${name} has no live version in ${options.registry}`, { exitCode: EXIT.notFound });
    version = pack.latest;
  }
  const record = await client.json<VersionRecord>(
    'GET',
    `${base}/${encodeURIComponent(version)}`,
    `looking up ${name}@${version} in ${options.registry}`,
  );
  const target = await downloadVerified(client, options.registry, record, options.output);
  let extracted: string | null = null;
  if (options.extract) {
    extracted = path.join(options.output, `${record.name}-${record.version}`);
    await extractPackArchive(target, extracted);
  }
  const result = { name: record.name, version: record.version, digest: record.digest, file: target, extracted };
  if (options.format === 'json') printJson(result);
  else {
    if (record.deprecated)
      process.stderr.write(`warning: ${record.name}@${record.version} is deprecated: ${record.deprecated.message}\n`);
    process.stdout.write(`pulled ${record.name}@${record.version} ${record.digest} -> ${extracted ?? target}\n`);
  }
  return EXIT.ok;
}
