/** How the catalog writes sizes, dates, version bounds and where a profile lives. */
import type { ProfileScopeRef } from './router.js';

/** 8.1 KiB, 1.2 MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A dependency's version bounds: ">= 1.27, <= 1.29", or "" for none. */
export function rangeText(min: string | null | undefined, max: string | null | undefined): string {
  return [min ? `>= ${min}` : '', max ? `<= ${max}` : ''].filter(Boolean).join(', ');
}

export function scopeLabel(where: ProfileScopeRef): string {
  if (where.scope === 'system') return 'System';
  if (where.scope === 'tenant') return `Tenant ${where.tenant}`;
  return `Project ${where.tenant}/${where.project}`;
}

/** "cluster profile, 6 packs, aws" from the stored profile. */
export function describeProfile(profile: { [key: string]: unknown }): string {
  const type = profile['type'] === 'add-on' ? 'add-on profile' : 'cluster profile';
  const packs = Array.isArray(profile['packs']) ? profile['packs'].length : 0;
  const cloud = typeof profile['cloudType'] === 'string' ? `, ${profile['cloudType']}` : '';
  return `${type}, ${packs} ${packs === 1 ? 'pack' : 'packs'}${cloud}`;
}
