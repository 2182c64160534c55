/**
 * Signing in: password login for a short-lived access token, refresh, who the caller is, and
 * changing one's own password.
 */
import { Login, PasswordChange, type Me, type Token } from '@packyard/registry-api';
import type { Router } from 'express';
import { authRequired } from '../access/authorize.js';
import { principalOf } from '../access/authenticate.js';
import { bodyValidator } from '../http/params.js';
import { forgetGeneratedPassword } from '../identity/bootstrap.js';
import { subjectKey, tenantIndex } from '../identity/tenant-state.js';
import type { RegistryServices } from '../services.js';
import { jsonBody } from './route-helpers.js';
import { registryError } from '../errors.js';

const readLogin = bodyValidator(Login);
const readPasswordChange = bodyValidator(PasswordChange);

export function registerAuthRoutes(router: Router, services: RegistryServices): void {
  router.post('/v1/auth/login', jsonBody, async (req, res) => {
    const { username, password } = readLogin(req.body);
    const issued = await services.sessions.login(username.toLowerCase(), password, req.ip ?? 'unknown');
    res.set('Cache-Control', 'no-store').json(issued satisfies Token);
  });

  router.post('/v1/auth/refresh', async (req, res) => {
    const principal = principalOf(req);
    if (principal.kind === 'anonymous') throw authRequired('refreshing a token');
    res.set('Cache-Control', 'no-store').json((await services.sessions.refresh(principal)) satisfies Token);
  });

  // The current password is asked for even with a valid token: a stolen token must not become a
  // stolen account, and the check goes through the login limits. The new password ends every
  // session signed in with the old one, the caller's own included.
  router.post('/v1/auth/password', jsonBody, async (req, res) => {
    const principal = principalOf(req);
    if (principal.kind === 'anonymous') throw authRequired('changing a password');
    if (principal.kind === 'operator' && principal.adminToken) {
      throw registryError('PASSWORD_NOT_APPLICABLE', 'the bootstrap admin token has no password to change');
    }
    const { currentPassword, newPassword } = readPasswordChange(req.body);
    const username = principal.kind === 'user' ? principal.username : principal.name;
    await services.sessions.confirmPassword(username, currentPassword, req.ip ?? 'unknown');
    if (principal.kind === 'user') {
      // From a session a credential made by other users opened, the new password is theirs too.
      await services.identity.updateUser(
        principal.tenant,
        username,
        { password: newPassword },
        undefined,
        principal.makers,
      );
    } else {
      await services.identity.setOperatorPassword(username, newPassword);
      await forgetGeneratedPassword({
        username,
        superAdmin: services.config.auth.superAdmin.username,
        dataDir: services.config.dataDir,
        logger: services.logger,
      });
    }
    res.status(204).end();
  });

  router.get('/v1/auth/me', (req, res) => {
    const principal = principalOf(req);
    if (principal.kind === 'anonymous') throw authRequired('GET /v1/auth/me');
    if (principal.kind === 'operator') {
      res.json({ kind: 'operator', username: principal.name, tenant: null, roles: ['SuperAdmin'] } satisfies Me);
      return;
    }
    const access = services.access.accessOf(principal);
    const directory = services.identity.tenant(principal.tenant);
    const index = tenantIndex(directory);
    const teams = [...(index.teamsOf.get(principal.username) ?? [])];
    const subjects = [
      { kind: 'user' as const, name: principal.username },
      ...teams.map((name) => ({ kind: 'team' as const, name })),
    ];
    res.json({
      kind: 'user',
      username: principal.username,
      tenant: principal.tenant,
      teams,
      bindings: subjects.flatMap((subject) => [...(index.bindingsOf.get(subjectKey(subject))?.values() ?? [])]),
      tenantPermissions: [...(access?.tenantPermissions ?? [])].sort(),
      projects: [...(access?.associatedProjects ?? [])].sort(),
    } satisfies Me);
  });
}
