// Calls to the kring API with the caller's key (kept in sessionStorage for this tab only).
import { LANG, T } from "./i18n.js";

export const KEY_STORAGE = "kring.apiKey";
export const session = { key: null };

export class ApiError extends Error {
  constructor(status, title, detail, body) {
    super(title + (detail ? ": " + detail : ""));
    this.body = body || {};
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

export function api(path, options) {
  const opts = options || {};
  const headers = { Accept: "application/json, application/geo+json, application/problem+json",
    "Accept-Language": LANG };
  if (session.key) headers["X-API-Key"] = session.key;
  const init = { method: opts.method || "GET", headers: headers };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  return fetch(path, init).then((res) => {
    if (res.ok) return res.json();
    return res.json().catch(() => ({})).then((body) => {
      throw new ApiError(res.status, body.title || res.statusText || "HTTP " + res.status,
        body.detail || "", body);
    });
  });
}

export function explainError(err) {
  if (err.status === 401) return T("map.error.401", { detail: err.detail || err.title });
  if (err.status === 403) return T("map.error.403", { detail: err.detail || err.title });
  if (err instanceof ApiError) return T("map.error.http", { status: err.status, message: err.message });
  return T("map.error.network", { message: err && err.message ? err.message : err });
}
