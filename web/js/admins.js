/*
 * admins.js -- Administrators: roles (MRAO, RAO, DRAO), their
 * certificate types and scopes, passwords and API tokens.  The master
 * administrator manages everybody; an RAO creates and manages DRAOs of
 * departments in its organizations; everybody changes its own password
 * and tokens.  Generated passwords and tokens are shown once.
 */
import { api, list } from './api.js';
import { h, replace, field, formDialog, confirmDialog, toast, fmtDate,
    openDialog, errorBox, busy, showSecretIn, newId, fmtTime } from
    './dom.js';
import { ROLES, orgs, isMrao, session, scopeCovers } from './model.js';

/* May the signed-in administrator manage administrator t? */
function canManageAdmin(t)
{
	const me = session.me;
	if (me.role === 'MRAO')
		return true;
	if (me.role !== 'RAO' || t.role !== 'DRAO' || t.id === me.id)
		return false;
	return (t.cert_types || []).every((c) => me.cert_types.includes(c)) &&
	    (t.scopes || []).every((s) => scopeCovers(s.org_id, 0));
}

function scopeText(t)
{
	if (t.role === 'MRAO')
		return 'Everything';
	return (t.scopes || []).map((s) => orgs.refLabel(s.org_id,
	    s.dept_id)).join(', ') || '\u2014';
}

/*
 * A scope picker whose choices follow the role: organizations for an
 * RAO, departments for a DRAO, nothing for an MRAO.  Works like a field
 * (wrap, input, set, clear) plus value().
 */
function scopePicker(initial)
{
	const errId = newId('scope-err');
	const error = h('p', { class: 'err', id: errId, hidden: true });
	const box = h('div', { class: 'checks' });
	const fs = h('fieldset', { class: 'group', 'aria-describedby': errId },
	    h('legend', { text: 'Scope' }), box, error);
	let boxes = [];
	const chosen = new Set((initial || []).map((s) =>
	    `${s.org_id}:${s.dept_id || 0}`));
	const p = {
		wrap: fs, input: null,
		render(role) {
			replace(box);
			boxes = [];
			if (role === 'MRAO') {
				box.append(h('p', { class: 'help', text: 'An ' +
				    'MRAO manages everything: no scope.' }));
				p.input = null;
				return;
			}
			for (const o of orgs.list) {
				if (role === 'RAO') {
					if (!isMrao())
						continue;
					const id = newId('sc');
					const cb = h('input', { type: 'checkbox',
					    id });
					cb.checked = chosen.has(`${o.id}:0`);
					boxes.push([cb, o.id, 0]);
					box.append(h('div', { class: 'row' }, cb,
					    h('label', { for: id, text: o.name })));
					continue;
				}
				const depts = orgs.deptsOf(o.id);
				if (depts.length === 0)
					continue;
				box.append(h('p', { class: 'subhead',
				    text: o.name }));
				for (const dp of depts) {
					const id = newId('sc');
					const cb = h('input', { type: 'checkbox',
					    id });
					cb.checked = chosen.has(`${o.id}:${dp.id}`);
					boxes.push([cb, o.id, dp.id]);
					box.append(h('div', { class: 'row indent' },
					    cb, h('label', { for: id,
					    text: dp.name })));
				}
			}
			if (boxes.length === 0)
				box.append(h('p', { class: 'help', text: role ===
				    'RAO' ? 'No organizations yet.' :
				    'No departments yet.' }));
			p.input = boxes.length ? boxes[0][0] : null;
		},
		value() {
			return boxes.filter(([cb]) => cb.checked).map(([, o, dd]) =>
			    ({ org_id: o, dept_id: dd }));
		},
		set(m) {
			error.textContent = m;
			error.hidden = false;
		},
		clear() {
			error.textContent = '';
			error.hidden = true;
		},
	};
	return p;
}

function certTypePicker(initial)
{
	const error = h('p', { class: 'err', hidden: true });
	const mk = (v, text) => {
		const id = newId('ct');
		const cb = h('input', { type: 'checkbox', id, value: v });
		cb.checked = (initial || []).includes(v);
		return [cb, h('div', { class: 'row' }, cb, h('label', { for: id,
		    text }))];
	};
	const [c, crow] = mk('client', 'Client certificates');
	const [dv, drow] = mk('device', 'Device certificates');
	return {
		wrap: h('fieldset', { class: 'group' },
		    h('legend', { text: 'Certificate types' }), crow, drow,
		    error),
		input: c,
		value: () => [c, dv].filter((x) => x.checked).map((x) =>
		    x.value),
		disable(on) {
			c.disabled = dv.disabled = on;
		},
		set(m) {
			error.textContent = m;
			error.hidden = false;
		},
		clear() {
			error.hidden = true;
		},
	};
}

