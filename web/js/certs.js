/*
 * certs.js -- Certificates: search (subject, serial, status, endpoint,
 * organization, expiry), view with details and downloads (PEM, DER,
 * PKCS#7), and revoke with an RFC 5280 reason.  The list pages forward
 * with the API's "next" cursor.
 */
import { api, apiGet, list } from './api.js';
import { h, replace, field, formDialog, openDialog, errorBox, busy, toast,
    fmtTime, fmtDate, defList, clearErrors, showError } from './dom.js';
import { CRL_REASONS, orgs } from './model.js';

let endpoints = [], accounts = [];

function acctName(id)
{
	const a = accounts.find((x) => x.id === id);
	return a ? a.name : id ? `account ${id}` : '';
}

function epName(id)
{
	const e = endpoints.find((x) => x.id === id);
	return e ? e.name : id ? `endpoint ${id}` : '';
}

async function viewCert(serial)
{
	const d = openDialog({ title: `Certificate ${serial}`,
	    id: 'certificate', wide: true });
	const close = h('button', { type: 'button', text: 'Close' });
	close.addEventListener('click', () => d.close());
	d.footer.append(close);
	const err = errorBox();
	d.body.append(err.el);
	let c;
	try {
		c = await apiGet(`/api/v1/certificates/${encodeURIComponent(
		    serial)}`);
	} catch (e) {
		err.set(e.message);
		return;
	}
	const x = c.details || {};
	const dl = (fmt, text) => h('a', { class: 'button', download: '',
	    href: `/api/v1/certificates/${encodeURIComponent(serial)}/` +
	    `download?format=${fmt}`, text });
	d.body.append(defList([
		['Status', c.status + (c.expired ? ' (expired)' : '')],
		['Revoked', c.revoked_at ? `${fmtTime(c.revoked_at)} ` +
		    `(${c.revoke_reason})` : ''],
		['Subject', x.subject || c.subject],
		['Issuer', x.issuer],
		['Serial', c.serial],
		['Valid from', fmtTime(c.not_before)],
		['Valid until', fmtTime(c.not_after)],
		['Key', x.key_type ? `${x.key_type} ${x.key_bits}` : ''],
		['Key usage', (x.key_usage || []).join(', ')],
		['Extended key usage', (x.ext_key_usage || []).join(', ')],
		['Subject alternative names', (x.sans || []).map((s) =>
		    `${s.type}:${s.value}`).join(', ')],
		['Endpoint', epName(c.endpoint_id)],
		['Account', acctName(c.account_id)],
		['Organization', orgs.refLabel(c.org_id, c.dept_id)],
		['SHA-256 fingerprint', h('code', { class: 'fp',
		    text: x.fingerprint_sha256 || '' })],
	]), h('div', { class: 'downloads' }, h('span', { text: 'Download: ' }),
	    dl('pem', 'PEM'), dl('der', 'DER'), dl('p7', 'PKCS#7 chain')));
}

function revokeCert(c)
{
	return formDialog({
		title: `Revoke certificate ${c.serial}`,
		id: 'revoke-certificate',
		danger: true,
		intro: `Revoke "${c.subject}"? The next CRL lists it; this ` +
		    'cannot be undone (except certificateHold).',
		fields: {
			reason: field({ label: 'Reason (RFC 5280)',
			    name: 'reason', type: 'select',
			    options: CRL_REASONS.map((r) => [r, r]),
			    value: 'unspecified' }),
		},
		submit: 'Revoke',
		busy: 'Revoking\u2026',
		run: (F) => api('POST', `/api/v1/certificates/` +
		    `${encodeURIComponent(c.serial)}/revoke`,
		    { reason: F.reason.input.value }),
	});
}

