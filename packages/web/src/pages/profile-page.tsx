/**
 * A cluster profile: its layers drawn as a stack (the OS at the bottom, add-ons on top), each with
 * the version the resolver chooses today, the selector the profile gives it and a link to the
 * pack, and the resolver's problems shown on the layer that caused them (the profile's own
 * problems above the stack). Resolved in the browser by pack-core's resolver, as packctl does.
 */
import { useEffect } from 'preact/hooks';
import type { ClusterProfile, ProfileResolution } from '@packyard/pack-core/resolve-profile';
import type { BrowserResolution } from '../resolve.js';
import { profile as loadProfile, type Me, type ProfileView } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { useLoad } from '../hooks/use-load.js';
import { packHref, type ProfileScopeRef } from '../router.js';
import { describeProfile, scopeLabel } from '../format.js';

interface Layer {
  /** The profile's entry. */
  name: string;
  selector: string;
  /** The pack's layer: resolved, or as its registry lists it (null: found nowhere). */
  layer: string | null;
  /** What the resolver chose; null when it could not. */
  resolved: ProfileResolution['layers'][number] | null;
  problems: string[];
  /** What resolved but deserves a look (a pinned deprecated version). */
  warnings: string[];
}

const LAYER_ORDER = ['os', 'kernel', 'k8s', 'cni', 'csi', 'addon'];

/**
 * The stack from the top down: the resolver's install order reversed, and each entry it could not
 * resolve at its layer's place (on top when its layer is unknown).
 */
function layersOf(profile: ClusterProfile, { resolution, layerOf }: BrowserResolution): Layer[] {
  const problemsOf = (name: string) => resolution.problems.filter((p) => p.pack === name).map((p) => p.message);
  const warningsOf = (name: string) => resolution.warnings.filter((p) => p.pack === name).map((p) => p.message);
  const selectorOf = new Map(profile.packs.map((entry) => [entry.name, entry.version]));
  const stack: Layer[] = resolution.layers.map((layer) => ({
    name: layer.name,
    selector: selectorOf.get(layer.name) ?? layer.version,
    layer: layer.layer,
    resolved: layer,
    problems: problemsOf(layer.name),
    warnings: warningsOf(layer.name),
  }));
  const chosen = new Set(resolution.layers.map((layer) => layer.name));
  for (const entry of profile.packs) {
    if (chosen.has(entry.name)) continue;
    const layer = layerOf.get(entry.name) ?? null;
    const unresolved: Layer = {
      name: entry.name,
      selector: entry.version,
      layer,
      resolved: null,
      problems: problemsOf(entry.name),
      warnings: warningsOf(entry.name),
    };
    const rank = layer === null ? LAYER_ORDER.length : LAYER_ORDER.indexOf(layer);
    const at = stack.findIndex((other) => LAYER_ORDER.indexOf(other.layer ?? '') > rank);
    if (at === -1) stack.push(unresolved);
    else stack.splice(at, 0, unresolved);
  }
  return stack.reverse();
}

export function ProfilePage(props: { where: ProfileScopeRef; name: string; me: Me | null }) {
  const { where, name, me } = props;
  useEffect(() => {
    document.title = `${name} - cluster profile - Packyard catalog`;
  }, [name]);
  const view = useLoad(
    (signal) => (me === null ? Promise.resolve(null) : loadProfile(where, name, signal)),
    [JSON.stringify(where), name, me],
  );
  if (me === null) {
    return (
      <div class="empty">
        <h1>{name}</h1>
        <p class="muted">
          <a href={`/signin?next=${encodeURIComponent(window.location.pathname)}`}>Sign in</a> to see this cluster
          profile.
        </p>
      </div>
    );
  }
  if (view.kind === 'loading') return <p class="muted">Loading {name}...</p>;
  if (view.kind === 'error') return <ErrorBox error={view.error} />;
  if (view.value === null) return null;
  return <ProfileDetails view={view.value} where={where} />;
}

function ProfileDetails({ view, where }: { view: ProfileView; where: ProfileScopeRef }) {
  const profile = view.profile as ClusterProfile;
  const resolution = useLoad(
    async (signal) => (await import('../resolve.js')).resolveInBrowser(profile, signal),
    [view.revision, view.name, JSON.stringify(where)],
  );
  return (
    <article class="profile" aria-labelledby="profile-title">
      <header>
        <h1 id="profile-title">
          {view.name} <span class="version">{view.version}</span>
        </h1>
        <p class="card-name">
          {scopeLabel(where)} &middot; {describeProfile(view.profile)}
          {profile.registries ? ` · registries ${profile.registries.join(', ')}` : ''}
        </p>
        <p class="muted">
          Revision {view.revision}, updated {new Date(view.updatedAt).toLocaleString()} by {view.updatedBy}
          {view.published ? ` · published ${view.published.version} by ${view.published.by}` : ' · not published'}
        </p>
      </header>
      {resolution.kind === 'loading' && <p class="muted">Resolving the layers...</p>}
      {resolution.kind === 'error' && <ErrorBox error={resolution.error} />}
      {resolution.kind === 'done' && <Stack profile={profile} resolved={resolution.value} />}
    </article>
  );
}

function Stack({ profile, resolved }: { profile: ClusterProfile; resolved: BrowserResolution }) {
  const { resolution } = resolved;
  const general = resolution.problems.filter((p) => p.pack === null);
  const broken = resolution.problems.length;
  return (
    <>
      <p class={broken === 0 ? 'resolved-ok' : 'resolved-problems'} role="status" data-testid="resolution-status">
        {broken === 0
          ? `Resolves: ${resolution.layers.length} layers, every constraint met.`
          : `${broken} ${broken === 1 ? 'problem' : 'problems'} resolving this profile.`}
      </p>
      {general.length > 0 && (
        <ul class="problems" aria-label="Problems of the profile">
          {general.map((problem) => (
            <li key={problem.message}>{problem.message}</li>
          ))}
        </ul>
      )}
      <ol class="stack" aria-label="Layers, top to bottom" reversed>
        {layersOf(profile, resolved).map((layer) => (
          <li
            key={layer.name}
            class={`layer layer-${layer.layer ?? 'unknown'}${layer.resolved ? '' : ' unresolved'}${layer.problems.length > 0 ? ' has-problems' : ''}`}
            data-testid="layer"
          >
            <div class="layer-head">
              <span class="badge">{layer.layer ?? 'not found'}</span>
              {!layer.resolved && <span class="badge badge-problem">unresolved</span>}
              {layer.resolved ? (
                <a href={packHref(layer.resolved.registry, layer.resolved.name, layer.resolved.version)}>
                  {layer.name} <span class="version">{layer.resolved.version}</span>
                </a>
              ) : (
                <span>{layer.name}</span>
              )}
              <span class="muted">
                {layer.selector === layer.resolved?.version ? 'pinned' : `selects ${layer.selector}`}
                {layer.resolved ? ` · ${layer.resolved.registry}` : ''}
              </span>
            </div>
            {layer.warnings.length > 0 && (
              <ul class="warnings">
                {layer.warnings.map((message) => (
                  <li key={message}>{message}</li>
                ))}
              </ul>
            )}
            {layer.problems.length > 0 && (
              <ul class="problems">
                {layer.problems.map((message) => (
                  <li key={message}>{message}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </>
  );
}
