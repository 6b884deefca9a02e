/*
 * api.js -- the console's only way to the server: the REST API under
 * /api/v1 (issue 3).  The session cookie is HttpOnly and SameSite=Strict;
 * the CSRF token the login returns goes in X-CSRF-Token on every request
 * that changes something.  Errors come back as {"error", "field"} and are
 * thrown as ApiError so forms can show them next to the field.
 */

const CSRF_KEY = 'scepd.csrf';
const EXP_KEY = 'scepd.expires';

export class ApiError extends Error {
	constructor(status, message, field) {
		super(message);
		this.status = status;
		this.field = field || null;
	}
}

let unauthorizedHandler = null;

/* Called with the ApiError when the session has ended (401). */
export function onUnauthorized(fn)
{
	unauthorizedHandler = fn;
}

/*
 * The CSRF token lives in sessionStorage: it survives a reload of this
 * tab but not the tab itself.  It is not a secret from our own page (it
 * only proves a request came from it); the session id stays HttpOnly.
 */
export function csrfToken()
{
	return sessionStorage.getItem(CSRF_KEY);
}

export function sessionExpires()
{
	const v = Number(sessionStorage.getItem(EXP_KEY));
	return Number.isFinite(v) ? v : 0;
}

function forget()
{
	sessionStorage.removeItem(CSRF_KEY);
	sessionStorage.removeItem(EXP_KEY);
}

/*
 * api(method, path, body) -> parsed JSON (null for 204).  Throws
 * ApiError: status 0 when the server cannot be reached.
 */
export async function api(method, path, body)
{
	const opts = {
		method,
		headers: { Accept: 'application/json' },
		credentials: 'same-origin',
		cache: 'no-store',
		redirect: 'error',
	};
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	if (method !== 'GET' && csrfToken() !== null)
		opts.headers['X-CSRF-Token'] = csrfToken();
	let res;
	try {
		res = await fetch(path, opts);
	} catch (e) {
		throw new ApiError(0, 'The server cannot be reached. Check ' +
		    'that scepd is running, then try again.', null);
	}
	if (res.status === 204)
		return null;
	let data = null;
	const ct = res.headers.get('Content-Type') || '';
	if (ct.startsWith('application/json')) {
		try {
			data = await res.json();
		} catch (e) {
			data = null;
		}
	}
	if (!res.ok) {
		let msg = data && typeof data.error === 'string' ? data.error :
		    `The server answered ${res.status}`;
		if (res.status === 429) {
			const ra = res.headers.get('Retry-After');
			if (ra)
				msg += ` (retry in ${ra} s)`;
		}
		const err = new ApiError(res.status, msg,
		    data && typeof data.field === 'string' ? data.field : null);
		if (res.status === 401 && path !== '/api/v1/login') {
			forget();
			if (unauthorizedHandler)
				unauthorizedHandler(err);
		}
		throw err;
	}
	return data;
}

/* GET path with query parameters (undefined/''/null ones left out). */
export function apiGet(path, query)
{
	return api('GET', path + qs(query));
}

export function qs(query)
{
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(query || {}))
		if (v !== undefined && v !== null && v !== '')
			p.set(k, String(v));
	const s = p.toString();
	return s ? `?${s}` : '';
}

/* GET a list resource: its "items". */
export async function list(path, query)
{
	const r = await apiGet(path, query);
	return r && Array.isArray(r.items) ? r.items : [];
}

export async function login(name, password)
{
	const r = await api('POST', '/api/v1/login', { name, password });
	sessionStorage.setItem(CSRF_KEY, r.csrf_token);
	sessionStorage.setItem(EXP_KEY, String(Math.floor(Date.now() / 1000) +
	    (r.expires_in || 0)));
	return r;
}

export async function logout()
{
	try {
		await api('POST', '/api/v1/logout', {});
	} finally {
		forget();
	}
}

export function me()
{
	return api('GET', '/api/v1/me');
}
