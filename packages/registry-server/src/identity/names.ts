/** The grammars of identity names, shared by the path parameters and the request schemas. */
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._@+-]{0,127}$';
export const ROLE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$';
