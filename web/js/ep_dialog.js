/*
 * ep_dialog.js -- "Create Enrollment Endpoint" and "Edit Enrollment
 * Endpoint" (issue 4).  Create: step 1 asks for the name and the type;
 * then a Details tab (URI extension with the resulting URL shown live
 * and checked for uniqueness; organization and department for Intune
 * types; profile and term) and a Configuration tab (CA, RA certificate,
 * GetCACert and GetCert response formats, approval mode, legacy switch,
 * and for Intune types the Azure account, among those delegated to the
 * endpoint's organization, and the wait-for-success-notification
 * switch).  Edit shows the same tabs with the
 * fields fixed after creation read-only.  API errors are shown next to
 * the field they name, on whichever step or tab holds it.
 */
import { api, list, apiGet } from './api.js';
import { h, field, radios, tabs, openDialog, errorBox, busy,
    setOptions, toast, newId, clearErrors } from './dom.js';
import { typeLabel, isIntune, certType, orgs, isMrao, session,
    creatableTypes } from './model.js';

/* RFC 3986 unreserved characters, no leading dot (admin_ep.c). */
const EXT_RE = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,63}$/;

const TYPE_HELP = {
	'client': 'Certificates for users; accounts with challenges.',
	'device': 'Certificates for devices and servers; accounts with ' +
	    'challenges.',
	'client-intune': 'User certificates requested through Microsoft ' +
	    'Intune; belongs to one organization.',
	'device-intune': 'Device certificates requested through Microsoft ' +
	    'Intune; belongs to one organization.',
};

