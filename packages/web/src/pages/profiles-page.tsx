/**
 * The cluster profiles the visitor may read, by scope: the system's (the platform's catalogue),
 * then their tenant's and their projects'. Profiles need a signed-in visitor.
 */
import { useEffect, useState } from 'preact/hooks';
import { listProfiles, profilesOf, type Me, type ProfileGroup, type ProfileView } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { useLoad } from '../hooks/use-load.js';
import { describeProfile, scopeLabel } from '../format.js';
import { profilePagePath } from '../router.js';

export function ProfilesPage({ me }: { me: Me | null }) {
  useEffect(() => {
    document.title = 'Cluster profiles - Packyard catalog';
  }, []);
  if (me === null) {
    return (
      <div class="empty">
        <h1>Cluster profiles</h1>
        <p class="muted">
          Cluster profiles belong to the platform, tenants and projects:{' '}
          <a href={`/signin?next=${encodeURIComponent('/profiles')}`}>sign in</a> to see those you may read.
        </p>
      </div>
    );
  }
  return <ProfileList me={me} />;
}

function ProfileList({ me }: { me: Me }) {
  const groups = useLoad((signal) => listProfiles(me, signal), [me]);
  if (groups.kind === 'loading') return <p class="muted">Loading cluster profiles...</p>;
  if (groups.kind === 'error') return <ErrorBox error={groups.error} />;
  return (
    <div class="profiles">
      <h1>Cluster profiles</h1>
      {groups.value.length === 0 && <p class="muted">No cluster profile is visible to you yet.</p>}
      {groups.value.map((group) => (
        <ScopeProfiles key={scopeLabel(group.where)} group={group} />
      ))}
    </div>
  );
}

/** One scope's profiles: its first page, and the pages after it as "Show more" asks for them. */
function ScopeProfiles({ group }: { group: ProfileGroup }) {
  const { where } = group;
  const label = scopeLabel(where);
  const [shown, setShown] = useState<{ views: ProfileView[]; cursor: string | null; loading: boolean }>({
    views: group.views,
    cursor: group.nextCursor,
    loading: false,
  });
  const [error, setError] = useState<Error | null>(null);
  const showMore = () => {
    if (shown.cursor === null || shown.loading) return;
    setShown({ ...shown, loading: true });
    profilesOf(where, shown.cursor).then(
      (next) => setShown({ views: [...shown.views, ...next.views], cursor: next.nextCursor, loading: false }),
      (err: unknown) => {
        setShown({ ...shown, loading: false });
        setError(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
  return (
    <section aria-labelledby={`scope-${label}`}>
      <h2 id={`scope-${label}`}>{label}</h2>
      <ul class="cards">
        {shown.views.map((view) => (
          <li class="card" key={view.name}>
            <a href={profilePagePath(where, view.name)}>
              <span class="card-text">
                <span class="card-title">
                  {view.name} <span class="version">{view.version}</span>
                </span>
                <span class="card-desc">
                  {describeProfile(view.profile)} &middot; updated {new Date(view.updatedAt).toLocaleDateString()} by{' '}
                  {view.updatedBy}
                </span>
              </span>
            </a>
          </li>
        ))}
      </ul>
      {error !== null && <ErrorBox error={error} />}
      {shown.cursor !== null && (
        <button type="button" class="more" onClick={showMore} disabled={shown.loading}>
          {shown.loading ? 'Loading...' : 'Show more'}
        </button>
      )}
    </section>
  );
}
