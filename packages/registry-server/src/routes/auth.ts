/** Signing in: password login for a short-lived access token, refresh, and who the caller is. */
import type { Router } from 'express';
import { authRequired } from '../access/authorize.js';
import { principalOf } from '../access/authenticate.js';
import { loginSchema } from '../http/identity-schemas.js';
import { bodyValidator } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { jsonBody } from './route-helpers.js';

const readLogin = bodyValidator(loginSchema);

export function registerAuthRoutes(router: Router, services: RegistryServices): void {
  router.post('/v1/auth/login', jsonBody, async (req, res) => {
    const { username, password } = readLogin(req.body);
    const issued = await services.sessions.login(username.toLowerCase(), password, req.ip ?? 'unknown');
    res.set('Cache-Control', 'no-store').json(issued);
  });

  router.post('/v1/auth/refresh', (req, res) => {
    const principal = principalOf(req);
    if (principal.kind === 'anonymous') throw authRequired('refreshing a token');
    res.set('Cache-Control', 'no-store').json(services.sessions.refresh(principal));
  });

  router.get('/v1/auth/me', (req, res) => {
    const principal = principalOf(req);
    if (principal.kind === 'anonymous') throw authRequired('GET /v1/auth/me');
    if (principal.kind === 'operator') {
      res.json({ kind: 'operator', username: principal.name, tenant: null, roles: ['SuperAdmin'] });
      return;
    }
    const access = services.access.accessOf(principal);
    const directory = services.identity.tenant(principal.tenant);
    const teams = directory.teams.filter((t) => t.members.includes(principal.username)).map((t) => t.name);
    res.json({
      kind: 'user',
      username: principal.username,
      tenant: principal.tenant,
      teams,
      bindings: directory.bindings.filter(
        (b) =>
          (b.subject.kind === 'user' && b.subject.name === principal.username) ||
          (b.subject.kind === 'team' && teams.includes(b.subject.name)),
      ),
      tenantPermissions: [...(access?.tenantPermissions ?? [])].sort(),
      projects: [...(access?.associatedProjects ?? [])].sort(),
    });
  });
}
