// @ts-check
// The curation API (GET /api/openapi.json): JSON in and out, the session's CSRF token on writes, If-Match on
// draft writes. A reply that is not OK throws an ApiError with the server's body (its `error` and `field`).

/** @typedef {{user: {name: string, role: string} | null, csrf?: string}} Session */
/** @typedef {{body?: unknown, ifMatch?: string}} RequestOptions */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{error?: string, field?: string, current_revision?: number}} body
   */
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export class Api {
  constructor() {
    /** @type {Session | null} who is signed in, and the token their writes carry */
    this.session = null;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<{body: any, etag: string | null}>} the reply's JSON and ETag
   */
  async call(method, path, options = {}) {
    return this.read(await this.send(method, path, options));
  }

  /**
   * The reply itself when it is OK (a binary preview), else the ApiError.
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<Response>}
   */
  async raw(method, path, options = {}) {
    const response = await this.send(method, path, options);
    if (response.ok) return response;
    await this.read(response);
    return response; // not reached: read() throws
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} options
   * @returns {Promise<Response>}
   */
  send(method, path, { body, ifMatch }) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (this.session?.csrf && method !== "GET") headers["X-CSRF-Token"] = this.session.csrf;
    if (ifMatch) headers["If-Match"] = ifMatch;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  }

  /**
   * @param {Response} response
   * @returns {Promise<{body: any, etag: string | null}>}
   */
  async read(response) {
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : {};
    if (!response.ok) throw new ApiError(response.status, parsed);
    return { body: parsed, etag: response.headers.get("ETag") };
  }
}
