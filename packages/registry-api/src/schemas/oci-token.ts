/**
 * The token endpoint of the OCI API (`/v2/token`), in the Docker token protocol's own field names
 * (https://distribution.github.io/distribution/spec/auth/token/), which registry clients read.
 */
import { Type, type Static } from '@sinclair/typebox';

export const RegistryToken = Type.Object({
  token: Type.String({ description: 'Send as `Authorization: Bearer <token>` on /v2.' }),
  access_token: Type.String({ description: 'The same token, for OAuth2 clients.' }),
  expires_in: Type.Integer({ description: 'Seconds the token is valid for.' }),
  issued_at: Type.String({ format: 'date-time' }),
});
export type RegistryToken = Static<typeof RegistryToken>;

export const RegistryTokenForm = Type.Object({
  grant_type: Type.Literal('password'),
  username: Type.String(),
  password: Type.String({ description: 'A password, or an API key.' }),
  scope: Type.Optional(Type.String({ description: 'Scopes separated by spaces.' })),
  service: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
});
export type RegistryTokenForm = Static<typeof RegistryTokenForm>;
