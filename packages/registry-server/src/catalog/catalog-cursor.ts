/**
 * Catalog page cursors: where the previous page ended, in the order it was sorted by, as opaque
 * base64url JSON. A cursor names a pack, not a position, so that pages stay right while packs
 * are added or removed between them.
 */
/** The orders a catalog page can be sorted in; a cursor is only valid in the order it was made in. */
export type CatalogSort = 'relevance' | 'name' | '-name' | 'published' | '-published';

export interface Cursor {
  sort: CatalogSort;
  /** publishedAt for the published sorts. */
  at?: string;
  /** The relevance rank, for the relevance sort. */
  rank?: number;
  registry: string;
  name: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The cursor a client sent, or null when it is not one of ours (the caller answers 400). */
export function decodeCursor(text: string): Cursor | null {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.registry !== 'string' || typeof value.name !== 'string' || typeof value.sort !== 'string') {
      return null;
    }
    return value as Cursor;
  } catch {
    return null;
  }
}
