/**
 * Every named path parameter is checked against its grammar before any route sees it, so that a
 * value that could never name anything (`..%2F`, a right-to-left override, a 1,000-character
 * version, a NUL) is a 400 INVALID_NAME with the rule, never a storage key, a lookup or a 500.
 * The grammars are the ones the resources are created with: pack-core's for pack names, versions
 * and selectors, the identity schemas' for tenants, users and roles.
 */
import type { Router } from 'express';
import { isPackName, isPackVersion, isVersionSelector, type PackError } from '@packyard/pack-core';
import { AUDIT_ID } from '../audit/audit-log.js';
import { REGISTRY_NAME_PATTERN, ROLE_NAME_PATTERN, SLUG_PATTERN, USERNAME_PATTERN } from '@packyard/registry-api';
import { registryError } from '../errors.js';

interface Grammar {
  /** What the parameter names, for the message. */
  what: string;
  valid: (value: string) => boolean;
  rule: string;
}

const matching = (pattern: string, maxLength = 64) => {
  const re = new RegExp(pattern);
  return (value: string) => value.length <= maxLength && re.test(value);
};

const slug = matching(SLUG_PATTERN);
const username = matching(USERNAME_PATTERN, 128);
/** Record ids the registry makes (bindings, API keys): short runs of letters, digits, - and _. */
const recordId = matching('^[A-Za-z0-9_-]{1,64}$');
const SLUG_RULE = 'lowercase letters, digits and inner hyphens, at most 64 characters';

export const PATH_GRAMMARS: Readonly<Record<string, Grammar>> = {
  registry: { what: 'registry name', valid: matching(REGISTRY_NAME_PATTERN), rule: SLUG_RULE },
  name: { what: 'pack name', valid: isPackName, rule: SLUG_RULE },
  version: {
    what: 'version or selector',
    valid: (value) => isPackVersion(value) || isVersionSelector(value),
    rule: 'a version (1.29.4, 22.04), a line tag (1.29.x) or a range (>=1.29 <1.30), at most 256 characters',
  },
  tenant: { what: 'tenant name', valid: slug, rule: SLUG_RULE },
  project: { what: 'project name', valid: slug, rule: SLUG_RULE },
  team: { what: 'team name', valid: slug, rule: SLUG_RULE },
  profile: { what: 'cluster profile name', valid: slug, rule: SLUG_RULE },
  // Usernames are matched in lower case (the routes lower-case them).
  user: {
    what: 'username',
    valid: (value) => username(value.toLowerCase()),
    rule: 'letters, digits and . _ @ + -, at most 128 characters',
  },
  role: {
    what: 'role name',
    valid: matching(ROLE_NAME_PATTERN),
    rule: 'letters, digits, spaces and . _ -, at most 64 characters',
  },
  binding: { what: 'role binding id', valid: recordId, rule: 'the id the binding was created with' },
  key: { what: 'API key id', valid: recordId, rule: 'the id the key was created with' },
  entry: { what: 'audit entry id', valid: (value) => AUDIT_ID.test(value), rule: 'an id from the audit list' },
  revision: {
    what: 'profile revision',
    valid: matching('^[1-9][0-9]{0,8}$'),
    rule: 'a whole number from 1 (packctl profile show says the current one)',
  },
};

/** The value as it may appear in a message: short, and without control or format characters. */
function shown(value: string): string {
  const visible = value.slice(0, 64).replace(/[\p{Cc}\p{Cf}]/gu, '\uFFFD');
  return JSON.stringify(value.length > 64 ? `${visible}...` : visible);
}

export function invalidName(grammar: Grammar, value: string): PackError {
  return registryError('INVALID_NAME', `${shown(value)} is not a valid ${grammar.what}`, {
    hint: `a ${grammar.what} is ${grammar.rule}`,
  });
}

/** Registers the checks on `router`: they run for every route of it that has such a parameter. */
export function checkPathParameters(router: Router): void {
  for (const [param, grammar] of Object.entries(PATH_GRAMMARS)) {
    router.param(param, (_req, _res, next, value: unknown) => {
      if (typeof value === 'string' && grammar.valid(value)) next();
      else next(invalidName(grammar, String(value)));
    });
  }
}
