// JSON over fetch with the session cookie and the CSRF token; errors carry the API's body.
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "error";
    this.fields = error.fields || {};
  }
}

export class Api {
  constructor(base, { agentId = null, viewing = false } = {}) {
    this.base = base;
    this.agentId = agentId;
    this.viewing = viewing;
    const meta = document.querySelector('meta[name="csrf-token"]');
    this.csrf = meta ? meta.content : "";
  }

  url(path, params = {}) {
    const url = new URL(path.startsWith("/") ? path : this.base + path, window.location.origin);
    const query = { ...params };
    if (this.viewing && this.agentId) query.agent = this.agentId;
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) url.searchParams.set(key, value);
    }
    return url;
  }

  body(data) {
    return this.viewing && this.agentId ? { agent: this.agentId, ...data } : data;
  }

  async request(method, path, data, params) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = this.csrf;
      options.body = JSON.stringify(this.body(data));
    }
    const response = await fetch(this.url(path, params), options);
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  get(path, params) {
    return this.request("GET", path, undefined, params);
  }

  post(path, data = {}) {
    return this.request("POST", path, data);
  }

  patch(path, data = {}) {
    return this.request("PATCH", path, data);
  }
}

export function requestId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
