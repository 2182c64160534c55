/**
 * A naive tar writer for tests, like craft-zip: it writes what it is told (a header size that
 * lies, names a tar library would refuse, a missing end), so chart archives can be made hostile.
 */
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface CraftTarEntry {
  name: string;
  data?: Buffer | string;
  /** The size the header declares (default: the data's). */
  declaredSize?: number;
  /** Type flag: '0' file (default), '5' directory, '2' symlink. */
  type?: string;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value.slice(0, length), offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/**
 * One ustar header block. A name past the name field's 100 bytes is split at a `/` into the prefix
 * field (155 bytes) and the name, as ustar writes names of up to 256 bytes.
 */
export function tarHeader(name: string, size: number, type = '0'): Buffer {
  const header = Buffer.alloc(BLOCK);
  const split = name.length > 100 ? name.lastIndexOf('/', 155) : -1;
  field(header, 0, 100, split > 0 ? name.slice(split + 1) : name);
  if (split > 0) field(header, 345, 155, name.slice(0, split));
  field(header, 100, 8, octal(0o644, 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  // Sizes past the 11 octal digits of the field use the base-256 form.
  if (size < 8 ** 11) field(header, 124, 12, octal(size, 12));
  else {
    header[124] = 0x80;
    header.writeUIntBE(size, 130, 6);
  }
  field(header, 136, 12, octal(0, 12));
  field(header, 156, 1, type);
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

/** A tar of `entries`, each padded to whole blocks, with the two empty blocks that end a tar. */
export function craftTar(entries: CraftTarEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? '');
    parts.push(tarHeader(entry.name, entry.declaredSize ?? data.length, entry.type), data);
    const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
    parts.push(Buffer.alloc(padding));
  }
  if (options.end ?? true) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** {@link craftTar}, gzipped: a chart archive as a test wants it. */
export function craftTgz(entries: CraftTarEntry[], options: { end?: boolean } = {}): Buffer {
  return gzipSync(craftTar(entries, options));
}

/** A Chart.yaml's text. */
export function chartYaml(name: string, version: string): string {
  return `apiVersion: v2\nname: ${name}\nversion: ${version}\n`;
}

/** An entry for {@link packTar}: a header as tar-stream takes it, and the data of a file. */
export type PackTarEntry = Partial<tar.Header> & { name: string; data?: string | Buffer };

/**
 * A tar written by tar-stream, which writes what craftTar does not: real symlink, hard link,
 * device and FIFO headers, and pax headers for long names.
 */
export async function packTar(entries: PackTarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { data, ...header } of entries) {
    if (data === undefined) pack.entry(header);
    else pack.entry(header, data);
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
