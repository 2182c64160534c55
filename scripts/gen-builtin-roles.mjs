#!/usr/bin/env node
// Generates packages/registry-server/src/generated/builtin-roles.ts from the seed documents in
// seeds/: the tenant roles of seed 002 (one resourceKey x operation table per role) and the
// project roles of seed 004 (wildcards and "except *.create and *.delete" rules), expanded to
// concrete `resourceKey.operation` permissions. The roles are read from the documents, never
// retyped, so that a newer copy of a seed changes the roles by regenerating this file.
// `node scripts/gen-builtin-roles.mjs --check` fails when the generated file is out of date.
import { readFile, writeFile } from 'node:fs/promises';

const root = new URL('../', import.meta.url);
const TENANT_ROLES_SEED = 'seeds/002_ccdd1adc6c4a618c.txt';
const PROJECT_ROLES_SEED = 'seeds/004_b77f81edf80518d1.txt';
const OUT = 'packages/registry-server/src/generated/builtin-roles.ts';

/** The operations of the permission catalogue; seed 004's `activate` has no place in a registry. */
export const OPERATIONS = ['create', 'delete', 'get', 'list', 'update', 'import', 'publish', 'backup', 'restore'];

/**
 * Seed 004 names components by their API path (lower case); seed 002 and the catalogue use
 * resource keys. `gitregistry` has no counterpart among the catalogue's keys and is left out.
 */
export const COMPONENT_KEYS = {
  cloudaccount: 'cloudaccount',
  packregistry: 'packRegistry',
  role: 'role',
  user: 'user',
  team: 'team',
  tenant: 'tenant',
  project: 'project',
  clusterprofile: 'clusterProfile',
  spectrocluster: 'cluster',
};

const decode = (text) =>
  text
    .replace(/&#42;/g, '*')
    .replace(/<br\s*\/?>/g, ' ')
    .replace(/\*\*/g, '')
    .trim();

/** The cells of a markdown table row, or null when the line is not one. */
function cells(line) {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|')) return null;
  return trimmed
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => decode(cell));
}

const isRule = (row) => row.every((cell) => /^:?-*:?$/.test(cell));

/** The markdown tables of `text`, each as its rows of cells (separator rows dropped). */
function tables(text) {
  const found = [];
  let current = null;
  for (const line of text.split('\n')) {
    const row = cells(line);
    if (!row) {
      if (current) found.push(current);
      current = null;
      continue;
    }
    if (isRule(row)) continue;
    (current ??= []).push(row);
  }
  if (current) found.push(current);
  return found;
}

/**
 * Seed 002: each `<Tabs.TabPane tab="Role Name">` holds one table whose header names operations
 * (in varying order) and whose rows mark granted operations with √.
 */
export function parseTenantRoles(text) {
  const roles = [];
  const panes = text.split(/<Tabs\.TabPane\s+tab="/).slice(1);
  for (const pane of panes) {
    const name = pane.slice(0, pane.indexOf('"'));
    const table = tables(pane).find((rows) => rows[0]?.some((cell) => /^create$/i.test(cell)));
    if (!table) throw new Error(`seed 002: no permission table under the role "${name}"`);
    const [header, ...rows] = table;
    const operations = header.map((cell) => cell.toLowerCase());
    const permissions = [];
    for (const row of rows) {
      const key = row[0];
      if (!key) continue;
      row.forEach((cell, column) => {
        if (column === 0 || !cell.includes('√')) return;
        const operation = operations[column];
        if (!OPERATIONS.includes(operation)) throw new Error(`seed 002: unknown operation "${operation}" in ${name}`);
        permissions.push(`${key}.${operation}`);
      });
    }
    roles.push({ name, scope: 'tenant', seed: TENANT_ROLES_SEED, permissions: permissions.sort() });
  }
  return roles;
}

/** Seed 004's permission table: component -> operations (of the catalogue) and scopes. */
export function parseComponents(text) {
  const table = tables(text).find((rows) => rows[0]?.[0] === 'Component');
  if (!table) throw new Error('seed 004: no Component | Operations | Scopes table');
  const components = {};
  for (const [component, operations, scopes] of table.slice(1)) {
    components[component] = {
      operations: operations.split(/[,\s]+/).filter(Boolean),
      scopes: scopes.split(/[,\s]+/).filter(Boolean),
    };
  }
  return components;
}

/**
 * One cell of seed 004's Permissions column, as grants with the operations they leave out:
 * "a.* (except *.create and *.delete) b.*" excepts only a.*; a leading "(except ...)" applies to
 * every grant of the cell; "a.get, a.list" grants exactly those.
 */
export function parseGrantList(cell) {
  const grants = [];
  let leadingExcept = null;
  const pattern = /\(except([^)]*)\)|([A-Za-z]+)\.(\*|[a-z]+)/g;
  for (const match of cell.matchAll(pattern)) {
    if (match[1] !== undefined) {
      const excepted = [...match[1].matchAll(/\*\.([a-z]+)/g)].map((m) => m[1]);
      const previous = grants.at(-1);
      if (previous) previous.except.push(...excepted);
      else leadingExcept = excepted;
      continue;
    }
    grants.push({ component: match[2], operation: match[3], except: [] });
  }
  if (leadingExcept) for (const grant of grants) grant.except.push(...leadingExcept);
  return grants;
}

