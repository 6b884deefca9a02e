/*
 * delegate.js -- "Delegate Enrollment Endpoint" (issue 4): General (every
 * organization and department) or Customized, with a tree of
 * organizations and their departments.  Checking an organization
 * delegates the whole organization (its departments are then implied);
 * otherwise single departments can be chosen.  PUT
 * /api/v1/endpoints/{id}/delegation replaces the whole delegation.
 */
import { api } from './api.js';
import { h, openDialog, radios, errorBox, busy, toast, newId } from
    './dom.js';
import { orgs, isMrao, scopeCovers } from './model.js';

export function openDelegateDialog(ep, onDone)
{
	const d = openDialog({ title: 'Delegate Enrollment Endpoint',
	    id: 'delegate-endpoint', wide: true });
	const general = errorBox();
	const mode = radios({ label: 'Delegation mode', name: 'delegation',
	    value: ep.delegation,
	    choices: [
		['general', 'General', 'every organization and department ' +
		    'may use this endpoint', !isMrao()],
		['customized', 'Customized', 'only the organizations and ' +
		    'departments chosen below'],
	    ] });
	const current = new Set((ep.targets || []).map((t) =>
	    `${t.org_id}:${t.dept_id || 0}`));
	const boxes = [];	/* [checkbox, org_id, dept_id] */
	const tree = h('ul', { class: 'tree',
	    'aria-label': 'Organizations and departments' });
	const treeErr = h('p', { class: 'err', role: 'alert', hidden: true });

	for (const o of orgs.list) {
		const oid = newId('org');
		const ocb = h('input', { type: 'checkbox', id: oid });
		ocb.checked = current.has(`${o.id}:0`);
		ocb.disabled = !scopeCovers(o.id, 0);
		boxes.push([ocb, o.id, 0]);
		const depts = orgs.deptsOf(o.id);
		const sub = h('ul', { class: 'tree-sub',
		    'aria-label': `Departments of ${o.name}` });
		const deptBoxes = [];
		for (const dp of depts) {
			const did = newId('dept');
			const dcb = h('input', { type: 'checkbox', id: did });
			dcb.checked = current.has(`${o.id}:${dp.id}`);
			dcb.disabled = !scopeCovers(o.id, dp.id);
			dcb.dataset.allowed = dcb.disabled ? '0' : '1';
			boxes.push([dcb, o.id, dp.id]);
			deptBoxes.push(dcb);
			sub.append(h('li', {}, h('div', { class: 'row' }, dcb,
			    h('label', { for: did, text: dp.name }))));
		}
		/* The whole organization implies its departments. */
		const sync = () => {
			for (const dcb of deptBoxes)
				dcb.disabled = ocb.checked ||
				    dcb.dataset.allowed !== '1';
		};
		ocb.addEventListener('change', sync);
		sync();
		const toggle = h('button', { type: 'button', class: 'icon twisty',
		    'aria-expanded': 'true', 'aria-label': `Departments of ` +
		    `${o.name}`, text: '\u25be' });
		toggle.addEventListener('click', () => {
			const open = toggle.getAttribute('aria-expanded') ===
			    'true';
			toggle.setAttribute('aria-expanded', open ? 'false' :
			    'true');
			toggle.textContent = open ? '\u25b8' : '\u25be';
			sub.hidden = open;
		});
		tree.append(h('li', {}, h('div', { class: 'row' },
		    depts.length ? toggle : h('span', { class: 'twisty-none' }),
		    ocb, h('label', { for: oid }, h('strong', { text: o.name }),
		    h('span', { class: 'help', text: depts.length ?
		    ' (whole organization)' : ' (no departments)' }))),
		    depts.length ? sub : null));
	}
	const treeBox = h('fieldset', { class: 'group treebox' },
	    h('legend', { text: 'Organizations and departments' }),
	    orgs.list.length ? tree : h('p', { class: 'help',
	    text: 'No organizations yet: create them under Organizations & ' +
	    'Departments.' }), treeErr);
	const applyMode = () => {
		const custom = mode.value() === 'customized';
		treeBox.disabled = !custom;
		treeBox.classList.toggle('off', !custom);
	};
	for (const i of mode.inputs)
		i.addEventListener('change', applyMode);
	applyMode();

	const formId = newId('delegform');
	const form = h('form', { novalidate: true, id: formId }, general.el,
	    h('p', {}, 'Endpoint: ', h('strong', { text: ep.name })),
	    mode.wrap, treeBox);
	const cancel = h('button', { type: 'button', text: 'Cancel' });
	const save = h('button', { type: 'submit', class: 'primary',
	    form: formId, text: 'Save delegation' });
	cancel.addEventListener('click', () => d.close());
	d.body.append(form);
	d.footer.append(cancel, save);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		general.clear();
		treeErr.hidden = true;
		const body = { delegation: mode.value() };
		if (body.delegation === 'customized') {
			const chosen = new Set();
			for (const [cb, oid, did] of boxes) {
				if (!cb.checked)
					continue;
				/* A department under a checked organization
				 * is implied: do not send it twice. */
				if (did !== 0 && boxes.some(([c2, o2, d2]) =>
				    o2 === oid && d2 === 0 && c2.checked))
					continue;
				chosen.add(JSON.stringify({ org_id: oid,
				    dept_id: did }));
			}
			body.targets = [...chosen].map((s) => JSON.parse(s));
			if (body.targets.length === 0) {
				treeErr.textContent = 'Choose at least one ' +
				    'organization or department.';
				treeErr.hidden = false;
				return;
			}
		}
		try {
			await busy(save, () => api('PUT',
			    `/api/v1/endpoints/${ep.id}/delegation`, body),
			    'Saving\u2026');
		} catch (e) {
			if (e.field === 'targets') {
				treeErr.textContent = e.message;
				treeErr.hidden = false;
			} else if (e.field === 'delegation') {
				mode.set(e.message);
			} else {
				general.set(e.message);
			}
			return;
		}
		toast(`Delegation of "${ep.name}" saved`);
		d.close();
		if (onDone)
			onDone(ep.id);
	});
	(mode.inputs.find((i) => i.checked) || mode.inputs[0]).focus();
	return d;
}