async function editAdmin(main, t)
{
	const create = !t;
	const a = t || { role: isMrao() ? 'RAO' : 'DRAO', cert_types:
	    session.me.cert_types.slice(), scopes: [] };
	const roles = isMrao() ? ROLES : ROLES.filter(([r]) => r === 'DRAO');
	const F = {
		name: field({ label: 'Name', name: 'name', required: true,
		    value: a.name || '', maxlength: 127,
		    autocomplete: 'off' }),
		role: field({ label: 'Role', name: 'role', type: 'select',
		    options: roles, value: a.role }),
		cert_types: certTypePicker(a.cert_types),
		scopes: scopePicker(a.scopes),
	};
	if (create)
		F.password = field({ label: 'Password', name: 'password',
		    type: 'password', autocomplete: 'new-password',
		    help: 'At least 12 characters. Leave empty to have one ' +
		    'generated (shown once).' });
	else
		F.disabled = field({ label: 'Disabled (cannot log in; its ' +
		    'tokens stop working)', name: 'disabled',
		    type: 'checkbox', value: a.disabled });
	const onRole = () => {
		F.scopes.render(F.role.input.value);
		F.cert_types.disable(F.role.input.value === 'MRAO');
	};
	F.role.input.addEventListener('change', onRole);
	onRole();
	const r = await formDialog({
		title: create ? 'Add administrator' : `Edit administrator ` +
		    `${a.name}`,
		id: create ? 'add-admin' : 'edit-admin',
		wide: true,
		fields: F,
		submit: create ? 'Add administrator' : 'Save',
		run: (G) => {
			const role = G.role.input.value;
			const body = {
				name: G.name.input.value,
				role,
				scopes: role === 'MRAO' ? [] : G.scopes.value(),
			};
			if (role !== 'MRAO')
				body.cert_types = G.cert_types.value();
			if (create) {
				if (G.password.input.value !== '')
					body.password = G.password.input.value;
				return api('POST', '/api/v1/admins', body);
			}
			body.disabled = G.disabled.input.checked;
			return api('PATCH', `/api/v1/admins/${a.id}`, body);
		},
		after: (res, d) => {
			toast(create ? `Administrator "${res.name}" added` :
			    `Administrator "${res.name}" saved`);
			if (create && res.password)
				showSecretIn(d, `Password of ${res.name}`,
				    'Initial password', res.password,
				    'Shown only once. Give it to the ' +
				    'administrator, who should change it.');
			else
				d.close();
		},
	});
	if (r)
		render(main);
}

function setPassword(t)
{
	return formDialog({
		title: `Set the password of ${t.name}`,
		id: 'set-password',
		fields: {
			password: field({ label: 'New password',
			    name: 'password', type: 'password',
			    required: true, autocomplete: 'new-password',
			    help: '12 to 256 characters. Other sessions of ' +
			    'this administrator end.' }),
		},
		submit: 'Set password',
		run: async (F) => {
			await api('POST', `/api/v1/admins/${t.id}/password`,
			    { password: F.password.input.value });
			toast('Password changed');
			return true;
		},
	});
}

