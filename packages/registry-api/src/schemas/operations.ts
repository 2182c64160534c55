/** Cluster profiles, the audit log and the operations endpoints (probes). */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Page } from './common.js';

const ProfileScope = Type.Union([Type.Literal('system'), Type.Literal('tenant'), Type.Literal('project')]);

/**
 * A cluster profile as sent and stored: its shape is pack-core's (schemas/profile.schema.json),
 * which the server checks and adds to the OpenAPI document as the ClusterProfile component.
 */
export const ClusterProfileBody = Type.Unsafe<Record<string, unknown>>({
  $ref: '#/components/schemas/ClusterProfile',
});

export const ProfileView = Type.Object({
  name: Type.String(),
  version: Type.String(),
  scope: ProfileScope,
  tenant: Nullable(Type.String()),
  project: Nullable(Type.String()),
  /** Read-only here: it belongs to a scope above. */
  inherited: Type.Boolean(),
  published: Nullable(Type.Object({ at: DateTime, by: Type.String(), version: Type.String() })),
  /** The profile as stored (the ClusterProfile component). */
  profile: Type.Object(
    { name: Type.String(), version: Type.String() },
    { description: 'The profile (ClusterProfile).' },
  ),
  createdAt: DateTime,
  createdBy: Type.String(),
  updatedAt: DateTime,
  updatedBy: Type.String(),
  revision: Type.Integer(),
});
export type ProfileView = Static<typeof ProfileView>;

/** A page of a scope's profile list; `nextCursor` asks for the next one (null: the list ends). */
export const ProfilePage = Page(ProfileView);
export type ProfilePage = Static<typeof ProfilePage>;

export const AuditScope = Type.Union([
  Type.Object({ scope: Type.Literal('system') }),
  Type.Object({ scope: Type.Literal('tenant'), tenant: Type.String() }),
  Type.Object({ scope: Type.Literal('project'), tenant: Type.String(), project: Type.String() }),
]);

export const AuditEntry = Type.Object({
  id: Type.String(),
  at: DateTime,
  actor: Type.Object({
    kind: Type.Union([Type.Literal('anonymous'), Type.Literal('operator'), Type.Literal('user')]),
    name: Type.String(),
    tenant: Nullable(Type.String()),
  }),
  /** The client address as the server saw it. */
  client: Type.String(),
  method: Type.String(),
  path: Type.String(),
  scope: AuditScope,
  /** The status answered; 0 when the process stopped before answering (`interrupted`). */
  status: Type.Integer(),
  outcome: Type.String(),
  requestId: Type.String(),
  username: Type.Optional(Type.String()),
  suppressed: Type.Optional(Type.Integer()),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditPage = Page(AuditEntry);
export type AuditPage = Static<typeof AuditPage>;

export const Liveness = Type.Object({ status: Type.Literal('ok') });

/** Readiness: everyone gets the status; operators also the checks and the catalog's counts. */
export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
  catalog: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type Readiness = Static<typeof Readiness>;
