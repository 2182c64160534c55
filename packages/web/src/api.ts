/**
 * The registry's public JSON API, as the catalog calls it: the same routes and types packctl uses
 * (@packyard/registry-api). The access token of a signed-in visitor lives in this module's memory
 * only (never in localStorage or a cookie): a reload signs out, and no other page can send it.
 */
import type {
  CatalogPage,
  Me,
  PackDetail,
  PackDownloads,
  PackUsage,
  PageOf,
  ProfileView,
  Project,
  Registry,
  Tenant,
  Token,
  VersionRecord,
} from '@packyard/registry-api';
import { profilesApiPath, type ProfileScopeRef } from '@packyard/registry-api/catalog-pages';
import { allPages } from '@packyard/registry-api/paging';

export type { CatalogPage, Me, PackDetail, PackDownloads, PackUsage, ProfileView, Registry, VersionRecord };

/** An answer other than 2xx, with the registry's stable code and hint. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

let token: string | null = null;
let expiresAt = 0;
const listeners = new Set<() => void>();

/** Told when the visitor signs in or out. */
export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function sessionChanged(): void {
  for (const listener of listeners) listener();
}

export function signedIn(): boolean {
  if (token !== null && Date.now() >= expiresAt) signOut();
  return token !== null;
}

function headers(extra?: HeadersInit): Headers {
  const out = new Headers(extra);
  out.set('Accept', 'application/json');
  if (signedIn() && token !== null) out.set('Authorization', `Bearer ${token}`);
  return out;
}

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string; hint?: string };
  } | null;
  const error = body?.error;
  return new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText, error?.hint);
}

async function send(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
  // credentials: 'omit': the API is authorised by the bearer token alone, so no cookie can make a
  // request on the visitor's behalf (CSRF has nothing to ride on).
  const res = await fetch(path, { ...init, headers: headers(init.headers), credentials: 'omit', signal });
  if (!res.ok) throw await failure(res);
  return res;
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await send(path, {}, signal)).json() as Promise<T>;
}

const seg = encodeURIComponent;

export interface SearchQuery {
  q?: string;
  layer?: string;
  cloudType?: string;
  addonType?: string;
  registry?: string;
  deprecated?: boolean;
  sort?: 'name' | '-published';
}

export type Facets = NonNullable<CatalogPage['facets']>;

/** Results per search: two screens of cards; the count says how many more match. */
export const PAGE_SIZE = 30;

/** A page of matches with their facet counts; with `cursor`, the next page (no facets: they are known). */
export function searchPacks(query: SearchQuery, signal?: AbortSignal, cursor?: string): Promise<CatalogPage> {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor === undefined) params.set('facets', 'true');
  else params.set('cursor', cursor);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  return getJson(`/v1/packs?${params.toString()}`, signal);
}

/** The registries (the visitor may read) holding a pack of this exact name, as catalog rows. */
export async function packsNamed(name: string, signal?: AbortSignal): Promise<CatalogPage['items']> {
  const params = new URLSearchParams({ name, limit: '20' });
  return (await getJson<CatalogPage>(`/v1/packs?${params.toString()}`, signal)).items;
}

export function packDetail(registry: string, name: string, signal?: AbortSignal): Promise<PackDetail> {
  return getJson(`/v1/registries/${seg(registry)}/packs/${seg(name)}`, signal);
}

export function versionRecord(
  registry: string,
  name: string,
  version: string,
  signal?: AbortSignal,
): Promise<VersionRecord> {
  return getJson(`/v1/registries/${seg(registry)}/packs/${seg(name)}/${seg(version)}`, signal);
}

/** Who uses a version: the profiles the visitor may read that select it, and the packs naming it. */
export function packUsage(pack: PackVersionRef, signal?: AbortSignal): Promise<PackUsage> {
  return getJson(`/v1/registries/${seg(pack.registry)}/packs/${seg(pack.name)}/${seg(pack.version)}/usage`, signal);
}

/** Archive downloads per version (versions never downloaded are absent). */
export async function packDownloads(
  registry: string,
  name: string,
  signal?: AbortSignal,
): Promise<Record<string, number>> {
  const answer = await getJson<PackDownloads>(`/v1/registries/${seg(registry)}/packs/${seg(name)}/downloads`, signal);
  return answer.versions;
}

/** A version of a pack, as the file routes name it. */
export interface PackVersionRef {
  registry: string;
  name: string;
  version: string;
}

/** The URL a file of a version is served at. */
export function filePath(pack: PackVersionRef, file: string): string {
  const path = file.split('/').map(seg).join('/');
  return `/v1/registries/${seg(pack.registry)}/packs/${seg(pack.name)}/${seg(pack.version)}/files/${path}`;
}

/** What `call` resolves with, or null when the registry answered 404. */
async function unlessMissing<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** A file of a version as text (README.md, values.yaml), or null when the pack has none. */
export function packText(pack: PackVersionRef, file: string, signal?: AbortSignal): Promise<string | null> {
  return unlessMissing(send(filePath(pack, file), {}, signal).then((res) => res.text()));
}

