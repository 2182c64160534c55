/**
 * Changing who exists and who may do what: the operations of each kind of identity record, put
 * together into the one object the routes call. Each kind lives in its own module, and every one
 * changes a tenant through ./tenant-mutation.ts.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../storage/object-store.js';
import { apiKeyOperations } from './api-keys.js';
import { bindingOperations } from './bindings.js';
import type { IdentityDirectory } from './directory.js';
import { HashQueue } from './login-limits.js';
import { projectOperations } from './projects.js';
import { roleOperations } from './roles.js';
import { teamOperations } from './teams.js';
import type { IdentityContext, OwnedData } from './tenant-mutation.js';
import { tenantOperations } from './tenants.js';
import { userOperations } from './users.js';

export interface IdentityOptions {
  passwordHashCost: number;
  /** Bounds the password hashes of this process; shared with the sign-in checks (Sessions). */
  hashQueue?: HashQueue;
  /** Removed with their tenant or project. */
  owners?: OwnedData[];
  logger?: Logger;
}

export type Identity = ReturnType<typeof tenantOperations> &
  ReturnType<typeof projectOperations> &
  ReturnType<typeof userOperations> &
  ReturnType<typeof teamOperations> &
  ReturnType<typeof roleOperations> &
  ReturnType<typeof bindingOperations> &
  ReturnType<typeof apiKeyOperations>;

export function createIdentity(store: ObjectStore, directory: IdentityDirectory, options: IdentityOptions): Identity {
  const context: IdentityContext = {
    store,
    directory,
    passwordHashCost: options.passwordHashCost,
    hashQueue: options.hashQueue ?? new HashQueue(),
    owners: options.owners ?? [],
    logger: options.logger,
  };
  return {
    ...tenantOperations(context),
    ...projectOperations(context),
    ...userOperations(context),
    ...teamOperations(context),
    ...roleOperations(context),
    ...bindingOperations(context),
    ...apiKeyOperations(context),
  };
}
