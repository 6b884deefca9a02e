/*
 * azure.js -- Integrations -> Azure Accounts (issue 5): the Microsoft
 * Entra ID applications that Intune SCEP endpoints use to check requests
 * with Intune.  MRAO administrators add, edit, rotate the secret of, test
 * and delete them; RAO/DRAO administrators see the accounts delegated to
 * them, read-only.  Secrets are write-only: the API never returns them,
 * and the form fields for them start empty.
 */
import { api, list } from './api.js';
import { h, replace, field, formDialog, confirmDialog, openDialog, toast,
    busy, fmtDate, newId } from './dom.js';
import { orgs, isMrao } from './model.js';

const ENVS = [
	['global', 'Global (Microsoft Azure)'],
	['usgov', 'US Government (GCC High)'],
	['usgov-dod', 'US Government DoD'],
	['china', 'China (21Vianet)'],
	['custom', 'Custom URLs'],
];
const STEPS = {
	graph_token: 'Token for Microsoft Graph',
	discovery: 'Intune service discovery',
	intune_token: 'Token for Intune',
};

function envLabel(v)
{
	const e = ENVS.find(([k]) => k === v);
	return e ? e[1] : v;
}

function targetsText(a)
{
	if (a.delegation === 'general')
		return 'General';
	return (a.targets || []).map((t) => orgs.refLabel(t.org_id,
	    t.dept_id)).join(', ') || 'Customized (none)';
}

/* Organizations and departments as checkboxes, for Customized. */
function targetPicker(a)
{
	const cur = new Set((a.targets || []).map((t) =>
	    `${t.org_id}:${t.dept_id || 0}`));
	const boxes = [];
	const ul = h('ul', { class: 'tree', 'aria-label': 'Delegated to' });
	for (const o of orgs.list) {
		const row = (oid, did, text) => {
			const id = newId('tg');
			const cb = h('input', { type: 'checkbox', id });
			cb.checked = cur.has(`${oid}:${did}`);
			boxes.push([cb, oid, did]);
			return h('li', {}, h('div', { class: 'row' }, cb,
			    h('label', { for: id, text })));
		};
		ul.append(row(o.id, 0, `${o.name} (whole organization)`));
		for (const dp of orgs.deptsOf(o.id))
			ul.append(row(o.id, dp.id, `${o.name} / ${dp.name}`));
	}
	const err = h('p', { class: 'err', hidden: true });
	const wrap = h('fieldset', { class: 'group treebox' },
	    h('legend', { text: 'Customized delegation: organizations and ' +
	    'departments that may use this account' }),
	    orgs.list.length ? ul : h('p', { class: 'help', text: 'No ' +
	    'organizations yet.' }), err);
	return {
		wrap, error: err, input: boxes[0] ? boxes[0][0] : null,
		value: () => boxes.filter(([cb]) => cb.checked).map(([, o,
		    d]) => ({ org_id: o, dept_id: d })),
		set(msg) {
			err.textContent = msg;
			err.hidden = false;
		},
		clear() {
			err.hidden = true;
		},
	};
}

