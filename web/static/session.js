// session.js — who is using the client: the signed-in user (GET /api/v1/me)
// and whom they follow. The API has no "followed by me" flag on a User, so
// the set of followed ids is read once from GET /users/{me}/following (the
// most recent FOLLOWING_MAX) and kept current by the follow buttons.

import { api, ApiError, qs, setToken, token } from "/static/api.js";

const FOLLOWING_MAX = 500;

export const session = {
  me: null,
  following: null, // Set of user ids, or null until loaded
  listeners: new Set(),
};

export function onSessionChange(fn) {
  session.listeners.add(fn);
}

function changed() {
  for (const fn of session.listeners) fn(session.me);
}

// Reads /me if there is a token. Returns the user or null; an invalid token
// is forgotten (api.js clears it on 401). Other failures are thrown.
export async function loadMe() {
  session.me = null;
  session.following = null;
  if (token()) {
    try {
      session.me = await api("GET", "/api/v1/me");
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        changed();
        throw e;
      }
    }
  }
  changed();
  return session.me;
}

export async function signedIn(res) {
  setToken(res.token);
  session.me = res.user;
  session.following = null;
  changed();
}

export function signedOut() {
  setToken(null);
  session.me = null;
  session.following = null;
  changed();
}

export async function followingSet() {
  if (!session.me) return new Set();
  if (session.following) return session.following;
  const ids = new Set();
  let cursor = null;
  do {
    const page = await api("GET", `/api/v1/users/${session.me.id}/following${qs({ limit: 100, cursor })}`);
    for (const u of page.items) ids.add(u.id);
    cursor = page.next_cursor;
  } while (cursor && ids.size < FOLLOWING_MAX);
  session.following = ids;
  return ids;
}

// Follows or unfollows; updates the cached set. Throws ApiError.
export async function setFollow(userId, on) {
  await api(on ? "PUT" : "DELETE", `/api/v1/users/${userId}/follow`);
  const set = await followingSet();
  if (on) set.add(userId);
  else set.delete(userId);
}
