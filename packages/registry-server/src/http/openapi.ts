/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from the contract's route table
 * (@packyard/registry-api). A test walks the app's router and fails when a route is missing there
 * or a path there has no route.
 */
import { clusterProfileSchema } from '@packyard/pack-core';
import { buildOpenApiDocument } from '@packyard/registry-api';

// The profile bodies are pack-core's format; the contract refers to them by this component name.
const ClusterProfile = Object.fromEntries(
  Object.entries(clusterProfileSchema).filter(([key]) => key !== '$schema' && key !== '$id'),
);

export const openApiDocument = buildOpenApiDocument({ schemas: { ClusterProfile } });
