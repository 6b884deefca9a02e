/*
 * scep.js -- the SCEP page (issue 4, "the heart"): the table of
 * enrollment endpoints with Name, URL (with a copy button), Type and
 * Delegation Mode; custom filters that combine; predefined groupings with
 * headers and counts; Refresh that keeps both; and the admin controls,
 * enabled by the selected row and the administrator's rights.
 */
import { api, list } from './api.js';
import { h, replace, copyButton, setOptions, toast,
    confirmDialog } from './dom.js';
import { EP_TYPES, typeLabel, isIntune, delegationLabel, endpointOrgs,
    orgs, isMrao, canManage, canCreateEndpoint } from './model.js';
import { openEndpointDialog } from './ep_dialog.js';
import { openDelegateDialog } from './delegate.js';
import { openAccountsDialog } from './accounts.js';
import { openRaDialog } from './ra.js';
import { openAuditDialog } from './audit.js';

/* Page state: survives Refresh and leaving and coming back to the page. */
const state = {
	endpoints: [],
	filter: { name: '', type: '', deleg: '', org: '' },
	group: '',
	selected: null,		/* endpoint id */
	baseUrl: '',
};

const GROUPS = [
	['', 'No grouping'],
	['type', 'Type'],
	['deleg', 'Delegation mode'],
	['org', 'Organization'],
];

let ui = null;

/* The base URL scepd advertises (from an endpoint's url), else ours. */
export function baseUrl()
{
	return state.baseUrl || window.location.origin;
}

async function load()
{
	const [eps] = await Promise.all([list('/api/v1/endpoints'),
	    orgs.load()]);
	state.endpoints = eps.sort((a, b) => a.name.localeCompare(b.name));
	for (const e of eps) {
		const i = typeof e.url === 'string' ? e.url.lastIndexOf(
		    '/scep/') : -1;
		if (i > 0) {
			state.baseUrl = e.url.slice(0, i);
			break;
		}
	}
	if (!state.endpoints.some((e) => e.id === state.selected))
		state.selected = null;
}

function selectedEndpoint()
{
	return state.endpoints.find((e) => e.id === state.selected) || null;
}

/* ---- filter and group ---- */

function matches(ep)
{
	const f = state.filter;
	if (f.name && !ep.name.toLowerCase().includes(f.name.toLowerCase()))
		return false;
	if (f.type && ep.type !== f.type)
		return false;
	if (f.deleg && ep.delegation !== f.deleg)
		return false;
	if (f.org && !endpointOrgs(ep).includes(Number(f.org)))
		return false;
	return true;
}

/* [[groupLabel, [endpoints]], ...] in a stable order. */
function grouped(eps)
{
	if (state.group === '')
		return [['', eps]];
	const groups = new Map();
	const add = (key, label, ep) => {
		if (!groups.has(key))
			groups.set(key, [label, []]);
		groups.get(key)[1].push(ep);
	};
	for (const ep of eps) {
		if (state.group === 'type') {
			add(ep.type, typeLabel(ep.type), ep);
		} else if (state.group === 'deleg') {
			add(ep.delegation, ep.delegation === 'general' ?
			    'General' : 'Customized', ep);
		} else {
			/* An endpoint delegated to several organizations
			 * is listed under each of them. */
			const ids = endpointOrgs(ep);
			if (ep.delegation === 'general' && ids.length === 0)
				add('~general', 'All organizations (General)',
				    ep);
			else if (ids.length === 0)
				add('~none', 'No organization', ep);
			for (const id of ids)
				add(`org-${orgs.name(id)}-${id}`, orgs.name(id),
				    ep);
		}
	}
	let keys = [...groups.keys()];
	if (state.group === 'type')
		keys = EP_TYPES.map(([t]) => t).filter((t) => groups.has(t));
	else
		keys.sort();
	return keys.map((k) => groups.get(k));
}

/* ---- rendering ---- */

function row(ep, gi)
{
	const sel = ep.id === state.selected;
	const rid = `ep-${gi}-${ep.id}`;
	const radio = h('input', { type: 'radio', name: 'ep-select',
	    id: rid, value: String(ep.id), 'aria-label': `Select ${ep.name}` });
	radio.checked = sel;
	radio.addEventListener('change', () => select(ep.id));
	const url = ep.url || `${baseUrl()}/scep/${ep.uri_ext}`;
	/* The radio button carries the selection for assistive
	 * technology; the row only shows it. */
	const tr = h('tr', { class: sel ? 'selected' : null,
	    dataset: { id: String(ep.id) } },
	    h('td', { class: 'sel' }, radio),
	    h('td', { 'data-label': 'Name' },
	    h('label', { for: rid, class: 'epname', text: ep.name }),
	    ep.enabled === false ? h('span', { class: 'badge',
	    text: 'disabled' }) : null,
	    ep.legacy ? h('span', { class: 'badge warn', text: 'legacy' }) :
	    null,
	    ep.manual_approval ? h('span', { class: 'badge',
	    text: 'manual approval' }) : null),
	    h('td', { 'data-label': 'URL', class: 'url' },
	    h('code', { text: url }),
	    copyButton(() => url, `Copy the URL of ${ep.name}`)),
	    h('td', { 'data-label': 'Type', text: typeLabel(ep.type) }),
	    h('td', { 'data-label': 'Delegation Mode',
	    text: delegationLabel(ep) }));
	tr.addEventListener('click', (ev) => {
		if (ev.target.closest('button, a, input'))
			return;
		select(ep.id);
		radio.focus();
	});
	return tr;
}

