/*
 * accounts.js -- the accounts dialog of one endpoint (issue 4): list,
 * add, edit, enable/disable, regenerate the challenge (shown once, with a
 * copy button) and mint one-time challenges.  Secrets come back from the
 * API exactly once; this dialog shows them once and keeps no copy.
 *
 * Deleting an account is not offered: the REST API has no route for it
 * (disable the account instead; that stops its challenge at once).
 */
import { api, list } from './api.js';
import { h, replace, field, openDialog, errorBox, busy, toast, fmtDate,
    fmtTime, copyButton, setOptions, confirmDialog, newId, clearErrors,
    showError } from './dom.js';
import { orgs, isMrao, session } from './model.js';

/* Unix seconds at the end of day "YYYY-MM-DD" (UTC); 0 for "". */
function dayEnd(v)
{
	if (!v)
		return 0;
	const t = Date.parse(`${v}T23:59:59Z`);
	return Number.isNaN(t) ? NaN : Math.floor(t / 1000);
}

/* The organizations an account of this endpoint may belong to. */
function orgChoices(ep)
{
	if (ep.delegation === 'customized' && (ep.targets || []).length > 0) {
		const ids = [...new Set(ep.targets.map((t) => t.org_id))];
		return orgs.list.filter((o) => ids.includes(o.id));
	}
	return orgs.list;
}

function deptChoices(ep, orgId)
{
	const all = orgs.deptsOf(orgId);
	if (ep.delegation !== 'customized')
		return all;
	const tg = (ep.targets || []).filter((t) => t.org_id === orgId);
	if (tg.some((t) => !t.dept_id))
		return all;
	return all.filter((dp) => tg.some((t) => t.dept_id === dp.id));
}

