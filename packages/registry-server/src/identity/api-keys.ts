/** A user's API keys: the key is shown once, at creation; only the sha256 of its secret is kept. */
import { registryError } from '../errors.js';
import { makeRoomForApiKey } from './bounds.js';
import { notFound, userNotFound } from './identity-errors.js';
import type { ApiKeyRecord } from './records.js';
import { newApiKey } from './secrets.js';
import { mutateTenant, now, type Guard, type IdentityContext } from './tenant-mutation.js';

export function apiKeyOperations(context: IdentityContext) {
  return {
    async createApiKey(
      tenant: string,
      username: string,
      input: { name: string; expiresAt?: string | null },
      guard?: Guard,
      /** Whose hands it comes through (madeBy, records.ts Makers). */
      madeBy?: string[],
    ): Promise<{ record: ApiKeyRecord; key: string }> {
      const expiresAt = input.expiresAt ?? null;
      if (expiresAt !== null && !(Date.parse(expiresAt) > Date.now())) {
        throw registryError('API_KEY_INVALID', `expiresAt ${expiresAt} is not a future date-time`);
      }
      const fresh = newApiKey();
      const record = await mutateTenant(
        context,
        tenant,
        (draft) => {
          const user = draft.users.get(username);
          if (!user) throw userNotFound(username);
          makeRoomForApiKey(draft, username);
          const created: ApiKeyRecord = {
            id: fresh.id,
            userId: user.id,
            username,
            name: input.name,
            secretSha256: fresh.secretSha256,
            ...(madeBy === undefined ? {} : { madeBy }),
            createdAt: now(),
            expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
            revokedAt: null,
          };
          draft.put('apiKeys', created);
          return created;
        },
        guard,
      );
      return { record, key: fresh.key };
    },

    revokeApiKey(tenant: string, username: string, id: string, guard?: Guard) {
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          const current = draft.apiKeys.get(id);
          if (current?.username !== username) {
            throw notFound('API key', id, `GET /v1/tenants/<tenant>/users/${username}/api-keys lists them`);
          }
          if (current.revokedAt !== null) return current;
          const record = { ...current, revokedAt: now() };
          draft.put('apiKeys', record);
          return record;
        },
        guard,
      );
    },
  };
}
