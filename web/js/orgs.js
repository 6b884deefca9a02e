/*
 * orgs.js -- Organizations & Departments: what delegation, accounts and
 * administrator scopes refer to.  The master administrator (MRAO) creates
 * organizations; an RAO manages the departments of its organizations; a
 * DRAO only sees its departments.
 */
import { api } from './api.js';
import { h, replace, field, formDialog, confirmDialog, toast, fmtDate }
    from './dom.js';
import { orgs, isMrao, session, scopeCovers } from './model.js';

function canManageDepts(orgId)
{
	return isMrao() || (session.me.role === 'RAO' && scopeCovers(orgId, 0));
}

function nameDialog(title, id, label, value, run)
{
	return formDialog({ title, id,
	    fields: { name: field({ label, name: 'name', required: true,
	    value: value || '', maxlength: 127 }) },
	    run: (F) => run(F.name.input.value) });
}

export async function render(main)
{
	await orgs.load();
	const add = h('button', { type: 'button', class: 'primary',
	    text: 'Add organization' });
	add.hidden = !isMrao();
	add.addEventListener('click', async () => {
		const r = await nameDialog('Add organization', 'add-org',
		    'Organization name', '', (name) => api('POST',
		    '/api/v1/organizations', { name }));
		if (r) {
			toast(`Organization "${r.name}" added`);
			render(main);
		}
	});
	const sections = [];
	for (const o of orgs.list) {
		const depts = orgs.deptsOf(o.id);
		const btn = (text, lab) => h('button', { type: 'button',
		    class: 'small', text, 'aria-label': `${text} ${lab}` });
		const tools = h('div', { class: 'toolbar' });
		if (isMrao()) {
			const ren = btn('Rename', o.name);
			ren.addEventListener('click', async () => {
				const r = await nameDialog('Rename organization',
				    'rename-org', 'Organization name', o.name,
				    (name) => api('PATCH',
				    `/api/v1/organizations/${o.id}`, { name }));
				if (r)
					render(main);
			});
			const del = btn('Delete', o.name);
			del.classList.add('danger');
			del.addEventListener('click', async () => {
				if (!await confirmDialog({ title: 'Delete ' +
				    'organization', id: 'delete-org',
				    danger: true, confirm: 'Delete',
				    message: [`Delete "${o.name}"?`, 'This is ' +
				    'refused while departments, accounts, ' +
				    'administrators or delegations refer to ' +
				    'it.'] }))
					return;
				try {
					await api('DELETE',
					    `/api/v1/organizations/${o.id}`);
					toast(`Organization "${o.name}" deleted`);
				} catch (e) {
					toast(e.message, 'error');
				}
				render(main);
			});
			tools.append(ren, del);
		}
		if (canManageDepts(o.id)) {
			const addD = btn('Add department', `to ${o.name}`);
			addD.addEventListener('click', async () => {
				const r = await nameDialog(`Add department to ` +
				    `${o.name}`, 'add-dept', 'Department name',
				    '', (name) => api('POST',
				    '/api/v1/departments', { name,
				    org_id: o.id }));
				if (r) {
					toast(`Department "${r.name}" added`);
					render(main);
				}
			});
			tools.append(addD);
		}
		const rows = depts.map((dp) => {
			const cell = h('td', { class: 'actions' });
			if (canManageDepts(o.id)) {
				const ren = btn('Rename', dp.name);
				ren.addEventListener('click', async () => {
					const r = await nameDialog('Rename ' +
					    'department', 'rename-dept',
					    'Department name', dp.name,
					    (name) => api('PATCH',
					    `/api/v1/departments/${dp.id}`,
					    { name }));
					if (r)
						render(main);
				});
				const del = btn('Delete', dp.name);
				del.classList.add('danger');
				del.addEventListener('click', async () => {
					if (!await confirmDialog({ title: 'Delete ' +
					    'department', id: 'delete-dept',
					    danger: true, confirm: 'Delete',
					    message: [`Delete "${dp.name}" of ` +
					    `${o.name}?`] }))
						return;
					try {
						await api('DELETE',
						    `/api/v1/departments/${dp.id}`);
						toast(`Department "${dp.name}" deleted`);
					} catch (e) {
						toast(e.message, 'error');
					}
					render(main);
				});
				cell.append(ren, del);
			}
			return h('tr', {}, h('td', { 'data-label': 'Department',
			    text: dp.name }), h('td', { 'data-label': 'Created',
			    text: fmtDate(dp.created_at) }), cell);
		});
		sections.push(h('section', { class: 'card', 'aria-label': o.name },
		    h('h2', { text: o.name }),
		    h('p', { class: 'help', text: `Created ` +
		    `${fmtDate(o.created_at)}` }), tools,
		    depts.length ? h('div', { class: 'tablewrap' },
		    h('table', { class: 'list' }, h('caption', { class: 'sr-only',
		    text: `Departments of ${o.name}` }), h('thead', {},
		    h('tr', {}, h('th', { scope: 'col', text: 'Department' }),
		    h('th', { scope: 'col', text: 'Created' }),
		    h('th', { scope: 'col', text: 'Actions' }))),
		    h('tbody', {}, rows))) :
		    h('p', { class: 'empty', text: 'No departments.' })));
	}
	replace(main, h('div', { class: 'pagehead' },
	    h('h1', { text: 'Organizations & Departments' })),
	    h('div', { class: 'toolbar' }, add),
	    orgs.list.length ? sections : h('p', { class: 'empty',
	    text: isMrao() ? 'No organizations yet. Add one to delegate ' +
	    'endpoints and to give accounts an organization.' :
	    'No organizations in your scope.' }));
}