function tokensDialog(t)
{
	const d = openDialog({ title: `API tokens of ${t.name}`,
	    id: 'api-tokens', wide: true });
	const err = errorBox();
	const tbody = h('tbody', {});
	const name = field({ label: 'Token name', name: 'name',
	    required: true, help: 'What the token is for, e.g. "MDM sync".' });
	const exp = field({ label: 'Expires (UTC date; empty: never)',
	    name: 'expires_at', type: 'date' });
	const add = h('button', { type: 'submit', class: 'primary',
	    text: 'Create token' });
	const form = h('form', { novalidate: true, class: 'inline-form' },
	    name.wrap, exp.wrap, h('div', { class: 'actions' }, add));
	const close = h('button', { type: 'button', text: 'Close' });
	close.addEventListener('click', () => d.close());
	d.footer.append(close);
	const load = async () => {
		replace(tbody);
		let items;
		try {
			items = await list(`/api/v1/admins/${t.id}/tokens`);
		} catch (e) {
			err.set(e.message);
			return;
		}
		for (const k of items) {
			const rev = h('button', { type: 'button', class: 'small ' +
			    'danger', text: 'Revoke', 'aria-label': `Revoke ` +
			    `token ${k.name}` });
			rev.disabled = Boolean(k.revoked_at);
			rev.addEventListener('click', async () => {
				try {
					await api('DELETE', `/api/v1/admins/` +
					    `${t.id}/tokens/${k.id}`);
					toast(`Token "${k.name}" revoked`);
				} catch (e) {
					err.set(e.message);
				}
				load();
			});
			tbody.append(h('tr', {},
			    h('td', { 'data-label': 'Name', text: k.name }),
			    h('td', { 'data-label': 'Created',
			    text: fmtDate(k.created_at) }),
			    h('td', { 'data-label': 'Expires',
			    text: k.expires_at ? fmtDate(k.expires_at) :
			    'never' }),
			    h('td', { 'data-label': 'Last used',
			    text: fmtTime(k.last_used_at) || 'never' }),
			    h('td', { 'data-label': 'Status', text: k.revoked_at ?
			    `revoked ${fmtDate(k.revoked_at)}` : 'live' }),
			    h('td', {}, rev)));
		}
		if (items.length === 0)
			tbody.append(h('tr', {}, h('td', { colspan: '6',
			    class: 'empty', text: 'No tokens.' })));
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.clear();
		name.clear();
		exp.clear();
		const body = { name: name.input.value };
		if (exp.input.value)
			body.expires_at = Math.floor(Date.parse(
			    `${exp.input.value}T23:59:59Z`) / 1000);
		let r;
		try {
			r = await busy(add, () => api('POST',
			    `/api/v1/admins/${t.id}/tokens`, body),
			    'Creating\u2026');
		} catch (e) {
			if (e.field === 'name')
				name.set(e.message);
			else if (e.field === 'expires_at')
				exp.set(e.message);
			else
				err.set(e.message);
			return;
		}
		name.input.value = '';
		load();
		const sd = openDialog({ title: 'New API token', id: 'new-token' });
		showSecretIn(sd, `Token "${r.name}"`, 'Token', r.token,
		    'Shown only once: scepd keeps only its hash. Use it as ' +
		    '"Authorization: Bearer <token>".');
	});
	d.body.append(err.el, form, h('div', { class: 'tablewrap' },
	    h('table', { class: 'list' }, h('caption', { class: 'sr-only',
	    text: 'Tokens' }), h('thead', {}, h('tr', {}, ...['Name',
	    'Created', 'Expires', 'Last used', 'Status', ''].map((x) =>
	    h('th', { scope: 'col', text: x })))), tbody)));
	load();
	name.input.focus();
}

export async function render(main)
{
	await orgs.load();
	const me = session.me;
	const items = await list('/api/v1/admins');
	items.sort((a, b) => a.name.localeCompare(b.name));
	const add = h('button', { type: 'button', class: 'primary',
	    text: 'Add administrator' });
	add.hidden = !(me.role === 'MRAO' || me.role === 'RAO');
	add.addEventListener('click', () => editAdmin(main, null));
	const rows = items.map((t) => {
		const cell = h('td', { class: 'actions' });
		const btn = (text, cls) => h('button', { type: 'button',
		    class: `small ${cls || ''}`, text, 'aria-label': `${text} ` +
		    `${t.name}` });
		const self = t.id === me.id;
		if (canManageAdmin(t)) {
			const e = btn('Edit');
			e.addEventListener('click', () => editAdmin(main, t));
			cell.append(e);
		}
		if (self || canManageAdmin(t)) {
			const p = btn('Password');
			p.addEventListener('click', () => setPassword(t));
			const k = btn('Tokens');
			k.addEventListener('click', () => tokensDialog(t));
			cell.append(p, k);
		}
		if (!self && canManageAdmin(t)) {
			const del = btn('Delete', 'danger');
			del.addEventListener('click', async () => {
				if (!await confirmDialog({ title: 'Delete ' +
				    'administrator', id: 'delete-admin',
				    danger: true, confirm: 'Delete',
				    message: [`Delete "${t.name}"? Its ` +
				    'sessions and API tokens end at once.'] }))
					return;
				try {
					await api('DELETE', `/api/v1/admins/${t.id}`);
					toast(`Administrator "${t.name}" deleted`);
				} catch (e) {
					toast(e.message, 'error');
				}
				render(main);
			});
			cell.append(del);
		}
		return h('tr', { dataset: { admin: t.name } },
		    h('td', { 'data-label': 'Name' }, t.name, self ? h('span',
		    { class: 'badge', text: 'you' }) : null),
		    h('td', { 'data-label': 'Role', text: t.role }),
		    h('td', { 'data-label': 'Certificate types',
		    text: (t.cert_types || []).join(', ') }),
		    h('td', { 'data-label': 'Scope', text: scopeText(t) }),
		    h('td', { 'data-label': 'Status', text: t.disabled ?
		    'disabled' : 'active' }),
		    cell);
	});
	replace(main, h('div', { class: 'pagehead' },
	    h('h1', { text: 'Administrators' })),
	    h('div', { class: 'toolbar' }, add),
	    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
	    h('caption', { class: 'sr-only', text: 'Administrators' }),
	    h('thead', {}, h('tr', {}, ...['Name', 'Role', 'Certificate types',
	    'Scope', 'Status', 'Actions'].map((x) => h('th', { scope: 'col',
	    text: x })))), h('tbody', {}, rows))));
}