export async function render(main)
{
	await orgs.load();
	[endpoints, accounts] = await Promise.all([list('/api/v1/endpoints'),
	    list('/api/v1/accounts')]);
	const F = {
		subject: field({ label: 'Subject contains', name: 'subject' }),
		serial: field({ label: 'Serial (hex)', name: 'serial' }),
		status: field({ label: 'Status', name: 'status',
		    type: 'select', options: [['', 'Any'], ['valid', 'Valid'],
		    ['revoked', 'Revoked']] }),
		endpoint_id: field({ label: 'Endpoint', name: 'endpoint_id',
		    type: 'select', options: [['', 'Any endpoint'],
		    ...endpoints.map((e) => [e.id, e.name])] }),
		org_id: field({ label: 'Organization', name: 'org_id',
		    type: 'select', options: [['', 'Any organization'],
		    ...orgs.list.map((o) => [o.id, o.name])] }),
		expires_before: field({ label: 'Expires before (UTC)',
		    name: 'expires_before', type: 'date' }),
	};
	const search = h('button', { type: 'submit', class: 'primary',
	    text: 'Search' });
	const form = h('form', { class: 'filters', role: 'search',
	    'aria-label': 'Search certificates', novalidate: true },
	    Object.values(F).map((f) => f.wrap),
	    h('div', { class: 'actions' }, search));
	const err = errorBox();
	const status = h('p', { class: 'count', 'aria-live': 'polite' });
	const tbody = h('tbody', {});
	const more = h('button', { type: 'button', text: 'More results' });
	more.hidden = true;
	let cursor = null;

	const query = () => {
		const exp = F.expires_before.input.value;
		return {
			subject: F.subject.input.value,
			serial: F.serial.input.value.replace(/[:\s]/g, ''),
			status: F.status.input.value,
			endpoint_id: F.endpoint_id.input.value,
			org_id: F.org_id.input.value,
			expires_before: exp ? Math.floor(Date.parse(
			    `${exp}T00:00:00Z`) / 1000) : '',
			limit: 100,
		};
	};
	let shown = 0;
	const load = async (append) => {
		clearErrors(F, err);
		let r;
		try {
			r = await busy(append ? more : search, () => apiGet(
			    '/api/v1/certificates', { ...query(),
			    after: append ? cursor : undefined }),
			    'Searching\u2026');
		} catch (e) {
			showError(F, err, e);
			return;
		}
		if (!append) {
			replace(tbody);
			shown = 0;
		}
		for (const c of r.items || []) {
			const v = h('button', { type: 'button', class: 'small',
			    text: 'View', 'aria-label': `View ${c.serial}` });
			v.addEventListener('click', () => viewCert(c.serial));
			const rv = h('button', { type: 'button',
			    class: 'small danger', text: 'Revoke',
			    'aria-label': `Revoke ${c.serial}` });
			rv.hidden = c.status === 'revoked';
			rv.addEventListener('click', async () => {
				if (await revokeCert(c)) {
					toast(`Certificate ${c.serial} revoked`);
					load(false);
				}
			});
			tbody.append(h('tr', { dataset: { serial: c.serial } },
			    h('td', { 'data-label': 'Serial' },
			    h('code', { text: c.serial })),
			    h('td', { 'data-label': 'Subject', text: c.subject }),
			    h('td', { 'data-label': 'Status',
			    text: c.status + (c.expired ? ' (expired)' : '') }),
			    h('td', { 'data-label': 'Valid until',
			    text: fmtDate(c.not_after) }),
			    h('td', { 'data-label': 'Endpoint',
			    text: epName(c.endpoint_id) }),
			    h('td', { 'data-label': 'Organization',
			    text: orgs.refLabel(c.org_id, c.dept_id) }),
			    h('td', { class: 'actions' }, v, rv)));
			shown += 1;
		}
		cursor = r.next || null;
		more.hidden = !cursor;
		status.textContent = shown === 0 ? 'No certificates match.' :
		    `${shown} certificate${shown === 1 ? '' : 's'}` +
		    (cursor ? ' (more available)' : '');
	};
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		load(false);
	});
	more.addEventListener('click', () => load(true));
	replace(main, h('div', { class: 'pagehead' },
	    h('h1', { text: 'Certificates' })), form, err.el, status,
	    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
	    h('caption', { class: 'sr-only', text: 'Certificates' }),
	    h('thead', {}, h('tr', {}, ...['Serial', 'Subject', 'Status',
	    'Valid until', 'Endpoint', 'Organization', 'Actions'].map((x) =>
	    h('th', { scope: 'col', text: x })))), tbody)),
	    h('div', { class: 'pager' }, more));
	await load(false);
}