/**
 * Seed 004's roles of project scope with wildcards expanded: `x.*` is every operation the seeds
 * give resource x (seed 004's list and seed 002's tables), within the catalogue's operations.
 */
export function parseProjectRoles(text, operationsOf) {
  const components = parseComponents(text);
  const table = tables(text).find((rows) => rows[0]?.[0] === 'Role');
  if (!table) throw new Error('seed 004: no Role | Permissions | Scope table');
  const roles = [];
  for (const [name, permissionsCell, scope] of table.slice(1)) {
    if (scope !== 'project') continue;
    const permissions = new Set();
    for (const grant of parseGrantList(permissionsCell)) {
      const key = COMPONENT_KEYS[grant.component];
      if (!key) throw new Error(`seed 004: role ${name} names the unknown component ${grant.component}`);
      const all = new Set([
        ...(components[grant.component]?.operations ?? []).filter((op) => OPERATIONS.includes(op)),
        ...(operationsOf.get(key) ?? []),
      ]);
      const operations = grant.operation === '*' ? [...all] : [grant.operation];
      for (const operation of operations) {
        if (!grant.except.includes(operation)) permissions.add(`${key}.${operation}`);
      }
    }
    roles.push({ name, scope: 'project', seed: PROJECT_ROLES_SEED, permissions: [...permissions].sort() });
  }
  return roles;
}

/** The built-in roles of the seeds in `dir` (a URL ending in /), tenant roles first. */
export async function builtinRolesFromSeeds(dir = root) {
  const tenantRoles = parseTenantRoles(await readFile(new URL(TENANT_ROLES_SEED, dir), 'utf8'));
  const operationsOf = new Map();
  for (const role of tenantRoles) {
    for (const permission of role.permissions) {
      const [key, operation] = permission.split('.');
      if (!operationsOf.has(key)) operationsOf.set(key, new Set());
      operationsOf.get(key).add(operation);
    }
  }
  const projectRoles = parseProjectRoles(await readFile(new URL(PROJECT_ROLES_SEED, dir), 'utf8'), operationsOf);
  return [...tenantRoles, ...projectRoles];
}

function render(roles) {
  return [
    `// Generated from ${TENANT_ROLES_SEED} and ${PROJECT_ROLES_SEED} by scripts/gen-builtin-roles.mjs.`,
    '// Do not edit by hand: regenerate it from the seeds.',
    '',
    'export interface SeedRole {',
    '  name: string;',
    "  scope: 'tenant' | 'project';",
    '  /** The seed document the role and its permissions come from. */',
    '  seed: string;',
    '  permissions: readonly string[];',
    '}',
    '',
    `export const seedRoles: readonly SeedRole[] = ${JSON.stringify(roles, null, 2)};`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = render(await builtinRolesFromSeeds());
  const file = new URL(OUT, root);
  if (process.argv.includes('--check')) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${OUT} is out of date: run node scripts/gen-builtin-roles.mjs`);
      process.exitCode = 1;
    }
  } else {
    await writeFile(file, text);
    console.log(`wrote ${OUT}`);
  }
}
