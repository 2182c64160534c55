/** Pieces every part of the contract uses: the error envelope, nullable fields, lists, name grammars. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Tenant, project and team names: lowercase letters, digits and inner hyphens, at most 64. */
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._@+-]{0,127}$';
export const ROLE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$';
export const REGISTRY_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$';

/** A field that may be null (OpenAPI 3.1 spells it as a union with null, not `nullable`). */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** The envelope of every error answer (`{ "error": { code, message, hint?, details? } }`). */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      hint: Type.Optional(Type.String()),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'Stable codes are listed in docs/error-codes.md.' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** A collection answer's type: `{ "items": [...] }`. */
export interface ListOf<T> {
  items: T[];
}

/** A collection answer: `{ "items": [...] }`. */
export function List<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}

/** A page of a collection: `{ "items": [...], "nextCursor": ... }`; nextCursor is null on the last page. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });
}

/** A page's type: the items, and the cursor of the next page (null on the last). */
export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

export const DateTime = Type.String({ format: 'date-time' });
