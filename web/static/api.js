// api.js — the client's only door to the server: JSON over fetch, the bearer
// token from localStorage, and problem+json errors turned into ApiError with
// a message a person can read.

const TOKEN_KEY = "reel.token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
    this.fields = Object.fromEntries((this.problem.errors || []).map((e) => [e.field, e.message]));
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

export async function api(method, path, body, { keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
    });
  } catch (e) {
    throw new ApiError(0, { detail: "The server cannot be reached. Check your connection." });
  }
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    if (res.status === 401 && t) setToken(null);
    if (res.status === 429) {
      const wait = res.headers.get("Retry-After");
      throw new ApiError(429, { detail: `Too many requests; try again in ${wait || "a few"} s.` });
    }
    throw new ApiError(res.status, data);
  }
  return data;
}
