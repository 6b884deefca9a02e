/*
 * ra.js -- "SCEP RA Certificates" (issue 4, spec 15): the RA certificates
 * with their details and downloads (PEM, DER, and the PKCS#7 chain a
 * client gets), creating a new one under a CA, and rollover in two steps
 * (stage the successor so GetNextCACert serves it, then switch).  RA and
 * CA management is for the master administrator (MRAO) only; the SCEP
 * page does not offer this dialog to anybody else.
 */
import { api, list } from './api.js';
import { h, replace, field, openDialog, errorBox, busy, toast, fmtTime,
    fmtDate, defList, confirmDialog, setOptions, clearErrors, showError }
    from './dom.js';

const KEY_ALGS = [
	['rsa2048', 'RSA 2048'], ['rsa3072', 'RSA 3072'],
	['rsa4096', 'RSA 4096 (slow to generate)'],
	['ec256', 'EC P-256 (not for clients that need RSA)'],
	['ec384', 'EC P-384 (not for clients that need RSA)'],
];
const USAGES = [
	['sign-encrypt', 'Sign and encrypt (one RA certificate)'],
	['sign', 'Sign only'], ['encrypt', 'Encrypt only'],
];

export function openRaDialog(ep, onDone)
{
	const d = openDialog({ title: 'SCEP RA Certificates',
	    id: 'ra-certificates', wide: true });
	const view = h('div', { class: 'view' });
	const close = h('button', { type: 'button', text: 'Close' });
	close.addEventListener('click', () => d.close());
	d.body.append(view);
	d.footer.append(close);
	let cas = [];

	const caName = (id) => {
		const c = cas.find((x) => x.id === id);
		return c ? c.name || `CA ${id}` : `CA ${id}`;
	};

	/* ---- details ---- */
	const showDetails = (ra, all) => {
		const back = h('button', { type: 'button', text: 'Back to the ' +
		    'list' });
		back.addEventListener('click', () => showList());
		const dl = (fmt, text) => h('a', { class: 'button',
		    href: `/api/v1/ras/${ra.id}/download?format=${fmt}`,
		    download: '', text });
		const actions = h('div', { class: 'actions' }, back);
		const err = errorBox();
		const staged = all.find((x) => x.state === 'next' &&
		    x.ca_id === ra.ca_id);
		if (ra.state === 'active') {
			const days = field({ label: 'Lifetime of the successor ' +
			    '(days)', name: 'days', type: 'number', min: 1,
			    max: 3660, value: 730 });
			const stage = h('button', { type: 'button',
			    text: 'Roll over: stage successor' });
			const sw = h('button', { type: 'button', class: 'primary',
			    text: 'Roll over: switch to the successor' });
			stage.disabled = Boolean(staged);
			sw.disabled = !staged;
			stage.addEventListener('click', async () => {
				err.clear();
				days.clear();
				try {
					await busy(stage, () => api('POST',
					    `/api/v1/ras/${ra.id}/rollover`,
					    { action: 'stage', days:
					    Number(days.input.value) }),
					    'Generating the successor key and ' +
					    'certificate\u2026');
				} catch (e) {
					if (e.field === 'days')
						days.set(e.message);
					else
						err.set(e.message);
					return;
				}
				toast('Successor staged: GetNextCACert now ' +
				    'serves it');
				showList();
			});
			sw.addEventListener('click', async () => {
				const ok = await confirmDialog({
				    title: 'Switch RA certificate',
				    id: 'ra-switch', confirm: 'Switch',
				    message: ['Make the staged successor the ' +
				    'active RA certificate?', 'This RA ' +
				    'certificate is retired: it still decrypts ' +
				    'requests made for it, and every endpoint ' +
				    'that used it moves to the successor.'] });
				if (!ok)
					return;
				try {
					await busy(sw, () => api('POST',
					    `/api/v1/ras/${ra.id}/rollover`,
					    { action: 'switch' }), 'Switching\u2026');
				} catch (e) {
					err.set(e.message);
					return;
				}
				toast('Switched to the new RA certificate');
				if (onDone)
					onDone(null);
				showList();
			});
			actions.append(stage, sw);
			replace(view, h('h3', { text: `RA certificate ${ra.id}` }),
			    err.el, details(ra), h('div', { class: 'downloads' },
			    h('span', { text: 'Download: ' }),
			    dl('pem', 'PEM'), dl('der', 'DER'),
			    dl('p7', 'PKCS#7 chain')),
			    h('fieldset', { class: 'group' },
			    h('legend', { text: 'Rollover' }),
			    h('p', { class: 'help', text: staged ?
			    `Successor RA ${staged.id} is staged.` :
			    'No successor staged.' }), days.wrap), actions);
			return;
		}
		replace(view, h('h3', { text: `RA certificate ${ra.id}` }),
		    err.el, details(ra), h('div', { class: 'downloads' },
		    h('span', { text: 'Download: ' }), dl('pem', 'PEM'),
		    dl('der', 'DER'), dl('p7', 'PKCS#7 chain')), actions);
	};

	const details = (ra) => defList([
		['State', ra.state],
		['Usage', ra.usage],
		['CA', caName(ra.ca_id)],
		['Subject', ra.subject],
		['Issuer', ra.issuer],
		['Serial', ra.cert_serial],
		['Valid from', fmtTime(ra.not_before)],
		['Valid until', fmtTime(ra.not_after)],
		['Key', ra.key_type ? `${ra.key_type} ${ra.key_bits}` : ''],
		['Key usage', (ra.key_usage || []).join(', ')],
		['Extended key usage', (ra.ext_key_usage || []).join(', ')],
		['SHA-256 fingerprint', h('code', { class: 'fp',
		    text: ra.fingerprint_sha256 || '' })],
		['SHA-1 fingerprint', h('code', { class: 'fp',
		    text: ra.fingerprint_sha1 || '' })],
	]);

	/* ---- create ---- */
	const showCreate = () => {
		const F = {};
		const err = errorBox();
		F.ca_id = field({ label: 'Issuing CA', name: 'ca_id',
		    type: 'select', options: cas.map((c) => [c.id, c.name ||
		    `CA ${c.id}`]), required: true });
		F.key_alg = field({ label: 'Key', name: 'key_alg',
		    type: 'select', options: KEY_ALGS, value: 'rsa2048' });
		F.subject = field({ label: 'Subject', name: 'subject',
		    required: true, value: `CN=scepd RA ${new Date()
		    .toISOString().slice(0, 10)}`,
		    help: 'A distinguished name, e.g. CN=Example RA,O=Example.' });
		F.usage = field({ label: 'Usage', name: 'usage',
		    type: 'select', options: USAGES });
		F.days = field({ label: 'Lifetime (days)', name: 'days',
		    type: 'number', min: 1, max: 3660, value: 730 });
		F.state = field({ label: 'State', name: 'state',
		    type: 'select', options: [['active', 'Active now'],
		    ['next', 'Staged (served by GetNextCACert until a ' +
		    'switch)']] });
		const save = h('button', { type: 'submit', class: 'primary',
		    text: 'Create RA certificate' });
		const cancel = h('button', { type: 'button', text: 'Cancel' });
		cancel.addEventListener('click', () => showList());
		const form = h('form', { novalidate: true },
		    h('h3', { text: 'New RA certificate' }), err.el,
		    F.ca_id.wrap, F.key_alg.wrap, F.subject.wrap, F.usage.wrap,
		    F.days.wrap, F.state.wrap,
		    h('div', { class: 'actions' }, cancel, save));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clearErrors(F, err);
			try {
				await busy(save, () => api('POST', '/api/v1/ras', {
					ca_id: Number(F.ca_id.input.value),
					key_alg: F.key_alg.input.value,
					subject: F.subject.input.value,
					usage: F.usage.input.value,
					days: Number(F.days.input.value),
					state: F.state.input.value,
				}), 'Generating the key and certificate\u2026');
			} catch (e) {
				showError(F, err, e, true);
				return;
			}
			toast('RA certificate created');
			showList();
		});
		replace(view, form);
		F.ca_id.input.focus();
	};

	/* ---- list ---- */
	const showList = async () => {
		const err = errorBox();
		const add = h('button', { type: 'button', class: 'primary',
		    text: 'Create RA certificate' });
		add.addEventListener('click', () => showCreate());
		const stateF = h('select', { id: 'ra-state-filter' });
		setOptions(stateF, [['', 'All states'], ['active', 'active'],
		    ['next', 'next (staged)'], ['retired', 'retired']]);
		const tbody = h('tbody', {});
		replace(view, h('div', { class: 'toolbar' }, add,
		    h('label', { for: 'ra-state-filter', text: 'Show' }),
		    stateF), err.el,
		    ep ? h('p', { class: 'help', text: `The selected endpoint ` +
		    `"${ep.name}" uses ${ep.ra_id ? `RA ${ep.ra_id}` :
		    'no RA (the CA answers itself)'}.` }) : null,
		    h('div', { class: 'tablewrap' }, h('table', { class: 'list' },
		    h('caption', { class: 'sr-only', text: 'RA certificates' }),
		    h('thead', {}, h('tr', {}, ...['ID', 'Subject', 'State',
		    'Usage', 'Valid until', 'CA', ''].map((t) => h('th',
		    { scope: 'col', text: t })))), tbody)));
		let ras;
		try {
			if (cas.length === 0)
				cas = await list('/api/v1/cas');
			ras = await list('/api/v1/ras');
		} catch (e) {
			err.set(e.message);
			return;
		}
		const fill = () => {
			replace(tbody);
			const shown = ras.filter((r) => !stateF.value ||
			    r.state === stateF.value);
			for (const ra of shown) {
				const view = h('button', { type: 'button',
				    class: 'small', text: 'Details',
				    'aria-label': `Details of RA ${ra.id}` });
				view.addEventListener('click', () =>
				    showDetails(ra, ras));
				tbody.append(h('tr', { class: ep && ep.ra_id ===
				    ra.id ? 'selected' : null },
				    h('td', { 'data-label': 'ID',
				    text: String(ra.id) }),
				    h('td', { 'data-label': 'Subject',
				    text: ra.subject || '' }),
				    h('td', { 'data-label': 'State',
				    text: ra.state }),
				    h('td', { 'data-label': 'Usage',
				    text: ra.usage }),
				    h('td', { 'data-label': 'Valid until',
				    text: fmtDate(ra.not_after) }),
				    h('td', { 'data-label': 'CA',
				    text: caName(ra.ca_id) }),
				    h('td', {}, view)));
			}
			if (shown.length === 0)
				tbody.append(h('tr', {}, h('td', { colspan: '7',
				    class: 'empty', text: 'No RA certificates.' })));
		};
		stateF.addEventListener('change', fill);
		fill();
		add.focus();
	};
	showList();
	return d;
}
