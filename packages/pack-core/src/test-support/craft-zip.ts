/**
 * A deliberately naive zip writer for tests: it writes whatever it is told (lying sizes, bad CRCs,
 * symlink modes, hostile names), which no well-behaved zip library would.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftEntry {
  name: string | Buffer;
  data?: Buffer | string;
  /** 0 store, 8 deflate (default). */
  method?: 0 | 8;
  /** Unix mode for the external attributes, e.g. 0o120777 for a symlink. */
  unixMode?: number;
  /** Overrides of what the headers declare. */
  declaredSize?: number;
  declaredCrc?: number;
  flags?: number;
  /** A different name in the local header than in the central directory. */
  localName?: string;
  /** A different uncompressed size in the local header than in the central directory. */
  localDeclaredSize?: number;
  /** Where the central directory says the local header is (default: where it was written). */
  centralOffset?: number;
  /** Bytes to store as the entry's data as they are (already deflated, say); needs declared sizes. */
  raw?: Buffer;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export function craftZip(entries: CraftEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.isBuffer(entry.name) ? entry.name : Buffer.from(entry.name);
    const localName = entry.localName === undefined ? name : Buffer.from(entry.localName);
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? '');
    const method = entry.method ?? 8;
    const body = entry.raw ?? (method === 8 ? deflateRawSync(data) : data);
    const crc = entry.declaredCrc ?? crc32(data);
    const size = entry.declaredSize ?? data.length;
    const flags = entry.flags ?? 0x800;
    const common = [u16(20), u16(flags), u16(method), u16(0), u16(0x21), u32(crc), u32(body.length), u32(size)];
    const localCommon = [...common.slice(0, -1), u32(entry.localDeclaredSize ?? size)];
    const local = Buffer.concat([u32(0x04034b50), ...localCommon, u16(localName.length), u16(0), localName, body]);
    const external = entry.unixMode === undefined ? 0o100644 << 16 : entry.unixMode << 16;
    centrals.push(
      Buffer.concat([
        u32(0x02014b50),
        u16((3 << 8) | 20),
        ...common,
        u16(name.length),
        u16(0),
        u16(0),
        u16(0),
        u16(0),
        u32(external),
        u32(entry.centralOffset ?? offset),
        name,
      ]),
    );
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(entries.length),
    u16(entries.length),
    u32(directory.length),
    u32(offset),
    u16(0),
  ]);
  return Buffer.concat([...locals, directory, end]);
}

const zeroStreams = new Map<number, { raw: Buffer; crc: number }>();

/**
 * `size` zero bytes deflated at level 9, with their CRC-32: the body of a zip bomb entry
 * (`{ name, raw, declaredSize: size, declaredCrc: crc }`), made once per size.
 */
export function deflatedZeros(size: number): { raw: Buffer; crc: number } {
  let found = zeroStreams.get(size);
  if (!found) {
    const zeros = Buffer.alloc(size);
    found = { raw: deflateRawSync(zeros, { level: 9 }), crc: crc32(zeros) };
    zeroStreams.set(size, found);
  }
  return found;
}

/** An entry of `size` zero bytes, deflated (about 1,000:1). */
export function zerosEntry(name: string, size: number): CraftEntry {
  const { raw, crc } = deflatedZeros(size);
  return { name, raw, declaredSize: size, declaredCrc: crc };
}
