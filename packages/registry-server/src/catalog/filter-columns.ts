/**
 * The filter columns of the query engine: the filterable attributes of every pack's latest
 * version, one typed array per attribute in the name order, and a trigram signature of each
 * pack's search text.
 */
import { CLOUD_TYPES, LAYERS } from '@packyard/pack-core';
import type { PackEntry } from './pack-entry.js';

const NO_LAYER = 255;
/** Words of the trigram signature of each pack's search text: 256 bits. */
export const SIGNATURE_WORDS = 8;

/**
 * Sets the bit of every character trigram of `text` in `out` (SIGNATURE_WORDS words from
 * `offset`). A pack whose signature lacks one of a search term's trigram bits cannot contain the
 * term, so most packs are ruled out with a few integer tests before any substring search.
 */
export function addTrigrams(text: string, out: Uint32Array, offset: number): void {
  for (let i = 0; i + 2 < text.length; i++) {
    const hash = Math.imul(text.charCodeAt(i) * 961 + text.charCodeAt(i + 1) * 31 + text.charCodeAt(i + 2), 2654435761);
    const bit = hash >>> 24;
    const word = offset + (bit >>> 5);
    out[word] = (out[word] ?? 0) | (1 << (bit & 31));
  }
}
/** A bit per cloud type Palette ships, and one for any other (a custom cloud's name). */
export const CLOUD_BITS = new Map<string, number>(CLOUD_TYPES.map((cloud, i) => [cloud, 2 ** i]));
export const ALL_CLOUDS_BIT = CLOUD_BITS.get('all') ?? 0;
export const OTHER_CLOUDS_BIT = 2 ** CLOUD_TYPES.length;
if (CLOUD_TYPES.length > 31) throw new Error('the cloud types no longer fit a 32-bit column');

/** The bit of one cloud type. */
export function cloudBit(cloud: string): number {
  return CLOUD_BITS.get(cloud) ?? OTHER_CLOUDS_BIT;
}

/**
 * The filterable attributes of every pack's latest version, one typed array per attribute in the
 * name order, so that a query tests numbers in tight loops rather than walking objects.
 */
export class Columns {
  readonly layer: Uint8Array;
  readonly clouds: Uint32Array;
  readonly addonType: Int32Array;
  readonly registry: Int32Array;
  readonly signatures: Uint32Array;
  private readonly addonTypeIds = new Map<string, number>();
  private readonly registryIds = new Map<string, number>();

  constructor(readonly entries: readonly PackEntry[]) {
    const n = entries.length;
    this.layer = new Uint8Array(n);
    this.clouds = new Uint32Array(n);
    this.addonType = new Int32Array(n);
    this.registry = new Int32Array(n);
    this.signatures = new Uint32Array(n * SIGNATURE_WORDS);
    entries.forEach((entry, i) => {
      entry.position = i;
      this.write(i, entry);
    });
  }

  private id(map: Map<string, number>, key: string): number {
    let id = map.get(key);
    if (id === undefined) {
      id = map.size;
      map.set(key, id);
    }
    return id;
  }

  write(i: number, entry: PackEntry): void {
    const latest = entry.latest;
    const layer = latest ? (LAYERS as readonly string[]).indexOf(latest.layer) : -1;
    this.layer[i] = layer === -1 ? NO_LAYER : layer;
    let clouds = 0;
    for (const cloud of latest?.cloudTypes ?? []) clouds |= cloudBit(cloud);
    this.clouds[i] = clouds;
    this.addonType[i] = latest?.addonType ? this.id(this.addonTypeIds, latest.addonType.toLowerCase()) : -1;
    this.registry[i] = this.id(this.registryIds, entry.registry);
    this.signatures.fill(0, i * SIGNATURE_WORDS, (i + 1) * SIGNATURE_WORDS);
    addTrigrams(entry.searchText, this.signatures, i * SIGNATURE_WORDS);
  }

  layerCode(layer: string): number {
    const code = (LAYERS as readonly string[]).indexOf(layer);
    return code === -1 ? -2 : code;
  }

  addonTypeId(addonType: string): number {
    return this.addonTypeIds.get(addonType.toLowerCase()) ?? -2;
  }

  /** 1 for each registry id the caller may read. */
  readableMask(readable: (registry: string) => boolean): Uint8Array {
    const mask = new Uint8Array(this.registryIds.size);
    for (const [name, id] of this.registryIds) mask[id] = readable(name) ? 1 : 0;
    return mask;
  }
}
