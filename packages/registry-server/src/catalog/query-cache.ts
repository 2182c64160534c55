/**
 * Recent answers of the catalog's JSON queries: profile builders and CI ask the same questions
 * often. An answer is keyed by the query and the registries the caller may read, and is stale
 * once the index has changed (its generation moved on).
 */
import { LRUCache } from 'lru-cache';
import type { CatalogQuery } from './query-engine.js';

export class QueryCache {
  private readonly answers: LRUCache<string, { generation: number; json: string }>;

  /** `size`: how many answers are kept, at least 1. */
  constructor(size: number) {
    this.answers = new LRUCache({ max: size });
  }

  /**
   * The answer to `query` for the registry mask `readable` as of `generation`: the one kept when
   * it is of that generation, else `make()`'s, which is kept.
   */
  answer(query: CatalogQuery, readable: Uint8Array, generation: number, make: () => string): string {
    // Keys sorted: the same query asked with its parameters in another order is the same question.
    const key = `${readable.join('')}\u0000${JSON.stringify(query, Object.keys(query).sort())}`;
    const cached = this.answers.get(key);
    if (cached?.generation === generation) return cached.json;
    const json = make();
    this.answers.set(key, { generation, json });
    return json;
  }
}