/**
 * A file of a version as an object URL (a logo, an image of the README): fetched with the
 * visitor's token, which an <img src> could not send. Never an SVG: opened on its own, an SVG's
 * script would run in the registry's origin. The caller revokes the URL.
 */
export async function packImage(pack: PackVersionRef, file: string, signal?: AbortSignal): Promise<string | null> {
  const blob = await unlessMissing(send(filePath(pack, file), {}, signal).then((res) => res.blob()));
  if (!blob?.type.startsWith('image/') || blob.type.includes('svg')) return null;
  return URL.createObjectURL(blob);
}

/** Every item of an identity collection (tenants, projects), page after page. */
function everyItem<T>(path: string, signal?: AbortSignal): Promise<T[]> {
  return allPages(
    (cursor, limit) => {
      const after = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      return getJson<PageOf<T>>(`${path}?limit=${String(limit)}${after}`, signal);
    },
    (problem) => new Error(`${path}: ${problem}`),
  );
}

/** The names of a tenant's projects. */
async function projectsOf(tenant: string, signal?: AbortSignal): Promise<string[]> {
  return (await everyItem<Project>(`/v1/tenants/${seg(tenant)}/projects`, signal)).map((p) => p.name);
}

/** The scopes whose profiles the visitor may read: the system's, and their tenant's and projects'. */
async function profileScopes(me: Me, signal?: AbortSignal): Promise<ProfileScopeRef[]> {
  const scopes: ProfileScopeRef[] = [{ scope: 'system' }];
  if (me.kind === 'user') {
    scopes.push({ scope: 'tenant', tenant: me.tenant });
    // Bound in some projects, or (project.list tenant-wide) able to see them all.
    const projects = me.tenantPermissions.includes('project.list') ? await projectsOf(me.tenant, signal) : me.projects;
    for (const project of projects) scopes.push({ scope: 'project', tenant: me.tenant, project });
    return scopes;
  }
  const tenants = await everyItem<Tenant>('/v1/tenants', signal);
  const projects = await Promise.all(tenants.map((tenant) => projectsOf(tenant.name, signal)));
  for (const [index, tenant] of tenants.entries()) {
    scopes.push({ scope: 'tenant', tenant: tenant.name });
    for (const project of projects[index] ?? []) scopes.push({ scope: 'project', tenant: tenant.name, project });
  }
  return scopes;
}

/** Profiles per page of a scope's list here (the API's default is 100). */
export const PROFILES_PAGE = 50;

/** A page of one scope's own profiles, and the cursor of the next (null: none follow). */
export interface ProfilePageOf {
  views: ProfileView[];
  nextCursor: string | null;
}

/** A page of the profiles of exactly `where` (not those it inherits); `cursor` continues a list. */
export async function profilesOf(
  where: ProfileScopeRef,
  cursor?: string,
  signal?: AbortSignal,
): Promise<ProfilePageOf> {
  const query = new URLSearchParams({ inherited: 'false', limit: String(PROFILES_PAGE) });
  if (cursor !== undefined) query.set('cursor', cursor);
  const page = await getJson<{ items: ProfileView[]; nextCursor: string | null }>(
    `${profilesApiPath(where)}?${query.toString()}`,
    signal,
  );
  return { views: page.items, nextCursor: page.nextCursor };
}

/** The first page of a scope's own profiles. */
export interface ProfileGroup extends ProfilePageOf {
  where: ProfileScopeRef;
}

/**
 * The first page of the profiles of every scope the visitor may read, each profile in its own
 * scope only; scopes the visitor may not list, and those without profiles, are left out.
 */
export async function listProfiles(me: Me, signal?: AbortSignal): Promise<ProfileGroup[]> {
  const scopes = await profileScopes(me, signal);
  const groups = await Promise.all(
    scopes.map(async (where): Promise<ProfileGroup | null> => {
      try {
        return { where, ...(await profilesOf(where, undefined, signal)) };
      } catch (err) {
        if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return null;
        throw err;
      }
    }),
  );
  return groups.filter((group): group is ProfileGroup => group !== null && group.views.length > 0);
}

export function profile(where: ProfileScopeRef, name: string, signal?: AbortSignal): Promise<ProfileView> {
  return getJson(`${profilesApiPath(where)}/${seg(name)}`, signal);
}

export async function listRegistries(signal?: AbortSignal): Promise<Registry[]> {
  return (await getJson<{ items: Registry[] }>('/v1/registries', signal)).items;
}

export async function signIn(username: string, password: string): Promise<Me> {
  const res = await send('/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const issued = (await res.json()) as Token;
  token = issued.token;
  expiresAt = Date.now() + issued.expiresIn * 1000;
  try {
    return await getJson<Me>('/v1/auth/me');
  } catch (err) {
    signOut();
    throw err;
  }
}

export function signOut(): void {
  const was = token !== null;
  token = null;
  expiresAt = 0;
  if (was) sessionChanged();
}
