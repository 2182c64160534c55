/**
 * The JSON bodies of the OCI Distribution API on /v2 (opencontainers/distribution-spec v1.1):
 * its error envelope, the tag and repository lists, and the referrers answer (an image index).
 * Manifests and blobs are the client's bytes, not part of this contract.
 */
import { Type, type Static } from '@sinclair/typebox';

/** `{"errors":[{"code","message","detail"}]}`: every error answer on /v2. */
export const OciErrorEnvelope = Type.Object(
  {
    errors: Type.Array(
      Type.Object({
        code: Type.String(),
        message: Type.String(),
        detail: Type.Optional(Type.Unknown()),
      }),
      { minItems: 1 },
    ),
  },
  { description: 'The OCI error envelope; codes as in the distribution specification (docs/error-codes.md).' },
);
export type OciErrorEnvelope = Static<typeof OciErrorEnvelope>;

export const OciTagList = Type.Object({
  name: Type.String(),
  tags: Type.Array(Type.String()),
});
export type OciTagList = Static<typeof OciTagList>;

export const OciCatalog = Type.Object({ repositories: Type.Array(Type.String()) });
export type OciCatalog = Static<typeof OciCatalog>;

export const OciDescriptor = Type.Object({
  mediaType: Type.String(),
  digest: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  artifactType: Type.Optional(Type.String()),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type OciDescriptor = Static<typeof OciDescriptor>;

/** The referrers of a manifest: an OCI image index of their descriptors. */
export const OciReferrers = Type.Object({
  schemaVersion: Type.Literal(2),
  mediaType: Type.Literal('application/vnd.oci.image.index.v1+json'),
  manifests: Type.Array(OciDescriptor),
});
export type OciReferrers = Static<typeof OciReferrers>;

/** `GET /v2/`: an empty object. */
export const OciVersion = Type.Object({});
