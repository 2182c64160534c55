/**
 * A tenant's users and their API keys. Users may read and change themselves and manage their own
 * keys. Acting on another user (their name, password, enabled state, deletion, API keys) needs,
 * besides the route's permission, every permission that user holds (access/guards.ts): a user
 * admin cannot take over a Tenant Admin by resetting their password or minting them a key.
 */
import type { Router } from 'express';
import { NewApiKey, NewUser, UserChanges } from '@packyard/registry-api';
import { bodyValidator, pathParam } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { actingOn, apiKeyView, isSelf, makersFor, tenantFor, userView } from './identity-helpers.js';
import { refuseActingOn } from '../access/guards.js';
import { principalOf } from '../access/authenticate.js';
import { callerName, jsonBody } from './route-helpers.js';
import { inOrder, pageOf, tenantInOrder } from './identity-pages.js';
import { registryError } from '../errors.js';

const readNewUser = bodyValidator(NewUser);
const readUserChanges = bodyValidator(UserChanges);
const readNewApiKey = bodyValidator(NewApiKey);

const byUsername = (user: { username: string }) => user.username;
const byId = (key: { id: string }) => key.id;

const USERS = '/v1/tenants/:tenant/users';
const USER = `${USERS}/:user`;
const KEYS = `${USER}/api-keys`;

export function registerUserRoutes(router: Router, services: RegistryServices): void {
  router.get(USERS, (req, res) => {
    const directory = tenantFor(services, req, 'user.list');
    const users = tenantInOrder(directory, 'users', () => directory.users.values(), byUsername);
    res.json(pageOf(req, users, byUsername, userView));
  });

  router.post(USERS, jsonBody, async (req, res) => {
    const directory = tenantFor(services, req, 'user.create');
    const input = readNewUser(req.body);
    const user = await services.identity.createUser(
      directory.tenant.name,
      input,
      callerName(req),
      makersFor(req, directory, input.username.toLowerCase()),
    );
    res.status(201).location(`/v1/tenants/${directory.tenant.name}/users/${user.username}`).json(userView(user));
  });

  router.get(USER, (req, res) => {
    const directory = tenantFor(services, req, 'user.get', { allow: () => isSelf(req) });
    res.json(userView(services.identity.user(directory.tenant.name, pathParam(req, 'user').toLowerCase())));
  });

  router.patch(USER, jsonBody, async (req, res) => {
    const changes = readUserChanges(req.body);
    // A password is reset here by a user admin; one's own is changed with the current one.
    if (isSelf(req) && changes.password) {
      throw registryError('CURRENT_PASSWORD_REQUIRED', 'changing your own password needs your current password');
    }
    // Users may change their own name, not enable or disable themselves.
    const ownChange = isSelf(req) && (changes.disabled === undefined || changes.disabled === null);
    const directory = tenantFor(services, req, 'user.update', { allow: () => ownChange });
    const username = pathParam(req, 'user').toLowerCase();
    const user = await services.identity.updateUser(
      directory.tenant.name,
      username,
      changes,
      actingOn(req, username, `change ${username}`),
      makersFor(req, directory, username),
    );
    res.json(userView(user));
  });

  router.delete(USER, async (req, res) => {
    const directory = tenantFor(services, req, 'user.delete');
    const username = pathParam(req, 'user').toLowerCase();
    await services.identity.deleteUser(directory.tenant.name, username, actingOn(req, username, `delete ${username}`));
    res.status(204).end();
  });

  router.get(KEYS, (req, res) => {
    const directory = tenantFor(services, req, 'apiKey.list', { allow: () => isSelf(req) });
    const username = services.identity.user(directory.tenant.name, pathParam(req, 'user').toLowerCase()).username;
    refuseActingOn(principalOf(req), directory, username, `list the API keys of ${username}`);
    const keys = inOrder(directory.index.keysOf.get(username)?.values() ?? [], byId);
    res.json(pageOf(req, keys, byId, apiKeyView));
  });

  router.post(KEYS, jsonBody, async (req, res) => {
    const directory = tenantFor(services, req, 'apiKey.create', { allow: () => isSelf(req) });
    const username = pathParam(req, 'user').toLowerCase();
    const { record, key } = await services.identity.createApiKey(
      directory.tenant.name,
      username,
      readNewApiKey(req.body),
      actingOn(req, username, `create an API key for ${username}`),
      makersFor(req, directory, username),
    );
    // The only time the key is ever shown.
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json({ ...apiKeyView(record), key });
  });

  router.delete(`${KEYS}/:key`, async (req, res) => {
    const directory = tenantFor(services, req, 'apiKey.delete', { allow: () => isSelf(req) });
    const username = pathParam(req, 'user').toLowerCase();
    const record = await services.identity.revokeApiKey(
      directory.tenant.name,
      username,
      pathParam(req, 'key'),
      actingOn(req, username, `revoke an API key of ${username}`),
    );
    res.json(apiKeyView(record));
  });
}