export function openAccountsDialog(ep)
{
	const d = openDialog({ title: `Accounts of ${ep.name}`,
	    id: 'accounts', wide: true });
	const view = h('div', { class: 'view' });
	d.body.append(view);
	const done = h('button', { type: 'button', text: 'Close' });
	done.addEventListener('click', () => d.close());
	d.footer.append(done);

	/* ---- the secret, shown once ---- */
	const showSecret = (title, secret, note, back) => {
		const id = newId('secret');
		const inp = h('input', { id, type: 'text', readonly: true,
		    class: 'secret', value: secret, spellcheck: 'false',
		    'data-secret': 'challenge' });
		const ok = h('button', { type: 'button', class: 'primary',
		    text: 'I have copied it' });
		ok.addEventListener('click', () => {
			inp.value = '';
			back();
		});
		replace(view, h('h3', { text: title }),
		    h('p', { class: 'notice warn', text: 'This challenge is ' +
		    'shown only once: scepd keeps only a keyed hash of it. ' +
		    'Copy it now and give it to the device or MDM that ' +
		    'enrolls.' }),
		    h('div', { class: 'field' }, h('label', { for: id,
		    text: 'Challenge password' }),
		    h('div', { class: 'secretrow' }, inp,
		    copyButton(() => inp.value, 'Copy the challenge'))),
		    note ? h('p', { class: 'help', text: note }) : null,
		    h('div', { class: 'actions' }, ok));
		inp.focus();
		inp.select();
	};

	/* ---- add / edit ---- */
	const showForm = (acct) => {
		const create = !acct;
		const a = acct || { enabled: true };
		const general = errorBox();
		const F = {};
		F.name = field({ label: 'Name', name: 'name', required: true,
		    value: a.name || '', maxlength: 127,
		    help: 'For example the MDM or the group of devices that ' +
		    'uses this challenge.' });
		const choices = orgChoices(ep);
		const needOrg = !isMrao();
		F.org_id = field({ label: 'Organization', name: 'org_id',
		    type: 'select', required: needOrg,
		    options: [['', needOrg ? 'Choose an organization' :
		    'None'], ...choices.map((o) => [o.id, o.name])],
		    value: a.org_id || (choices.length === 1 && needOrg ?
		    choices[0].id : ''),
		    help: 'Certificates issued through this account record ' +
		    'its organization and department.' });
		F.dept_id = field({ label: 'Department', name: 'dept_id',
		    type: 'select', required: session.me.role === 'DRAO',
		    options: [['', 'None']] });
		const fillDepts = () => {
			const oid = Number(F.org_id.input.value);
			setOptions(F.dept_id.input, [['', 'None'],
			    ...deptChoices(ep, oid).map((x) => [x.id, x.name])],
			    a.dept_id || '');
		};
		F.org_id.input.addEventListener('change', fillDepts);
		fillDepts();
		F.enabled = field({ label: 'Enabled (its challenges work)',
		    name: 'enabled', type: 'checkbox', value: a.enabled });
		F.expires_at = field({ label: 'Expires (end of day, UTC)',
		    name: 'expires_at', type: 'date',
		    value: a.expires_at ? fmtDate(a.expires_at) : '',
		    help: 'Empty: never.' });
		F.max_enrollments = field({ label: 'Maximum enrollments',
		    name: 'max_enrollments', type: 'number', min: 0,
		    value: a.max_enrollments || 0, help: '0: unlimited.' +
		    (create ? '' : ` Used so far: ${a.enrollments}.`) });
		F.cn_pattern = field({ label: 'Subject CN must match',
		    name: 'cn_pattern', value: a.cn_pattern || '',
		    placeholder: '*.devices.example.com',
		    help: 'A shell pattern (* and ?); empty: any.' });
		F.san_pattern = field({ label: 'Every SAN must match',
		    name: 'san_pattern', value: a.san_pattern || '',
		    help: 'A shell pattern; empty: any.' });
		const save = h('button', { type: 'submit', class: 'primary',
		    text: create ? 'Add account' : 'Save account' });
		const cancel = h('button', { type: 'button', text: 'Cancel' });
		cancel.addEventListener('click', () => showList());
		const form = h('form', { novalidate: true },
		    h('h3', { text: create ? 'Add account' :
		    `Edit account ${a.name}` }),
		    general.el, F.name.wrap, F.org_id.wrap, F.dept_id.wrap,
		    F.enabled.wrap, F.expires_at.wrap, F.max_enrollments.wrap,
		    F.cn_pattern.wrap, F.san_pattern.wrap,
		    h('div', { class: 'actions' }, cancel, save));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clearErrors(F, general);
			const exp = dayEnd(F.expires_at.input.value);
			if (Number.isNaN(exp)) {
				F.expires_at.set('Enter a valid date.');
				F.expires_at.input.focus();
				return;
			}
			const body = {
				name: F.name.input.value,
				org_id: Number(F.org_id.input.value) || 0,
				dept_id: Number(F.dept_id.input.value) || 0,
				enabled: F.enabled.input.checked,
				expires_at: exp,
				max_enrollments: Number(
				    F.max_enrollments.input.value) || 0,
				cn_pattern: F.cn_pattern.input.value,
				san_pattern: F.san_pattern.input.value,
			};
			let r;
			try {
				r = await busy(save, () => create ?
				    api('POST', `/api/v1/endpoints/${ep.id}/` +
				    'accounts', body) :
				    api('PATCH', `/api/v1/accounts/${a.id}`,
				    body), 'Saving\u2026');
			} catch (e) {
				showError(F, general, e, true);
				return;
			}
			toast(create ? `Account "${r.name}" added` :
			    `Account "${r.name}" saved`);
			if (create && r.challenge)
				showSecret(`Challenge of the new account ` +
				    `"${r.name}"`, r.challenge, null, showList);
			else
				showList();
		});
		replace(view, form);
		F.name.input.focus();
	};

	/* ---- one-time challenges ---- */
	const showOtc = async (a) => {
		const ttl = field({ label: 'Valid for', name: 'ttl',
		    type: 'select', value: 3600, options: [[600, '10 minutes'],
		    [3600, '1 hour'], [86400, '1 day'], [604800, '7 days']] });
		const mint = h('button', { type: 'submit', class: 'primary',
		    text: 'Mint one-time challenge' });
		const back = h('button', { type: 'button', text: 'Back to ' +
		    'accounts' });
		back.addEventListener('click', () => showList());
		const err = errorBox();
		const tbody = h('tbody', {});
		const form = h('form', { novalidate: true },
		    h('h3', { text: `One-time challenges of ${a.name}` }),
		    h('p', { class: 'help', text: 'A one-time challenge ' +
		    'works for one enrollment, until it expires. For MDMs ' +
		    'that fetch a fresh challenge per device.' }),
		    err.el, ttl.wrap, h('div', { class: 'actions' }, back, mint),
		    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
		    h('caption', { text: 'Issued one-time challenges' }),
		    h('thead', {}, h('tr', {}, h('th', { scope: 'col',
		    text: 'Created' }), h('th', { scope: 'col',
		    text: 'Expires' }), h('th', { scope: 'col',
		    text: 'Status' }))), tbody)));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			err.clear();
			let r;
			try {
				r = await busy(mint, () => api('POST',
				    `/api/v1/accounts/${a.id}/challenges`,
				    { ttl: Number(ttl.input.value) }),
				    'Minting\u2026');
			} catch (e) {
				if (e.field === 'ttl')
					ttl.set(e.message);
				else
					err.set(e.message);
				return;
			}
			showSecret(`One-time challenge for "${a.name}"`,
			    r.challenge, `Valid once, until ` +
			    `${fmtTime(r.expires_at)}.`, () => showOtc(a));
		});
		replace(view, form);
		try {
			const items = await list(`/api/v1/accounts/${a.id}/` +
			    'challenges');
			for (const o of items)
				tbody.append(h('tr', {},
				    h('td', { text: fmtTime(o.created_at) }),
				    h('td', { text: fmtTime(o.expires_at) }),
				    h('td', { text: o.status })));
			if (items.length === 0)
				tbody.append(h('tr', {}, h('td', { colspan: '3',
				    class: 'empty', text: 'None yet.' })));
		} catch (e) {
			err.set(e.message);
		}
	};

	/* ---- list ---- */
	const regenerate = async (a) => {
		const ok = await confirmDialog({ title: 'New challenge',
		    id: 'new-challenge', confirm: 'Make a new challenge',
		    message: [`Replace the challenge of "${a.name}"?`,
		    'The current challenge stops working at once; devices ' +
		    'that still use it will be refused.'] });
		if (!ok)
			return;
		try {
			const r = await api('POST',
			    `/api/v1/accounts/${a.id}/challenge`, {});
			showSecret(`New challenge of "${a.name}"`, r.challenge,
			    null, showList);
		} catch (e) {
			toast(e.message, 'error');
		}
	};
	const setEnabled = async (a, on, btn) => {
		try {
			await busy(btn, () => api('PATCH',
			    `/api/v1/accounts/${a.id}`, { enabled: on }),
			    on ? 'Enabling\u2026' : 'Disabling\u2026');
			toast(`Account "${a.name}" ${on ? 'enabled' :
			    'disabled'}`);
		} catch (e) {
			toast(e.message, 'error');
		}
		showList();
	};

	const showList = async () => {
		const add = h('button', { type: 'button', class: 'primary',
		    text: 'Add account' });
		add.addEventListener('click', () => showForm(null));
		const err = errorBox();
		const tbody = h('tbody', {});
		replace(view, h('div', { class: 'toolbar' }, add), err.el,
		    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
		    h('caption', { class: 'sr-only', text: `Accounts of ` +
		    `${ep.name}` }),
		    h('thead', {}, h('tr', {},
		    ...['Name', 'Organization', 'Status', 'Enrollments',
		    'Expires', 'Actions'].map((t) => h('th', { scope: 'col',
		    text: t })))), tbody)));
		let items;
		try {
			items = await list(`/api/v1/endpoints/${ep.id}/accounts`);
		} catch (e) {
			err.set(e.message);
			return;
		}
		if (items.length === 0)
			tbody.append(h('tr', {}, h('td', { colspan: '6',
			    class: 'empty', text: 'No accounts yet. Add one ' +
			    'to get a challenge for enrollment.' })));
		for (const a of items) {
			const b = (t, lab) => h('button', { type: 'button',
			    class: 'small', text: t, 'aria-label': `${lab} ` +
			    `${a.name}` });
			const edit = b('Edit', 'Edit');
			const tog = b(a.enabled ? 'Disable' : 'Enable',
			    a.enabled ? 'Disable' : 'Enable');
			const chal = b('New challenge', 'New challenge for');
			const otc = b('One-time challenges',
			    'One-time challenges of');
			edit.addEventListener('click', () => showForm(a));
			tog.addEventListener('click', () => setEnabled(a,
			    !a.enabled, tog));
			chal.addEventListener('click', () => regenerate(a));
			otc.addEventListener('click', () => showOtc(a));
			const expired = a.expires_at && a.expires_at * 1000 <
			    Date.now();
			tbody.append(h('tr', { dataset: { account: a.name } },
			    h('td', { 'data-label': 'Name', text: a.name }),
			    h('td', { 'data-label': 'Organization',
			    text: orgs.refLabel(a.org_id, a.dept_id) || '\u2014' }),
			    h('td', { 'data-label': 'Status', text: !a.enabled ?
			    'disabled' : expired ? 'expired' : 'enabled' }),
			    h('td', { 'data-label': 'Enrollments',
			    text: a.max_enrollments ? `${a.enrollments} / ` +
			    `${a.max_enrollments}` : String(a.enrollments) }),
			    h('td', { 'data-label': 'Expires',
			    text: a.expires_at ? fmtDate(a.expires_at) :
			    'never' }),
			    h('td', { 'data-label': 'Actions', class: 'actions' },
			    edit, tog, chal, otc)));
		}
		add.focus();
	};
	showList();
	return d;
}
