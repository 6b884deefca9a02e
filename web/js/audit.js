/*
 * audit.js -- "Enrollment Endpoint Audit" (issue 4): the audit records
 * of one endpoint (enrollment attempts and administrative changes) with
 * filters, paging, a detail view and downloads (CSV, JSON) of what the
 * filters select.  The API pages oldest first with an "after" cursor.
 */
import { apiGet, qs, list } from './api.js';
import { h, replace, field, openDialog, errorBox, busy, fmtTime, defList,
    showError } from './dom.js';
import { orgs } from './model.js';

const EXPORT_MAX = 10000;	/* API_EXPORT_MAX of src/api/api_int.h */

/* "YYYY-MM-DD" (UTC) -> Unix seconds at its start; "" -> undefined. */
function dayStart(v, plusDay)
{
	if (!v)
		return undefined;
	const t = Date.parse(`${v}T00:00:00Z`);
	if (Number.isNaN(t))
		return undefined;
	return Math.floor(t / 1000) + (plusDay ? 86400 : 0);
}

const INTUNE_CALLS = {
	validateRequest: 'Validation (validateRequest)',
	successNotification: 'Success notification',
	failureNotification: 'Failure notification',
};

/* One Intune call of an enrollment's audit record, for a human. */
function intuneCall(c)
{
	const parts = [c.code ? `Intune code ${c.code}` : (c.http ?
	    'no Intune code' : 'no answer')];
	if (c.aadsts)
		parts.push(`Entra ID ${c.aadsts}`);
	if (c.http)
		parts.push(`HTTP ${c.http}`);
	if (c.stage && c.stage !== 'none')
		parts.push(`failed at: ${c.stage}`);
	parts.push(`${c.ms} ms`);
	if (c.attempts > 1)
		parts.push(`${c.attempts} attempts`);
	let text = parts.join(' \u00b7 ');
	if (c.msg)
		text += ` \u2014 ${c.msg}`;
	return text;
}

/*
 * The Intune part of an enrollment's details (svc_intune_details, under
 * "intune"): why a device was refused, readably; nothing otherwise.
 */
function intuneView(ev)
{
	const io = ev.details && typeof ev.details === 'object' ?
	    ev.details.intune : null;
	if (!io || typeof io !== 'object')
		return null;
	const rows = [];
	if (ev.result && ev.result !== 'SUCCESS')
		rows.push(['Why refused', ev.reason || 'see below']);
	/* The account's name as it was at the time (it may have been
	 * renamed or deleted since), and its id. */
	if (io.azure_account_id)
		rows.push(['Azure account', io.azure_account_name ?
		    `${io.azure_account_name} (id ${io.azure_account_id})` :
		    `id ${io.azure_account_id}`]);
	for (const k of ['validate', 'notify'])
		if (io[k] && typeof io[k] === 'object')
			rows.push([INTUNE_CALLS[io[k].action] || io[k].action,
			    intuneCall(io[k])]);
	if (io.background)
		rows.push(['Notification', 'sent in the background (the ' +
		    'endpoint does not wait for it)']);
	for (const k of ['validate', 'notify'])
		if (io[k] && Array.isArray(io[k].crid) && io[k].crid.length)
			rows.push([`client-request-id (${k})`,
			    io[k].crid.join(', ')]);
	return h('section', { class: 'intune', 'aria-label': 'Intune' },
	    h('h4', { text: 'Intune' }), defList(rows));
}