function renderTable()
{
	const shown = state.endpoints.filter(matches);
	const table = ui.table;
	const oldBodies = table.querySelectorAll('tbody');

	for (const b of oldBodies)
		b.remove();
	ui.count.textContent = state.endpoints.length === 0 ?
	    'No enrollment endpoints yet.' :
	    `Showing ${shown.length} of ${state.endpoints.length} endpoints` +
	    (state.group ? `, grouped by ${GROUPS.find(([g]) =>
	    g === state.group)[1].toLowerCase()}` : '');
	let gi = 0;
	for (const [label, eps] of grouped(shown)) {
		const tb = h('tbody', {});
		if (state.group !== '') {
			tb.append(h('tr', { class: 'group' },
			    h('th', { colspan: '5', scope: 'rowgroup' },
			    h('span', { class: 'glabel', text: label }),
			    h('span', { class: 'gcount',
			    text: ` (${eps.length})` }))));
		}
		for (const ep of eps)
			tb.append(row(ep, gi));
		table.append(tb);
		gi += 1;
	}
	if (shown.length === 0 && state.endpoints.length > 0)
		table.append(h('tbody', {}, h('tr', {}, h('td', { colspan: '5',
		    class: 'empty', text: 'No endpoint matches the filter.' }))));
	updateControls();
}

function select(id)
{
	state.selected = id;
	for (const tr of ui.table.querySelectorAll('tbody tr[data-id]')) {
		const on = Number(tr.dataset.id) === id;
		tr.classList.toggle('selected', on);
		const r = tr.querySelector('input[type=radio]');
		if (r)
			r.checked = on;
	}
	updateControls();
}

/* Enable the controls that apply to the selection (and say why not). */
function updateControls()
{
	const ep = selectedEndpoint();
	const c = ui.controls;
	const set = (btn, on, why) => {
		btn.disabled = !on;
		btn.title = on ? '' : why;
	};
	const noSel = 'Select an endpoint first';
	set(c.edit, ep && canManage(ep), ep ? 'You may not change this ' +
	    'endpoint (General delegation or outside your scope)' : noSel);
	set(c.del, ep && canManage(ep), ep ? 'You may not delete this ' +
	    'endpoint' : noSel);
	set(c.deleg, ep && canManage(ep), ep ? 'You may not change the ' +
	    'delegation of this endpoint' : noSel);
	set(c.accounts, ep && !isIntune(ep.type), ep ? 'Intune endpoints ' +
	    'have no accounts: Intune validates each request' : noSel);
	set(c.audit, Boolean(ep), noSel);
	ui.selinfo.textContent = ep ? `Selected: ${ep.name}` :
	    'No endpoint selected.';
}

async function refresh(announce)
{
	ui.refresh.disabled = true;
	ui.refresh.setAttribute('aria-busy', 'true');
	try {
		await load();
		renderTable();
		if (announce)
			toast('Endpoints reloaded');
	} catch (e) {
		toast(e.message, 'error');
	} finally {
		ui.refresh.disabled = false;
		ui.refresh.removeAttribute('aria-busy');
	}
}

function filterBar()
{
	const f = state.filter;
	const mk = (label, el) => {
		const id = `flt-${el.name}`;
		el.id = id;
		return h('div', { class: 'field inline' },
		    h('label', { for: id, text: label }), el);
	};
	const name = h('input', { type: 'search', name: 'name',
	    value: f.name, autocomplete: 'off' });
	const type = h('select', { name: 'type' });
	setOptions(type, [['', 'Any type'], ...EP_TYPES], f.type);
	const deleg = h('select', { name: 'deleg' });
	setOptions(deleg, [['', 'Any mode'], ['general', 'General'],
	    ['customized', 'Customized']], f.deleg);
	const org = h('select', { name: 'org' });
	setOptions(org, [['', 'Any organization'],
	    ...orgs.list.map((o) => [o.id, o.name])], f.org);
	const group = h('select', { name: 'group' });
	setOptions(group, GROUPS, state.group);
	const apply = () => {
		state.filter = { name: name.value, type: type.value,
		    deleg: deleg.value, org: org.value };
		state.group = group.value;
		renderTable();
	};
	for (const el of [name, type, deleg, org, group])
		el.addEventListener(el === name ? 'input' : 'change', apply);
	const reset = h('button', { type: 'button', text: 'Clear filters' });
	reset.addEventListener('click', () => {
		name.value = '';
		type.value = deleg.value = org.value = '';
		apply();
	});
	ui.orgFilter = org;
	/* Folded on a phone, where it would push the table off the
	 * screen; the summary says what is active. */
	const summary = h('summary', { text: 'Filter and group' });
	const box = h('details', { class: 'filterbox' }, summary,
	    h('div', { class: 'filters', role: 'search',
	    'aria-label': 'Filter and group endpoints' },
	    h('fieldset', { class: 'fbox' }, h('legend', { text: 'Filter' }),
	    mk('Name contains', name), mk('Type', type),
	    mk('Delegation mode', deleg), mk('Organization', org), reset),
	    h('fieldset', { class: 'fbox' }, h('legend', { text: 'Group' }),
	    mk('Group by', group))));
	box.open = !window.matchMedia('(max-width: 720px)').matches ||
	    Object.values(state.filter).some((v) => v !== '') ||
	    state.group !== '';
	return box;
}

