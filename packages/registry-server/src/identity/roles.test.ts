import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seedRoles } from '../generated/builtin-roles.js';
import { permissionValidIn } from './permissions.js';
import { BUILT_IN_ROLES, builtInRole } from './roles.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

function permissionsOf(name: string): readonly string[] {
  const role = builtInRole(name);
  if (!role) throw new Error(`no built-in role ${name}`);
  return role.permissions;
}

describe('the built-in roles', () => {
  it('are exactly those generated from seeds 002 and 004 (the generated file is up to date)', () => {
    // Fails when seeds/ changed or someone edited src/generated/builtin-roles.ts by hand.
    execFileSync('node', ['scripts/gen-builtin-roles.mjs', '--check'], { cwd: REPO, stdio: 'pipe' });
    const names = BUILT_IN_ROLES.map((r) => r.name);
    expect(names).toEqual(['SuperAdmin', ...seedRoles.map((r) => r.name)]);
    expect(seedRoles.filter((r) => r.scope === 'tenant').map((r) => r.name)).toEqual([
      'Tenant Admin',
      'Tenant Viewer',
      'Tenant Project Admin',
      'Tenant Cluster Profile Admin',
      'Tenant Role Admin',
      'Tenant Team Admin',
      'Tenant User Admin',
    ]);
    for (const role of seedRoles) expect(builtInRole(role.name)?.permissions).toEqual(role.permissions);
  });

  it("read seed 002's tables by column header, not by position", () => {
    // Tenant Project Admin's table orders its columns Create, Get, Delete, ...
    const projectAdmin = permissionsOf('Tenant Project Admin');
    expect(projectAdmin).toContain('apiKey.get');
    expect(projectAdmin).not.toContain('apiKey.delete');
    expect(projectAdmin).not.toContain('role.get');
    expect(projectAdmin).toEqual(expect.arrayContaining(['workspace.backup', 'workspace.restore', 'cluster.import']));
    expect(permissionsOf('Tenant Cluster Profile Admin')).toEqual([
      'clusterProfile.create',
      'clusterProfile.delete',
      'clusterProfile.get',
      'clusterProfile.list',
      'clusterProfile.publish',
      'clusterProfile.update',
      'macro.create',
      'macro.delete',
      'macro.get',
      'macro.list',
      'macro.update',
      'packRegistry.get',
      'packRegistry.list',
    ]);
    expect(permissionsOf('Tenant Viewer').every((p) => p.endsWith('.get') || p.endsWith('.list'))).toBe(true);
  });

  it("expand seed 004's wildcards and its except rules", () => {
    // "project.* (except *.create and *.delete) clusterprofile.* ...": the except binds to project.*.
    const projectAdmin = permissionsOf('ProjectAdmin');
    expect(projectAdmin).toEqual(expect.arrayContaining(['project.get', 'project.update', 'clusterProfile.create']));
    expect(projectAdmin).not.toContain('project.create');
    expect(projectAdmin).not.toContain('project.delete');
    // A leading "(except ...)" applies to every grant of ProjectEditor.
    const editor = permissionsOf('ProjectEditor');
    expect(editor).toEqual(expect.arrayContaining(['clusterProfile.update', 'cluster.update', 'cloudaccount.update']));
    expect(editor.some((p) => p.endsWith('.create') || p.endsWith('.delete'))).toBe(false);
    expect(permissionsOf('ClusterProfileEditor')).toEqual([
      'clusterProfile.get',
      'clusterProfile.list',
      'clusterProfile.publish',
      'clusterProfile.update',
    ]);
    expect(permissionsOf('ClusterProfileViewer')).toEqual(['clusterProfile.get', 'clusterProfile.list']);
    // spectrocluster is the cluster resource key.
    expect(permissionsOf('SpectroClusterViewer')).toEqual(['cluster.get', 'cluster.list']);
  });

  it('hold only permissions valid in their scope', () => {
    // SuperAdmin is the operator: every permission in every scope, by definition.
    for (const role of BUILT_IN_ROLES.filter((r) => r.name !== 'SuperAdmin')) {
      for (const permission of role.permissions)
        expect(permissionValidIn(permission, role.scope), `${role.name}: ${permission}`).toBe(true);
    }
  });

  it('are found by name in any case', () => {
    expect(builtInRole('tenant ADMIN')?.name).toBe('Tenant Admin');
    expect(builtInRole('projectviewer')?.name).toBe('ProjectViewer');
  });
});