export function openAuditDialog(ep)
{
	const d = openDialog({ title: 'Enrollment Endpoint Audit',
	    id: 'endpoint-audit', wide: true });
	const base = `/api/v1/endpoints/${ep.id}/audit`;
	const F = {
		since: field({ label: 'From (UTC)', name: 'since',
		    type: 'date' }),
		until: field({ label: 'To (UTC, inclusive)', name: 'until',
		    type: 'date' }),
		kind: field({ label: 'Kind', name: 'kind', type: 'select',
		    options: [['', 'All'], ['enroll', 'Enrollment attempts'],
		    ['admin', 'Administrative changes']] }),
		result: field({ label: 'Result', name: 'result',
		    type: 'select', options: [['', 'All'],
		    ['SUCCESS', 'SUCCESS'], ['FAILURE', 'FAILURE'],
		    ['PENDING', 'PENDING'], ['ERROR', 'ERROR']] }),
		actor: field({ label: 'Actor', name: 'actor',
		    help: 'Administrator name or client address (exact).' }),
		action: field({ label: 'Action', name: 'action',
		    help: 'Exact, e.g. PKCSReq; ending in "." matches a ' +
		    'prefix (endpoint.).' }),
		limit: field({ label: 'Rows per page', name: 'limit',
		    type: 'select', value: 50, options: [[25, '25'],
		    [50, '50'], [100, '100'], [500, '500']] }),
	};
	const err = errorBox();
	const apply = h('button', { type: 'submit', class: 'primary',
	    text: 'Apply filters' });
	const filters = h('form', { class: 'filters audit', novalidate: true,
	    role: 'search', 'aria-label': 'Filter audit records' },
	    ...Object.values(F).map((f) => f.wrap),
	    h('div', { class: 'actions' }, apply));
	const csv = h('a', { class: 'button', download: '',
	    text: 'Download CSV' });
	const json = h('a', { class: 'button', download: '',
	    text: 'Download JSON' });
	const tbody = h('tbody', {});
	const status = h('p', { class: 'count', 'aria-live': 'polite' });
	const prev = h('button', { type: 'button', text: 'Previous page' });
	const next = h('button', { type: 'button', text: 'Next page' });
	const table = h('table', { class: 'list audit' },
	    h('caption', { class: 'sr-only', text: `Audit of ${ep.name}` }),
	    h('thead', {}, h('tr', {}, ...['Time', 'Kind', 'Actor', 'Action',
	    'Result', 'Account', 'Transaction / serial', 'Reason', '']
	    .map((t) => h('th', { scope: 'col', text: t })))), tbody);
	const listView = h('div', {}, h('p', {}, 'Endpoint: ',
	    h('strong', { text: ep.name })), filters, err.el,
	    h('div', { class: 'toolbar' }, csv, json), status,
	    h('div', { class: 'tablewrap' }, table),
	    h('div', { class: 'pager' }, prev, next));
	const detailView = h('div', { hidden: true });
	d.body.append(listView, detailView);
	const close = h('button', { type: 'button', text: 'Close' });
	close.addEventListener('click', () => d.close());
	d.footer.append(close);

	/* Cursors of the pages seen so far: cursors[i] starts page i. */
	let cursors = [0], page = 0, lastFocus = null;
	/* Account names for the ids in the records (those still visible). */
	let accounts = new Map();
	const acctName = (id) => id ? accounts.get(id) || `account ${id}` : '';

	const query = () => ({
		since: dayStart(F.since.input.value, false),
		until: dayStart(F.until.input.value, true),
		kind: F.kind.input.value,
		result: F.result.input.value,
		actor: F.actor.input.value,
		action: F.action.input.value,
	});

	const showDetail = (ev, btn) => {
		lastFocus = btn;
		const back = h('button', { type: 'button', text: 'Back to the ' +
		    'records' });
		back.addEventListener('click', () => {
			detailView.hidden = true;
			listView.hidden = false;
			if (lastFocus)
				lastFocus.focus();
		});
		replace(detailView, h('h3', { text: `Audit record ${ev.id}` }),
		    defList([
			['Time', fmtTime(ev.ts)],
			['Kind', ev.kind],
			['Actor', ev.actor],
			['Action', ev.action],
			['Result', ev.result],
			['failInfo', ev.failinfo],
			['Reason', ev.reason],
			['Transaction ID', ev.transid],
			['Client address', ev.client_addr],
			['Serial', ev.serial],
			['Account', acctName(ev.account_id)],
			['Organization', orgs.refLabel(ev.org_id, ev.dept_id)],
			['Hash', h('code', { class: 'fp', text: ev.hash })],
			['Previous hash', h('code', { class: 'fp',
			    text: ev.prev_hash })],
		    ]),
		    intuneView(ev),
		    h('h4', { text: 'Details' }),
		    h('pre', { class: 'json', text: JSON.stringify(ev.details,
		    null, 2) }),
		    h('div', { class: 'actions' }, back));
		listView.hidden = true;
		detailView.hidden = false;
		back.focus();
	};

	const load = async () => {
		const q = query();
		const limit = Number(F.limit.input.value);
		const exportQs = qs({ ...q, format: 'csv', download: 'true',
		    limit: EXPORT_MAX });
		csv.href = base + exportQs;
		json.href = base + qs({ ...q, format: 'json', download: 'true',
		    limit: EXPORT_MAX });
		err.clear();
		let r;
		try {
			r = await busy(apply, () => apiGet(base, { ...q, limit,
			    after: cursors[page] || undefined }),
			    'Loading\u2026');
		} catch (e) {
			showError(F, err, e);
			return;
		}
		replace(tbody);
		const items = r.items || [];
		for (const ev of items) {
			const more = h('button', { type: 'button', class: 'small',
			    text: 'Details', 'aria-label': `Details of record ` +
			    `${ev.id}` });
			more.addEventListener('click', () => showDetail(ev, more));
			tbody.append(h('tr', { class: `res-${String(ev.result)
			    .toLowerCase()}`, dataset: { kind: ev.kind } },
			    h('td', { 'data-label': 'Time', text: fmtTime(ev.ts) }),
			    h('td', { 'data-label': 'Kind', text: ev.kind }),
			    h('td', { 'data-label': 'Actor', text: ev.actor }),
			    h('td', { 'data-label': 'Action', text: ev.action }),
			    h('td', { 'data-label': 'Result', text: ev.result }),
			    h('td', { 'data-label': 'Account',
			    text: acctName(ev.account_id) }),
			    h('td', { 'data-label': 'Transaction / serial' },
			    h('code', { text: ev.transid || '' }),
			    ev.serial ? h('span', { class: 'serial',
			    text: ` serial ${ev.serial}` }) : null),
			    h('td', { 'data-label': 'Reason', text: ev.reason }),
			    h('td', {}, more)));
		}
		if (items.length === 0)
			tbody.append(h('tr', {}, h('td', { colspan: '9',
			    class: 'empty', text: 'No audit records match.' })));
		if (r.next)
			cursors[page + 1] = r.next;
		else
			cursors = cursors.slice(0, page + 1);
		prev.disabled = page === 0;
		next.disabled = !r.next;
		status.textContent = `Page ${page + 1}: ${items.length} ` +
		    `record${items.length === 1 ? '' : 's'}`;
	};

	filters.addEventListener('submit', (ev) => {
		ev.preventDefault();
		cursors = [0];
		page = 0;
		load();
	});
	prev.addEventListener('click', () => {
		if (page > 0) {
			page -= 1;
			load();
		}
	});
	next.addEventListener('click', () => {
		if (cursors[page + 1]) {
			page += 1;
			load();
		}
	});
	(async () => {
		try {
			const items = await list(`/api/v1/endpoints/${ep.id}/` +
			    'accounts');
			accounts = new Map(items.map((a) => [a.id, a.name]));
		} catch (e) {
			accounts = new Map();	/* Intune endpoints: none */
		}
		await load();
	})();
	F.since.input.focus();
	return d;
}