async function deleteEndpoint(ep)
{
	const ok = await confirmDialog({
		id: 'delete-endpoint',
		title: 'Delete Enrollment Endpoint',
		danger: true,
		confirm: 'Delete endpoint',
		message: [
			`Delete "${ep.name}"?`,
			`Enrollment at ${ep.url || ep.uri_ext} stops at once: ` +
			    'SCEP clients get "no such endpoint" (404) and ' +
			    'its accounts and challenges stop working.',
			'Certificates already issued through it are not ' +
			    'revoked: they stay valid until they expire or ' +
			    'you revoke them, and they stay listed under ' +
			    'Certificates.  The audit trail of the endpoint ' +
			    'is kept.',
		],
	});
	if (!ok)
		return;
	try {
		await api('DELETE', `/api/v1/endpoints/${ep.id}`);
		toast(`Endpoint "${ep.name}" deleted`);
		state.selected = null;
	} catch (e) {
		toast(`Could not delete: ${e.message}`, 'error');
	}
	await refresh(false);
}

function toolbar()
{
	const b = (text, cls) => h('button', { type: 'button', class: cls ||
	    null, text });
	const c = {
		add: b('Add', 'primary'),
		edit: b('Edit'),
		del: b('Delete', 'danger'),
		deleg: b('Delegate'),
		accounts: b('Accounts'),
		ra: b('SCEP RA Certificates'),
		audit: b('View Audit'),
	};
	const done = (id) => {
		if (id)
			state.selected = id;
		refresh(false);
	};
	c.add.addEventListener('click', () => openEndpointDialog({
	    mode: 'create', baseUrl: baseUrl(), onDone: done }));
	c.edit.addEventListener('click', () => openEndpointDialog({
	    mode: 'edit', ep: selectedEndpoint(), baseUrl: baseUrl(),
	    onDone: done }));
	c.del.addEventListener('click', () => deleteEndpoint(
	    selectedEndpoint()));
	c.deleg.addEventListener('click', () => openDelegateDialog(
	    selectedEndpoint(), done));
	c.accounts.addEventListener('click', () => openAccountsDialog(
	    selectedEndpoint()));
	c.ra.addEventListener('click', () => openRaDialog(
	    selectedEndpoint(), done));
	c.audit.addEventListener('click', () => openAuditDialog(
	    selectedEndpoint()));
	/* Controls an administrator may not use are not offered. */
	c.add.hidden = !canCreateEndpoint();
	c.ra.hidden = !isMrao();
	ui.controls = c;
	ui.refresh = b('Refresh');
	ui.refresh.addEventListener('click', () => refresh(true));
	return h('div', { class: 'toolbar', role: 'group',
	    'aria-label': 'Endpoint actions' },
	    c.add, c.edit, c.del, c.deleg, c.accounts, c.ra, c.audit,
	    h('span', { class: 'spacer' }), ui.refresh);
}

export async function render(main)
{
	ui = {};
	await load();
	ui.table = h('table', { class: 'eps' },
	    h('caption', { class: 'sr-only',
	    text: 'SCEP enrollment endpoints' }),
	    h('thead', {}, h('tr', {},
	    h('th', { scope: 'col' }, h('span', { class: 'sr-only',
	    text: 'Select' })),
	    h('th', { scope: 'col', text: 'Name' }),
	    h('th', { scope: 'col', text: 'URL' }),
	    h('th', { scope: 'col', text: 'Type' }),
	    h('th', { scope: 'col', text: 'Delegation Mode' }))));
	ui.count = h('p', { class: 'count', 'aria-live': 'polite' });
	ui.selinfo = h('p', { class: 'selinfo sr-only', 'aria-live': 'polite' });
	replace(main,
	    h('div', { class: 'pagehead' },
	    h('h1', { text: 'SCEP enrollment endpoints' })),
	    toolbar(), filterBar(), ui.count, ui.selinfo,
	    h('div', { class: 'tablewrap' }, ui.table));
	renderTable();
}
