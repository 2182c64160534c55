import { describe, expect, it } from 'vitest';
import { ociNamespace, ociReference } from './oci-reference.js';

describe('OCI references of pack versions', () => {
  it('places each scope of registry as the server maps OCI names', () => {
    expect(ociNamespace({ name: 'public', scope: 'system', tenant: null, project: null })).toBe('public');
    expect(ociNamespace({ name: 'acme-packs', scope: 'tenant', tenant: 'acme', project: null })).toBe(
      'acme/acme-packs',
    );
    expect(ociNamespace({ name: 'edge', scope: 'project', tenant: 'acme', project: 'retail' })).toBe(
      'acme/retail/edge',
    );
  });

  it('names the host and port, never the scheme or a path', () => {
    const registry = { name: 'acme-packs', scope: 'tenant', tenant: 'acme', project: null } as const;
    const host = new URL('https://packs.example.com:8443/base/').host;
    expect(ociReference(host, registry, 'cni-calico', '3.27.2')).toBe(
      'packs.example.com:8443/acme/acme-packs/spectro-packs/archive/cni-calico:3.27.2',
    );
  });
});
