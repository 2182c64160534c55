/**
 * A tenant's teams and their members. Team membership is a binding: changing members (at
 * creation too) or deleting a team needs, besides team.*, to hold what the team's roles give, and
 * not to be outranked by a member added or removed (access/guards.ts).
 */
import { NewTeam, TeamChanges, type PageOf, type Team } from '@packyard/registry-api';
import type { Router } from 'express';
import { principalOf } from '../access/authenticate.js';
import { refuseMembershipChange, refuseTeamDeletion } from '../access/guards.js';
import { bodyValidator, pathParam } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { tenantFor } from './identity-helpers.js';
import { pageOf, tenantInOrder } from './identity-pages.js';
import { callerName, jsonBody } from './route-helpers.js';

const readNewTeam = bodyValidator(NewTeam);
const readTeamChanges = bodyValidator(TeamChanges);

const byName = (team: { name: string }) => team.name;

const TEAMS = '/v1/tenants/:tenant/teams';
const TEAM = `${TEAMS}/:team`;

export function registerTeamRoutes(router: Router, services: RegistryServices): void {
  router.get(TEAMS, (req, res) => {
    const directory = tenantFor(services, req, 'team.list');
    const teams = tenantInOrder(directory, 'teams', () => directory.teams.values(), byName);
    res.json(pageOf(req, teams, byName, (team) => team) satisfies PageOf<Team>);
  });

  router.post(TEAMS, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'team.create').tenant.name;
    const input = readNewTeam(req.body);
    const principal = principalOf(req);
    const team = await services.identity.createTeam(tenant, input, callerName(req), (draft) => {
      refuseMembershipChange(principal, draft, { team: input.name, before: [], after: input.members ?? [] });
    });
    res
      .status(201)
      .location(`/v1/tenants/${tenant}/teams/${team.name}`)
      .json(team satisfies Team);
  });

  router.get(TEAM, (req, res) => {
    const tenant = tenantFor(services, req, 'team.get').tenant.name;
    res.json(services.identity.team(tenant, pathParam(req, 'team')) satisfies Team);
  });

  router.patch(TEAM, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'team.update').tenant.name;
    const name = pathParam(req, 'team');
    const changes = readTeamChanges(req.body);
    const principal = principalOf(req);
    const team = await services.identity.updateTeam(tenant, name, changes, (draft) => {
      const before = draft.teams.get(name)?.members ?? [];
      refuseMembershipChange(principal, draft, { team: name, before, after: changes.members ?? before });
    });
    res.json(team satisfies Team);
  });

  router.delete(TEAM, async (req, res) => {
    const tenant = tenantFor(services, req, 'team.delete').tenant.name;
    const name = pathParam(req, 'team');
    const principal = principalOf(req);
    await services.identity.deleteTeam(tenant, name, (draft) => {
      refuseTeamDeletion(principal, draft, name);
    });
    res.status(204).end();
  });
}
