/** Tenants (the system operator's) and their projects. */
import { NewProject, NewTenant, ProjectChanges, type PageOf, type Project, type Tenant } from '@packyard/registry-api';
import type { Router } from 'express';
import { principalOf } from '../access/authenticate.js';
import { refuseProjectDeletion } from '../access/guards.js';
import { bodyValidator, pathParam } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { authorizeSystem, tenantFor } from './identity-helpers.js';
import { callerName, claimNamespace, jsonBody } from './route-helpers.js';
import { inOrder, pageOf, tenantInOrder } from './identity-pages.js';

const readNewTenant = bodyValidator(NewTenant);
const readNewProject = bodyValidator(NewProject);
const readProjectChanges = bodyValidator(ProjectChanges);

const byName = (record: { name: string }) => record.name;

const TENANT = '/v1/tenants/:tenant';
const PROJECT = `${TENANT}/projects/:project`;

export function registerTenantRoutes(router: Router, services: RegistryServices): void {
  router.get('/v1/tenants', (req, res) => {
    authorizeSystem(services, req, 'tenant.list');
    const tenants = inOrder(services.identity.listTenants(), byName);
    res.json(pageOf(req, tenants, byName, (tenant) => tenant) satisfies PageOf<Tenant>);
  });

  router.post('/v1/tenants', jsonBody, async (req, res) => {
    authorizeSystem(services, req, 'tenant.create');
    const input = readNewTenant(req.body);
    const tenant = await services.registries.inSystem(() => {
      claimNamespace(services, { kind: 'tenant', name: input.name });
      return services.identity.createTenant(input);
    });
    res
      .status(201)
      .location(`/v1/tenants/${tenant.name}`)
      .json(tenant satisfies Tenant);
  });

  router.get(TENANT, (req, res) => {
    authorizeSystem(services, req, 'tenant.get');
    res.json(services.identity.tenant(pathParam(req, 'tenant')).tenant satisfies Tenant);
  });

  router.delete(TENANT, async (req, res) => {
    authorizeSystem(services, req, 'tenant.delete');
    const name = pathParam(req, 'tenant');
    await services.registries.inTenant(name, async () => {
      const owned = services.registries.list().some((r) => r.tenant === name);
      await services.identity.deleteTenant(name, owned);
    });
    res.status(204).end();
  });

  router.get(`${TENANT}/projects`, (req, res) => {
    // Everyone of the tenant may ask: the answer holds the projects they are associated with,
    // or all of them with project.list tenant-wide.
    const directory = tenantFor(services, req, 'project.list', { allow: () => true });
    const principal = principalOf(req);
    const tenant = directory.tenant.name;
    const all = services.access.can(principal, 'project.list', { scope: 'tenant', tenant });
    const projects = tenantInOrder(directory, 'projects', () => services.identity.projects(tenant), byName);
    const visible = (project: Project) => all || services.access.associated(principal, tenant, project.name);
    res.json(pageOf(req, projects, byName, (project) => project, visible) satisfies PageOf<Project>);
  });

  router.post(`${TENANT}/projects`, jsonBody, async (req, res) => {
    const directory = tenantFor(services, req, 'project.create');
    const input = readNewProject(req.body);
    const tenant = directory.tenant.name;
    const project = await services.registries.inTenant(tenant, () => {
      claimNamespace(services, { kind: 'project', tenant, name: input.name });
      return services.identity.createProject(tenant, input, callerName(req));
    });
    res
      .status(201)
      .location(`/v1/tenants/${tenant}/projects/${project.name}`)
      .json(project satisfies Project);
  });

  router.get(PROJECT, (req, res) => {
    const project = pathParam(req, 'project');
    const directory = tenantFor(services, req, 'project.get', {
      project,
      allow: (p) => services.access.associated(p, pathParam(req, 'tenant'), project),
    });
    res.json(services.identity.project(directory.tenant.name, project) satisfies Project);
  });

  router.patch(PROJECT, jsonBody, async (req, res) => {
    const project = pathParam(req, 'project');
    const directory = tenantFor(services, req, 'project.update', { project });
    const changes = readProjectChanges(req.body);
    res.json((await services.identity.updateProject(directory.tenant.name, project, changes)) satisfies Project);
  });

  router.delete(PROJECT, async (req, res) => {
    const project = pathParam(req, 'project');
    const directory = tenantFor(services, req, 'project.delete', { project });
    const tenant = directory.tenant.name;
    await services.registries.inTenant(tenant, async () => {
      const owned = services.registries.list().some((r) => r.tenant === tenant && r.project === project);
      const principal = principalOf(req);
      await services.identity.deleteProject(tenant, project, owned, (draft) => {
        refuseProjectDeletion(principal, draft, project);
      });
    });
    res.status(204).end();
  });
}
