/**
 * Opened archives kept per blob digest, so that reading one file out of a stored pack does not
 * parse its central directory again: on a 10,000-entry pack that costs about a third of a second
 * of a core, each time. An archive is immutable under its digest, so a kept one is never stale.
 *
 * Least recently used archives are dropped past `maxArchives`, or past `maxEntries` directory
 * entries in all (the parsed directory's size grows with its entries: about a kilobyte each).
 * Two requests for an archive being opened share the one opening; a failed opening is not kept.
 */
import type { PackArchive } from '@packyard/pack-core';

interface Slot {
  opened: Promise<PackArchive>;
  /** Directory entries, counted once the archive is open. */
  entries: number;
}

export class OpenedArchives {
  /** In least recently used order: a Map iterates in insertion order, and a use re-inserts. */
  private readonly slots = new Map<string, Slot>();
  private entries = 0;

  constructor(private readonly limits: { maxArchives: number; maxEntries: number }) {}

  /** Directory entries held in all (for tests and metrics). */
  get heldEntries(): number {
    return this.entries;
  }

  /**
   * The opened archive of `digest`, opened with `open` when not kept.
   *
   * @example
   * const archive = await archives.get(record.digest, () => openStoredPackArchive(source));
   */
  async get(digest: string, open: () => Promise<PackArchive>): Promise<PackArchive> {
    const kept = this.slots.get(digest);
    if (kept) {
      this.slots.delete(digest);
      this.slots.set(digest, kept);
      return kept.opened;
    }
    const slot: Slot = { opened: open(), entries: 0 };
    this.slots.set(digest, slot);
    let archive: PackArchive;
    try {
      archive = await slot.opened;
    } catch (err) {
      if (this.slots.get(digest) === slot) this.slots.delete(digest);
      throw err;
    }
    // Dropped while it was being opened: served, not counted.
    if (this.slots.get(digest) === slot && slot.entries === 0) {
      slot.entries = Math.max(1, archive.entries.length);
      this.entries += slot.entries;
      this.evict();
    }
    return archive;
  }

  private evict(): void {
    for (const [digest, slot] of this.slots) {
      if (this.slots.size <= this.limits.maxArchives && this.entries <= this.limits.maxEntries) return;
      this.slots.delete(digest);
      this.entries -= slot.entries;
    }
  }
}