function accountDialog(a)
{
	const edit = Boolean(a);
	a = a || { environment: 'global', delegation: 'general' };
	const F = {
		name: field({ label: 'Name', name: 'name', required: true,
		    value: a.name, maxlength: 127 }),
		environment: field({ label: 'Environment', name: 'environment',
		    type: 'select', options: ENVS, value: a.environment }),
		tenant_id: field({ label: 'Directory (tenant) ID',
		    name: 'tenant_id', required: true, value: a.tenant_id,
		    help: 'A GUID, or the tenant\'s domain ' +
		    '(contoso.onmicrosoft.com).' }),
		client_id: field({ label: 'Application (client) ID',
		    name: 'client_id', required: true, value: a.client_id }),
		client_secret: field({ label: 'Client secret',
		    name: 'client_secret', type: 'password', required: !edit,
		    autocomplete: 'new-password',
		    help: edit ? 'Leave empty to keep the current secret ' +
		    '(never shown).' : 'Stored encrypted; never shown again.' }),
		authority_url: field({ label: 'Authority URL',
		    name: 'authority_url', value: a.authority_url,
		    help: 'Empty: the environment\'s (login.microsoftonline.' +
		    'com for Global). Required for Custom.' }),
		graph_url: field({ label: 'Microsoft Graph URL',
		    name: 'graph_url', value: a.graph_url,
		    help: 'Empty: the environment\'s.' }),
		intune_resource_url: field({ label: 'Intune resource URL',
		    name: 'intune_resource_url', value: a.intune_resource_url,
		    help: 'Empty: the environment\'s. Required for China and ' +
		    'Custom.' }),
		graph_scope: field({ label: 'Graph scope', name: 'graph_scope',
		    value: a.graph_scope, help: 'Empty: the Graph URL + ' +
		    '.default.' }),
		proxy: field({ label: 'HTTP proxy', name: 'proxy',
		    value: a.proxy, placeholder: 'http://proxy:3128',
		    help: 'Every call to Microsoft goes through it. Empty: ' +
		    'direct.' }),
		proxy_user: field({ label: 'Proxy user', name: 'proxy_user',
		    value: a.proxy_user }),
		proxy_password: field({ label: 'Proxy password',
		    name: 'proxy_password', type: 'password',
		    autocomplete: 'new-password', help: a.has_proxy_password ?
		    'Set. Leave empty to keep it.' : 'Optional.' }),
		ca_bundle_path: field({ label: 'CA bundle (PEM file on the ' +
		    'server)', name: 'ca_bundle_path', value: a.ca_bundle_path,
		    help: 'CAs trusted for TLS to Microsoft, for a ' +
		    'TLS-inspecting proxy. Empty: the system\'s.' }),
		revocation_poll: field({ label: 'Poll Intune\'s revocation ' +
		    'requests (every 15 minutes)', name: 'revocation_poll',
		    type: 'checkbox', value: a.revocation_poll }),
		delegation: field({ label: 'Delegation', name: 'delegation',
		    type: 'select', value: a.delegation, options: [
		    ['general', 'General: every organization and department'],
		    ['customized', 'Customized: the ones chosen below']] }),
	};
	F.targets = targetPicker(a);
	const applyDeleg = () => {
		F.targets.wrap.hidden =
		    F.delegation.input.value !== 'customized';
	};
	F.delegation.input.addEventListener('change', applyDeleg);
	applyDeleg();
	return formDialog({
		title: edit ? 'Edit Azure account' : 'Add Azure account',
		id: edit ? 'edit-azure' : 'add-azure', wide: true,
		fields: F, submit: edit ? 'Save' : 'Add',
		run: (G) => {
			const b = {};
			for (const k of ['name', 'environment', 'tenant_id',
			    'client_id', 'authority_url', 'graph_url',
			    'intune_resource_url', 'graph_scope', 'proxy',
			    'proxy_user', 'ca_bundle_path', 'delegation'])
				b[k] = G[k].input.value;
			b.revocation_poll = G.revocation_poll.input.checked;
			b.targets = b.delegation === 'customized' ?
			    G.targets.value() : [];
			if (G.client_secret.input.value !== '')
				b.client_secret = G.client_secret.input.value;
			if (G.proxy_password.input.value !== '')
				b.proxy_password = G.proxy_password.input.value;
			if (b.proxy === '')
				b.proxy_password = null;
			G.client_secret.input.value = '';
			G.proxy_password.input.value = '';
			return edit ? api('PATCH',
			    `/api/v1/azure-accounts/${a.id}`, b) :
			    api('POST', '/api/v1/azure-accounts', b);
		},
	});
}

function rotateDialog(a)
{
	return formDialog({
		title: 'Rotate client secret', id: 'rotate-azure',
		intro: `A new client secret for "${a.name}". It is used at ` +
		    'once: tokens obtained with the old one are dropped.',
		fields: { client_secret: field({ label: 'New client secret',
		    name: 'client_secret', type: 'password', required: true,
		    autocomplete: 'new-password' }) },
		submit: 'Rotate',
		run: async (F) => {
			const v = F.client_secret.input.value;
			F.client_secret.input.value = '';
			await api('POST', `/api/v1/azure-accounts/${a.id}/secret`,
			    { client_secret: v });
			return true;
		},
	});
}

/* Test connection: run it, then show each step and what failed. */
function testDialog(a)
{
	const d = openDialog({ title: `Test connection: ${a.name}`,
	    id: 'test-azure', wide: true });
	const out = h('div', { role: 'status', 'aria-live': 'polite' },
	    h('p', { text: 'Asking Microsoft Entra ID and Graph\u2026' }));
	const again = h('button', { type: 'button', text: 'Test again' });
	const close = h('button', { type: 'button', class: 'primary',
	    text: 'Close' });
	close.addEventListener('click', () => d.close());
	d.body.append(out);
	d.footer.append(again, close);
	const run = async () => {
		let r;
		try {
			r = await busy(again, () => api('POST',
			    `/api/v1/azure-accounts/${a.id}/test`, {}),
			    'Testing\u2026');
		} catch (e) {
			replace(out, h('p', { class: 'errbox', text: e.message }));
			return;
		}
		const rows = (r.steps || []).map((s) => h('tr', {
		    class: s.ok ? 'ok' : 'bad' },
		    h('td', { 'data-label': 'Step', text: STEPS[s.step] ||
		    s.step }),
		    h('td', { 'data-label': 'Result', text: s.ok ? 'Passed' :
		    (s.message === 'not run' ? 'Not run' : 'Failed') }),
		    h('td', { 'data-label': 'Code', text: [s.aadsts, s.code,
		    s.http_status ? `HTTP ${s.http_status}` : '']
		    .filter(Boolean).join(' ') }),
		    h('td', { 'data-label': 'Details', text: s.message }),
		    h('td', { 'data-label': 'Time', text: `${s.elapsed_ms} ms` })));
		replace(out, h('p', { class: r.ok ? 'notice' : 'notice warn',
		    'data-result': r.ok ? 'ok' : 'failed',
		    text: (r.ok ? 'Connection works. ' : 'Connection failed. ') +
		    r.summary }),
		    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
		    h('caption', { class: 'sr-only', text: 'Steps' }),
		    h('thead', {}, h('tr', {}, ...['Step', 'Result', 'Code',
		    'Details', 'Time'].map((t) => h('th', { scope: 'col',
		    text: t })))), h('tbody', {}, rows))),
		    r.validation_uri ? h('p', { class: 'help',
		    text: `Validation service: ${r.validation_uri}` }) : null);
	};
	again.addEventListener('click', run);
	run();
	return d;
}

