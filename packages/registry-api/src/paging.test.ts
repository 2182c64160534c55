import { describe, expect, it } from 'vitest';
import { AnswerRefused, RegistryApiClient, type ApiRequest } from './client.js';
import { allPages, MAX_PAGES, PAGE_ALL } from './paging.js';

/** Pages of `size` numbers up to `total`, the cursor being the last number's name. */
function numbers(total: number, size: number) {
  const asked: Array<{ cursor: string | null; limit: number }> = [];
  const pageAfter = (cursor: string | null, limit: number) => {
    asked.push({ cursor, limit });
    const from = cursor === null ? 0 : Number(cursor.slice(1)) + 1;
    const items = Array.from({ length: Math.min(size, total - from) }, (_, i) => from + i);
    const last = items.at(-1);
    const more = last !== undefined && last < total - 1;
    // Names in order: n000001, n000002, ...
    return Promise.resolve({ items, nextCursor: more ? `n${String(last).padStart(6, '0')}` : null });
  };
  return { asked, pageAfter };
}

describe('allPages', () => {
  it('follows the cursors to the last page, asking for the largest pages', async () => {
    const { asked, pageAfter } = numbers(1234, 500);
    const items = await allPages(pageAfter, (problem) => new Error(problem));
    expect(items).toEqual(Array.from({ length: 1234 }, (_, i) => i));
    expect(asked).toEqual([
      { cursor: null, limit: PAGE_ALL },
      { cursor: 'n000499', limit: PAGE_ALL },
      { cursor: 'n000999', limit: PAGE_ALL },
    ]);
  });

  it('refuses a cursor that does not move on, and more pages than any collection fills', async () => {
    const stuck = () => Promise.resolve({ items: [1], nextCursor: 'same' });
    await expect(allPages(stuck, (problem) => new Error(problem))).rejects.toThrow(
      'the pages do not end (page 2, nextCursor same)',
    );
    const backwards = (cursor: string | null) =>
      Promise.resolve({ items: [1], nextCursor: cursor === 'b' ? 'a' : 'b' });
    await expect(allPages(backwards, (problem) => new Error(problem))).rejects.toThrow('page 2, nextCursor a');
    const { pageAfter } = numbers(MAX_PAGES * 2, 1);
    await expect(allPages(pageAfter, (problem) => new Error(problem))).rejects.toThrow(`page ${String(MAX_PAGES)},`);
  });

  it("is the typed client's listAll, refusing a server whose pages do not end", async () => {
    const requests: ApiRequest[] = [];
    const client = new RegistryApiClient({
      request: (request) => {
        requests.push(request);
        return Promise.resolve({ status: 200, body: { items: [], nextCursor: 'acme' } });
      },
    });
    const listing = client.tenants().listAll('listing tenants');
    await expect(listing).rejects.toBeInstanceOf(AnswerRefused);
    await expect(listing).rejects.toThrow('listing tenants');
    expect(requests.map((r) => r.path)).toEqual(['/v1/tenants?limit=500', '/v1/tenants?limit=500&cursor=acme']);
  });
});
