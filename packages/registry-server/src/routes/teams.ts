/** A tenant's teams and their members. */
import type { Router } from 'express';
import { newTeamSchema, teamChangesSchema } from '../http/identity-schemas.js';
import { bodyValidator, pathParam } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { tenantFor } from './identity-helpers.js';
import { callerName, jsonBody } from './route-helpers.js';

const readNewTeam = bodyValidator(newTeamSchema);
const readTeamChanges = bodyValidator(teamChangesSchema);

const TEAMS = '/v1/tenants/:tenant/teams';
const TEAM = `${TEAMS}/:team`;

export function registerTeamRoutes(router: Router, services: RegistryServices): void {
  router.get(TEAMS, (req, res) => {
    res.json({ items: tenantFor(services, req, 'team.list').teams });
  });

  router.post(TEAMS, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'team.create').tenant.name;
    const team = await services.identity.createTeam(tenant, readNewTeam(req.body), callerName(req));
    res.status(201).location(`/v1/tenants/${tenant}/teams/${team.name}`).json(team);
  });

  router.get(TEAM, (req, res) => {
    const tenant = tenantFor(services, req, 'team.get').tenant.name;
    res.json(services.identity.team(tenant, pathParam(req, 'team')));
  });

  router.patch(TEAM, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'team.update').tenant.name;
    res.json(await services.identity.updateTeam(tenant, pathParam(req, 'team'), readTeamChanges(req.body)));
  });

  router.delete(TEAM, async (req, res) => {
    const tenant = tenantFor(services, req, 'team.delete').tenant.name;
    await services.identity.deleteTeam(tenant, pathParam(req, 'team'));
    res.status(204).end();
  });
}