export async function render(main)
{
	await orgs.load();
	let accounts = [];
	let error = null;
	try {
		accounts = await list('/api/v1/azure-accounts');
	} catch (e) {
		error = e.message;
	}
	const add = h('button', { type: 'button', class: 'primary',
	    text: 'Add Azure account' });
	add.hidden = !isMrao();
	add.addEventListener('click', async () => {
		const r = await accountDialog(null);
		if (r) {
			toast(`Azure account "${r.name}" added`);
			render(main);
		}
	});
	const btn = (text, a, fn, cls) => {
		const b = h('button', { type: 'button', class: `small ${cls ||
		    ''}`, text, 'aria-label': `${text}: ${a.name}` });
		b.addEventListener('click', fn);
		return b;
	};
	const rows = accounts.map((a) => {
		const cell = h('td', { class: 'actions' });
		if (isMrao())
			cell.append(
			    btn('Edit', a, async () => {
				const r = await accountDialog(a);
				if (r) {
					toast(`Azure account "${r.name}" saved`);
					render(main);
				}
			    }),
			    btn('Rotate secret', a, async () => {
				if (await rotateDialog(a))
					toast(`Client secret of "${a.name}" ` +
					    'rotated');
			    }),
			    btn('Test connection', a, () => testDialog(a)),
			    btn('Delete', a, async () => {
				if (!await confirmDialog({ title: 'Delete Azure ' +
				    'account', id: 'delete-azure', danger: true,
				    confirm: 'Delete', message: [`Delete ` +
				    `"${a.name}"?`, 'This is refused while an ' +
				    'Intune endpoint uses it.'] }))
					return;
				try {
					await api('DELETE',
					    `/api/v1/azure-accounts/${a.id}`);
					toast(`Azure account "${a.name}" deleted`);
				} catch (e) {
					toast(e.message, 'error');
				}
				render(main);
			    }, 'danger'));
		return h('tr', { 'data-id': String(a.id) },
		    h('td', { 'data-label': 'Name', text: a.name }),
		    h('td', { 'data-label': 'Environment',
		    text: envLabel(a.environment) }),
		    h('td', { 'data-label': 'Tenant', text: a.tenant_id }),
		    h('td', { 'data-label': 'Application ID',
		    text: a.client_id }),
		    h('td', { 'data-label': 'Delegation',
		    text: targetsText(a) }),
		    h('td', { 'data-label': 'Changed',
		    text: fmtDate(a.updated_at) }), cell);
	});
	replace(main, h('div', { class: 'pagehead' },
	    h('h1', { text: 'Azure Accounts' })),
	    h('p', { class: 'help', text: 'Intune SCEP endpoints check every ' +
	    'request with Microsoft Intune through one of these Microsoft ' +
	    'Entra ID applications. ' + (isMrao() ? '' : 'Only MRAO ' +
	    'administrators change them; you see those delegated to you.') }),
	    h('div', { class: 'toolbar' }, add),
	    error ? h('p', { class: 'errbox', role: 'alert', text: error }) :
	    accounts.length ? h('div', { class: 'tablewrap' },
	    h('table', { class: 'list', id: 'azure-table' },
	    h('caption', { class: 'sr-only', text: 'Azure accounts' }),
	    h('thead', {}, h('tr', {}, ...['Name', 'Environment', 'Tenant',
	    'Application ID', 'Delegation', 'Changed', 'Actions'].map((t) =>
	    h('th', { scope: 'col', text: t })))), h('tbody', {}, rows))) :
	    h('p', { class: 'empty', text: isMrao() ? 'No Azure accounts ' +
	    'yet. Add one to connect Intune SCEP endpoints to Microsoft ' +
	    'Intune.' : 'No Azure accounts delegated to you.' }));
}