/* A proposal for a URI extension from a name. */
function slug(name)
{
	return name.toLowerCase().normalize('NFKD')
	    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

/*
 * openEndpointDialog({ mode: 'create'|'edit', ep, baseUrl, onDone(id) })
 */
export function openEndpointDialog(opts)
{
	const create = opts.mode === 'create';
	const ep = opts.ep || {};
	const d = openDialog({
		title: create ? 'Create Enrollment Endpoint' :
		    'Edit Enrollment Endpoint',
		id: create ? 'create-endpoint' : 'edit-endpoint',
		wide: true,
	});
	const general = errorBox();
	const F = {};		/* API field name -> field */

	/* ---- step 1: name and type ---- */
	const types = create ? creatableTypes() : [];
	F.name = field({ label: 'Name', name: 'name', required: true,
	    value: ep.name || '', maxlength: 127,
	    help: 'Shown to administrators; 1 to 127 characters.' });
	F.type = radios({ label: 'Type', name: 'type',
	    value: ep.type || (types.find(([t]) => t === 'device') ||
	    types[0] || [''])[0],
	    choices: (create ? types : [[ep.type, typeLabel(ep.type)]]).map(
	    ([v, t]) => [v, t, TYPE_HELP[v]]),
	    disabled: !create });
	const step1 = h('div', { class: 'step', dataset: { step: '1' } },
	    h('p', { class: 'stepno', text: 'Step 1 of 2: name and type' }),
	    F.name.wrap, F.type.wrap);

	/* ---- Details tab ---- */
	F.uri_ext = field({ label: 'URI extension', name: 'uri_ext',
	    required: true, value: ep.uri_ext || '', maxlength: 64,
	    help: 'Letters, digits and - _ . ~ (not starting with a dot). ' +
	    'The endpoint answers at the URL below.' });
	const urlOut = h('output', { class: 'liveurl', for: F.uri_ext.input.id,
	    'aria-live': 'polite' });
	const extStatus = h('p', { class: 'extstatus', 'aria-live': 'polite' });
	F.uri_ext.wrap.append(h('div', { class: 'urlrow' },
	    h('span', { text: 'URL: ' }), urlOut), extStatus);

	const orgOpts = [['', 'Choose an organization'],
	    ...orgs.list.map((o) => [o.id, o.name])];
	F.org_id = field({ label: 'Organization', name: 'org_id',
	    type: 'select', options: orgOpts, value: ep.org_id || '',
	    readOnly: !create, required: true,
	    help: 'Intune endpoints belong to one organization (fixed after ' +
	    'creation).' });
	F.dept_id = field({ label: 'Department', name: 'dept_id',
	    type: 'select', options: [['', 'Whole organization']],
	    readOnly: !create,
	    help: 'Optional; fixed after creation.' });
	const fillDepts = () => {
		const oid = Number(F.org_id.input.value);
		setOptions(F.dept_id.input, [['', 'Whole organization'],
		    ...orgs.deptsOf(oid).map((x) => [x.id, x.name])],
		    ep.dept_id || '');
	};
	F.org_id.input.addEventListener('change', fillDepts);
	fillDepts();
	const intuneBox = h('fieldset', { class: 'group' },
	    h('legend', { text: 'Intune: organization' }),
	    F.org_id.wrap, F.dept_id.wrap);
	const plainNote = h('p', { class: 'help', text: 'Plain SCEP ' +
	    'endpoints take the organization and department of each ' +
	    'certificate from the account whose challenge was used.' });

	F.term_days = field({ label: 'Term (validity of issued ' +
	    'certificates, days)', name: 'term_days', type: 'number',
	    min: 1, max: 1830, value: ep.term_days ?? 365, required: true });
	const rsaOpts = [[1024, '1024 (weak, old devices only)'],
	    [2048, '2048'], [3072, '3072'], [4096, '4096']];
	if (ep.min_rsa_bits && !rsaOpts.some(([v]) => v === ep.min_rsa_bits))
		rsaOpts.push([ep.min_rsa_bits, String(ep.min_rsa_bits)]);
	F.min_rsa_bits = field({ label: 'Minimum RSA key size (bits)',
	    name: 'min_rsa_bits', type: 'select', options: rsaOpts,
	    value: ep.min_rsa_bits ?? 2048 });
	F.allow_ec = field({ label: 'Allow EC keys (P-256, P-384)',
	    name: 'allow_ec', type: 'checkbox', value: ep.allow_ec ?? true });
	F.server_auth = field({ label: 'Add serverAuth to the extended key ' +
	    'usage (device certificates only)', name: 'server_auth',
	    type: 'checkbox', value: ep.server_auth ?? false });
	F.renewal = field({ label: 'Allow renewal (RenewalReq signed by the ' +
	    'current certificate)', name: 'renewal', type: 'checkbox',
	    value: ep.renewal ?? true });
	F.renewal_window_days = field({ label: 'Renewal window (days ' +
	    'before expiry; 0: any time)', name: 'renewal_window_days',
	    type: 'number', min: 0, max: 1830,
	    value: ep.renewal_window_days ?? 0 });
	F.copy_sans = field({ label: 'Copy subject alternative names from ' +
	    'the request', name: 'copy_sans', type: 'checkbox',
	    value: ep.copy_sans ?? true });
	const profileBox = h('fieldset', { class: 'group' },
	    h('legend', { text: 'Certificate profile and term' }),
	    F.term_days.wrap, F.min_rsa_bits.wrap, F.allow_ec.wrap,
	    F.server_auth.wrap, F.renewal.wrap, F.renewal_window_days.wrap,
	    F.copy_sans.wrap);

	/* An RAO/DRAO creates only endpoints it manages: Customized, to
	 * its own organizations or departments. */
	const scopeTargets = [];
	let targetBox = null;
	if (create && !isMrao()) {
		const me = session.me;
		const targetErr = h('p', { class: 'err', hidden: true });
		targetBox = h('fieldset', { class: 'group' },
		    h('legend', { text: 'Delegated to (your scope)' }));
		for (const s of me.scopes || []) {
			const id = `tg-${s.org_id}-${s.dept_id || 0}`;
			const cb = h('input', { type: 'checkbox', id });
			cb.checked = true;
			scopeTargets.push([cb, s]);
			targetBox.append(h('div', { class: 'row' }, cb,
			    h('label', { for: id, text: orgs.refLabel(s.org_id,
			    s.dept_id) })));
		}
		targetBox.append(targetErr, h('p', { class: 'help',
		    text: 'You can only create endpoints with Customized ' +
		    'delegation inside your own scope.' }));
		F.targets = {
			wrap: targetBox,
			input: scopeTargets.length ? scopeTargets[0][0] : null,
			set(m) {
				targetErr.textContent = m;
				targetErr.hidden = false;
			},
			clear() {
				targetErr.textContent = '';
				targetErr.hidden = true;
			},
		};
	}

	const typeLine = create ? null : h('p', {},
	    h('strong', { text: 'Type: ' }), typeLabel(ep.type),
	    h('span', { class: 'help', text: ' (fixed after creation)' }));
	const details = h('div', {}, create ? null : F.name.wrap, typeLine,
	    F.uri_ext.wrap, intuneBox, plainNote, targetBox, profileBox);

	/* ---- Configuration tab ---- */
	F.ca_id = field({ label: 'Issuing CA', name: 'ca_id', type: 'select',
	    options: ep.ca_id ? [[ep.ca_id, `CA ${ep.ca_id}`]] :
	    [['', 'The first CA (default)']], value: ep.ca_id || '',
	    readOnly: !create || !isMrao(), help: 'Fixed after creation.' });
	F.ra_id = field({ label: 'RA certificate', name: 'ra_id',
	    type: 'select', options: ep.ra_id ? [[ep.ra_id, `RA ${ep.ra_id}`]]
	    : [['', 'The active RA of the CA (default)']],
	    value: ep.ra_id || '', readOnly: !isMrao(),
	    help: isMrao() ? 'The certificate clients encrypt their requests ' +
	    'to. "None" lets the CA answer itself.' :
	    'Only a master administrator (MRAO) can choose RA certificates.' });
	F.getcacert_format = radios({ label: 'GetCACert response format',
	    name: 'getcacert_format', value: ep.getcacert_format || 'chain',
	    choices: [
		['chain', 'Chain in CMS', 'certs-only PKCS#7 with the RA ' +
		    'and CA certificates (application/x-x509-ca-ra-cert)'],
		['single', 'Single certificate', 'the CA certificate alone ' +
		    '(application/x-x509-ca-cert); no separate RA'],
	    ] });
	F.getcert_format = radios({ label: 'GetCert response format',
	    name: 'getcert_format', value: ep.getcert_format || 'single',
	    choices: [
		['single', 'Single certificate', 'only the issued certificate'],
		['chain', 'Full chain', 'the issued certificate and its CA'],
	    ] });
	F.manual_approval = radios({ label: 'Approval mode',
	    name: 'manual_approval',
	    value: ep.manual_approval ? 'manual' : 'automatic',
	    choices: [
		['automatic', 'Automatic', 'a valid challenge is enough'],
		['manual', 'Manual', 'requests wait (PENDING) until an ' +
		    'administrator approves them under Pending requests'],
	    ] });
	F.legacy = field({ label: 'Legacy switch: accept single DES, MD5 and ' +
	    'SHA-1 from old clients', name: 'legacy', type: 'checkbox',
	    value: ep.legacy ?? false,
	    help: 'Only for clients that cannot do better (for example ' +
	    'micromdm scepclient, which always encrypts with DES). Weakens ' +
	    'the protection of the request.' });
	F.enabled = field({ label: 'Enabled (answers enrollment requests)',
	    name: 'enabled', type: 'checkbox', value: ep.enabled ?? true });
	F.azure_account_id = field({ label: 'Azure account',
	    name: 'azure_account_id', type: 'select',
	    options: [['', 'None: every request is refused']],
	    help: 'The Microsoft Entra ID application that checks each ' +
	    'request with Intune; the accounts offered are those whose ' +
	    'delegation covers the endpoint\'s organization (Azure Accounts ' +
	    'page).' });
	F.wait_success = field({ label: 'Wait for the success notification ' +
	    '(reply only after Intune acknowledged the issued certificate)',
	    name: 'wait_success', type: 'checkbox',
	    value: ep.wait_success ?? true,
	    help: 'On by default (fail closed): when Intune does not ' +
	    'acknowledge, the certificate is revoked and the device told ' +
	    'FAILURE. Off: reply at once and notify in the background.' });
	const azureBox = h('fieldset', { class: 'group' },
	    h('legend', { text: 'Intune' }), F.azure_account_id.wrap,
	    F.wait_success.wrap);
	let azureAccounts = [];
	const fillAzure = () => {
		const oid = Number(F.org_id.input.value) || ep.org_id || 0;
		const did = Number(F.dept_id.input.value) || ep.dept_id || 0;
		const usable = azureAccounts.filter((a) => a.delegation ===
		    'general' || (a.targets || []).some((t) => t.org_id ===
		    oid && (!t.dept_id || t.dept_id === did)));
		const cur = F.azure_account_id.input.value ||
		    (ep.azure_account_id ?? '');
		setOptions(F.azure_account_id.input, [
		    ['', 'None: every request is refused'],
		    ...usable.map((a) => [a.id, a.name])], cur);
	};
	(async () => {
		try {
			azureAccounts = await list('/api/v1/azure-accounts');
		} catch (e) {
			azureAccounts = [];
		}
		fillAzure();
	})();
	F.org_id.input.addEventListener('change', fillAzure);
	F.dept_id.input.addEventListener('change', fillAzure);
	const config = h('div', {}, F.ca_id.wrap, F.ra_id.wrap,
	    F.getcacert_format.wrap, F.getcert_format.wrap,
	    F.manual_approval.wrap, F.legacy.wrap, F.enabled.wrap, azureBox);

	const tb = tabs([['details', 'Details', details],
	    ['config', 'Configuration', config]]);
	const step2 = h('div', { class: 'step', dataset: { step: '2' } },
	    create ? h('p', { class: 'stepno', text: 'Step 2 of 2: details ' +
	    'and configuration' }) : null, tb.wrap);

	/* ---- type-dependent parts ---- */
	const curType = () => F.type.value() || ep.type;
	const applyType = () => {
		const t = curType();
		intuneBox.hidden = !isIntune(t);
		azureBox.hidden = !isIntune(t);
		plainNote.hidden = isIntune(t);
		F.server_auth.input.disabled = certType(t) !== 'device';
		if (certType(t) !== 'device')
			F.server_auth.input.checked = false;
	};
	for (const i of F.type.inputs)
		i.addEventListener('change', applyType);
	applyType();

	/* ---- the live URL and its uniqueness ---- */
	let extTimer = null, extSeq = 0;
	const showUrl = () => {
		const v = F.uri_ext.input.value;
		urlOut.textContent = `${opts.baseUrl}/scep/${v || '\u2026'}`;
	};
	const checkExt = async () => {
		const v = F.uri_ext.input.value;
		const seq = ++extSeq;
		extStatus.textContent = '';
		if (v === '')
			return;
		if (!EXT_RE.test(v)) {
			F.uri_ext.set('Use 1 to 64 letters, digits and - _ . ~ ' +
			    '(not starting with a dot).');
			return;
		}
		try {
			const r = await apiGet('/api/v1/endpoints',
			    { uri_ext: v });
			if (seq !== extSeq)
				return;
			const other = (r.items || []).find((x) => x.id !==
			    ep.id);
			if (other)
				F.uri_ext.set(`Already used by the endpoint ` +
				    `"${other.name}".`);
			else
				extStatus.textContent = 'This URL is free.';
		} catch (e) {
			if (seq === extSeq)
				extStatus.textContent = '';
		}
	};
	F.uri_ext.input.addEventListener('input', () => {
		F.uri_ext.input.dataset.touched = '1';
		showUrl();
		clearTimeout(extTimer);
		extTimer = setTimeout(checkExt, 250);
	});
	showUrl();

	/* ---- CA and RA choices (MRAO: the API lists them) ---- */
	if (isMrao()) {
		const fillRas = async () => {
			const caId = Number(F.ca_id.input.value) || 0;
			try {
				const ras = await list('/api/v1/ras', caId ?
				    { ca_id: caId } : {});
				const active = ras.filter((r) => r.state ===
				    'active' && (!caId || r.ca_id === caId));
				const cur = ep.ra_id || (active[0] ?
				    active[0].id : 0);
				setOptions(F.ra_id.input, [
				    ...active.map((r) => [r.id,
				    `RA ${r.id}: ${r.subject || ''}`]),
				    [0, 'None (the CA answers itself)']], cur);
			} catch (e) {
				F.ra_id.set(e.message);
			}
		};
		(async () => {
			try {
				const cas = await list('/api/v1/cas');
				if (cas.length > 0)
					setOptions(F.ca_id.input, cas.map((c) =>
					    [c.id, `${c.name || `CA ${c.id}`}` +
					    (c.subject ? ` (${c.subject})` : '')]),
					    ep.ca_id || cas[0].id);
			} catch (e) {
				F.ca_id.set(e.message);
			}
			await fillRas();
		})();
		F.ca_id.input.addEventListener('change', fillRas);
	}

	/* ---- steps and buttons ---- */
	const cancel = h('button', { type: 'button', text: 'Cancel' });
	const back = h('button', { type: 'button', text: 'Back' });
	const next = h('button', { type: 'button', class: 'primary',
	    text: 'Next' });
	const formId = newId('epform');
	const save = h('button', { type: 'submit', class: 'primary',
	    form: formId, text: create ? 'Create' : 'Save' });
	const form = h('form', { novalidate: true, id: formId }, general.el,
	    step1, step2);
	d.body.append(form);
	d.footer.append(cancel, back, next, save);
	cancel.addEventListener('click', () => d.close());

	const showStep = (n) => {
		step1.hidden = n !== 1;
		step2.hidden = n !== 2;
		back.hidden = !create || n !== 2;
		next.hidden = n !== 1;
		save.hidden = n !== 2;
		form.dataset.step = String(n);
	};
	next.addEventListener('click', () => {
		general.clear();
		F.name.clear();
		F.type.clear();
		if (F.name.input.value.trim() === '') {
			F.name.set('Enter a name.');
			F.name.input.focus();
			return;
		}
		if (F.type.value() === null) {
			F.type.set('Choose a type.');
			return;
		}
		if (!F.uri_ext.input.dataset.touched) {
			F.uri_ext.input.value = slug(F.name.input.value);
			showUrl();
			checkExt();
		}
		applyType();
		showStep(2);
		tb.select('details');
		F.uri_ext.input.focus();
	});
	back.addEventListener('click', () => {
		showStep(1);
		F.name.input.focus();
	});
	showStep(create ? 1 : 2);
	F.name.input.focus();

	/* An error for API field "name": show it where that field is. */
	const showError = (err) => {
		const f = F[err.field];
		if (!f) {
			general.set(err.message);
			return;
		}
		const inStep1 = step1.contains(f.wrap);
		if (inStep1) {
			showStep(1);
		} else {
			showStep(2);
			const key = tb.panelOf(f.wrap);
			if (key)
				tb.select(key);
		}
		f.set(err.message);
		if (f.input && f.input.focus)
			f.input.focus();
	};

	const body = () => {
		const t = curType();
		const b = {
			uri_ext: F.uri_ext.input.value,
			term_days: Number(F.term_days.input.value),
			min_rsa_bits: Number(F.min_rsa_bits.input.value),
			allow_ec: F.allow_ec.input.checked,
			server_auth: F.server_auth.input.checked,
			renewal: F.renewal.input.checked,
			renewal_window_days: Number(
			    F.renewal_window_days.input.value),
			copy_sans: F.copy_sans.input.checked,
			getcacert_format: F.getcacert_format.value(),
			getcert_format: F.getcert_format.value(),
			manual_approval: F.manual_approval.value() === 'manual',
			legacy: F.legacy.input.checked,
			enabled: F.enabled.input.checked,
			name: F.name.input.value,
		};
		if (isMrao() && F.ra_id.input.value !== '')
			b.ra_id = Number(F.ra_id.input.value);
		if (isIntune(t)) {
			const a = F.azure_account_id.input.value;
			b.azure_account_id = a === '' ? null : Number(a);
			b.wait_success = F.wait_success.input.checked;
		}
		if (create) {
			b.type = t;
			if (isMrao() && F.ca_id.input.value !== '')
				b.ca_id = Number(F.ca_id.input.value);
			if (isIntune(t)) {
				b.org_id = Number(F.org_id.input.value) || 0;
				b.dept_id = Number(F.dept_id.input.value) || 0;
			}
			if (!isMrao()) {
				b.delegation = 'customized';
				b.targets = scopeTargets.filter(([cb]) =>
				    cb.checked).map(([, s]) => ({
				    org_id: s.org_id, dept_id: s.dept_id || 0 }));
			}
		}
		return b;
	};

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (form.dataset.step === '1') {
			/* Enter on step 1 means "Next". */
			next.click();
			return;
		}
		clearErrors(F, general);
		if (create && isIntune(curType()) && !F.org_id.input.value) {
			showError({ field: 'org_id', message: 'Choose the ' +
			    'organization of this Intune endpoint.' });
			return;
		}
		if (!EXT_RE.test(F.uri_ext.input.value)) {
			showError({ field: 'uri_ext', message: 'Use 1 to 64 ' +
			    'letters, digits and - _ . ~ (not starting with ' +
			    'a dot).' });
			return;
		}
		let res;
		try {
			res = await busy(save, () => create ?
			    api('POST', '/api/v1/endpoints', body()) :
			    api('PATCH', `/api/v1/endpoints/${ep.id}`, body()),
			    create ? 'Creating\u2026' : 'Saving\u2026');
		} catch (e) {
			showError(e);
			return;
		}
		toast(create ? `Endpoint "${res.name}" created` :
		    `Endpoint "${res.name}" saved`);
		d.close();
		if (opts.onDone)
			opts.onDone(res.id);
	});
	return d;
}
