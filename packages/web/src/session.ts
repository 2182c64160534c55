/** Who is signed in, for the page frame; the token itself stays in api.ts. */
import { onSessionChange, signedIn, type Me } from './api.js';

export const session: { me: Me | null } = { me: null };

onSessionChange(() => {
  if (!signedIn()) session.me = null;
});
