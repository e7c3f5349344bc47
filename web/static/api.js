// api.js — the client's only door to the server: JSON over fetch, the bearer
// token from localStorage, and problem+json errors turned into ApiError with
// a message a person can read.

const TOKEN_KEY = "reel.token";

const FALLBACK = {
  0: "The server cannot be reached. Check your connection.",
  401: "Please log in again.",
  403: "You are not allowed to do that.",
  404: "Not found.",
  413: "That is too large.",
  429: "Too many requests; wait a moment.",
  502: "The server is not answering right now. Try again shortly.",
  503: "The server is busy. Try again shortly.",
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || FALLBACK[status] ||
      (status >= 500 ? `The server had a problem (${status}). Try again.` : `Request failed (${status}).`));
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

// Builds "?a=1&b=2" from an object, leaving out null and undefined values.
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// Turns a non-OK fetch Response into an ApiError (reads the problem+json).
export async function problemOf(res) {
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json().catch(() => null) : null;
  if (res.status === 429) {
    const wait = res.headers.get("Retry-After");
    return new ApiError(429, { ...data, detail: `Too many requests; try again in ${wait || "a few"} s.` });
  }
  return new ApiError(res.status, data);
}

// One JSON request. Returns the parsed body (null for 204); throws ApiError
// with a readable message for every failure, network errors included.
export async function api(method, path, body, { keepalive = false, signal } = {}) {
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
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, null);
  }
  if (!res.ok) {
    if (res.status === 401 && t) setToken(null);
    throw await problemOf(res);
  }
  if (res.status === 204 || res.status === 205) return null;
  const type = res.headers.get("Content-Type") || "";
  return type.includes("json") ? res.json().catch(() => null) : null;
}
