/*
 * requests.js -- Pending requests of endpoints with manual approval
 * (spec 14): the client polls (CertPoll) until an administrator approves
 * (the certificate is issued) or rejects (the client gets FAILURE).
 */
import { api, list } from './api.js';
import { h, replace, field, formDialog, confirmDialog, toast, fmtTime,
    errorBox, busy } from './dom.js';

export async function render(main)
{
	const [items, eps, accts] = await Promise.all([
		list('/api/v1/requests'), list('/api/v1/endpoints'),
		list('/api/v1/accounts')]);
	const acctName = (id) => {
		const a = accts.find((x) => x.id === id);
		return a ? a.name : id ? `account ${id}` : '';
	};
	const epName = (id) => {
		const e = eps.find((x) => x.id === id);
		return e ? e.name : `endpoint ${id}`;
	};
	const err = errorBox();
	const refresh = h('button', { type: 'button', text: 'Refresh' });
	refresh.addEventListener('click', () => render(main));
	const rows = items.map((r) => {
		const ok = h('button', { type: 'button', class: 'small primary',
		    text: 'Approve', 'aria-label': `Approve request ${r.id}` });
		const no = h('button', { type: 'button', class: 'small danger',
		    text: 'Reject', 'aria-label': `Reject request ${r.id}` });
		ok.addEventListener('click', async () => {
			if (!await confirmDialog({ title: 'Approve request',
			    id: 'approve-request', confirm: 'Approve and issue',
			    message: [`Issue a certificate for ` +
			    `"${r.subject || r.transid}"?`, 'The client gets ' +
			    'it the next time it polls.'] }))
				return;
			try {
				const res = await busy(ok, () => api('POST',
				    `/api/v1/requests/${r.id}/approve`, {}),
				    'Issuing\u2026');
				toast(`Approved: certificate ${res.serial} issued`);
			} catch (e) {
				err.set(e.message);
				return;
			}
			render(main);
		});
		no.addEventListener('click', async () => {
			const res = await formDialog({ title: 'Reject request',
			    id: 'reject-request', danger: true,
			    intro: `Reject "${r.subject || r.transid}"? The ` +
			    'client gets FAILURE the next time it polls.',
			    fields: { reason: field({ label: 'Reason',
			    name: 'reason', help: 'Kept in the audit trail.' }) },
			    submit: 'Reject',
			    run: (F) => api('POST', `/api/v1/requests/${r.id}/` +
			    'reject', F.reason.input.value ? { reason:
			    F.reason.input.value } : {}) });
			if (res) {
				toast('Request rejected');
				render(main);
			}
		});
		return h('tr', { dataset: { request: String(r.id) } },
		    h('td', { 'data-label': 'Received', text: fmtTime(
		    r.created_at) }),
		    h('td', { 'data-label': 'Subject', text: r.subject || '' }),
		    h('td', { 'data-label': 'Endpoint',
		    text: epName(r.endpoint_id) }),
		    h('td', { 'data-label': 'Account',
		    text: acctName(r.account_id) }),
		    h('td', { 'data-label': 'Transaction ID' },
		    h('code', { text: r.transid })),
		    h('td', { class: 'actions' }, ok, no));
	});
	replace(main, h('div', { class: 'pagehead' },
	    h('h1', { text: 'Pending requests' })),
	    h('div', { class: 'toolbar' }, refresh), err.el,
	    items.length === 0 ? h('p', { class: 'empty', text: 'No ' +
	    'requests are waiting for approval.' }) :
	    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
	    h('caption', { class: 'sr-only', text: 'Pending requests' }),
	    h('thead', {}, h('tr', {}, ...['Received', 'Subject', 'Endpoint',
	    'Account', 'Transaction ID', 'Actions'].map((x) => h('th',
	    { scope: 'col', text: x })))), h('tbody', {}, rows))));
}
