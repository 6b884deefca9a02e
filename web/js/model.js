/*
 * model.js -- names shown for the API's values, the signed-in
 * administrator, and the scope rules of issue 3 mirrored for the user
 * interface.  The mirror only decides which controls are offered: the
 * server enforces the same rules on every request anyway.
 */
import { list } from './api.js';

/* Endpoint types: API value -> label (issue 4 wording). */
export const EP_TYPES = [
	['client', 'Client certificate SCEP'],
	['device', 'Device certificate SCEP'],
	['client-intune', 'Client certificate Intune SCEP'],
	['device-intune', 'Device certificate Intune SCEP'],
];

export function typeLabel(t)
{
	const e = EP_TYPES.find(([v]) => v === t);
	return e ? e[1] : String(t);
}

export function isIntune(t)
{
	return t === 'client-intune' || t === 'device-intune';
}

/* "client" or "device": the certificate type an endpoint type issues. */
export function certType(t)
{
	return t === 'client' || t === 'client-intune' ? 'client' : 'device';
}

export const ROLES = [
	['MRAO', 'MRAO \u2013 master administrator (everything)'],
	['RAO', 'RAO \u2013 administrator of organizations'],
	['DRAO', 'DRAO \u2013 administrator of departments'],
];

export const CRL_REASONS = [
	'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged',
	'superseded', 'cessationOfOperation', 'certificateHold',
	'privilegeWithdrawn', 'aACompromise',
];

/* ---- the signed-in administrator ---- */

export const session = {
	me: null,		/* GET /api/v1/me */
};

export function isMrao()
{
	return session.me !== null && session.me.role === 'MRAO';
}

function holdsType(ep)
{
	const ct = session.me ? session.me.cert_types || [] : [];
	return ct.includes(certType(ep.type));
}

/* admin_scope_covers() of src/service/admin.c. */
export function scopeCovers(orgId, deptId)
{
	const me = session.me;
	if (me === null)
		return false;
	if (me.role === 'MRAO')
		return true;
	if (!orgId)
		return false;
	for (const s of me.scopes || []) {
		if (s.org_id !== orgId)
			continue;
		if (me.role === 'RAO' && !s.dept_id)
			return true;
		if (me.role === 'DRAO' && deptId && s.dept_id === deptId)
			return true;
	}
	return false;
}

/* admin_ep_manageable(): may edit, delete and delegate "ep". */
export function canManage(ep)
{
	const me = session.me;
	if (me === null)
		return false;
	if (me.role === 'MRAO')
		return true;
	if (!holdsType(ep) || ep.delegation === 'general')
		return false;
	const targets = ep.targets || [];
	if (targets.length === 0 && !ep.org_id)
		return false;
	if (ep.org_id && !scopeCovers(ep.org_id, ep.dept_id))
		return false;
	return targets.every((t) => scopeCovers(t.org_id, t.dept_id));
}

/* May create endpoints at all: MRAO, or an RAO/DRAO with a scope and a
 * certificate type (it can only create what it then manages itself). */
export function canCreateEndpoint()
{
	const me = session.me;
	if (me === null)
		return false;
	if (me.role === 'MRAO')
		return true;
	return (me.scopes || []).length > 0 && (me.cert_types || []).length >
	    0;
}

/* Endpoint types this administrator may create. */
export function creatableTypes()
{
	if (isMrao())
		return EP_TYPES;
	const ct = session.me ? session.me.cert_types || [] : [];
	return EP_TYPES.filter(([t]) => ct.includes(certType(t)));
}

/* ---- organizations and departments (scope-filtered by the API) ---- */

export const orgs = {
	list: [],
	depts: [],
	byId: new Map(),
	deptById: new Map(),
	async load() {
		const [o, d] = await Promise.all([
			list('/api/v1/organizations'),
			list('/api/v1/departments'),
		]);
		this.list = o.sort((a, b) => a.name.localeCompare(b.name));
		this.depts = d.sort((a, b) => a.name.localeCompare(b.name));
		this.byId = new Map(o.map((x) => [x.id, x]));
		this.deptById = new Map(d.map((x) => [x.id, x]));
	},
	name(id) {
		const o = this.byId.get(id);
		return o ? o.name : `organization ${id}`;
	},
	deptName(id) {
		const d = this.deptById.get(id);
		return d ? d.name : `department ${id}`;
	},
	deptsOf(orgId) {
		return this.depts.filter((d) => d.org_id === orgId);
	},
	/* "Org" or "Org / Dept" for a reference. */
	refLabel(orgId, deptId) {
		if (!orgId)
			return '';
		return deptId ? `${this.name(orgId)} / ${this.deptName(deptId)}`
		    : this.name(orgId);
	},
};

/* "General" or "Customized: A, B / X". */
export function delegationLabel(ep)
{
	if (ep.delegation === 'general')
		return 'General';
	const t = (ep.targets || []).map((r) => orgs.refLabel(r.org_id,
	    r.dept_id));
	return t.length ? `Customized: ${t.join(', ')}` : 'Customized';
}

/* Organizations an endpoint is delegated to or owned by (ids). */
export function endpointOrgs(ep)
{
	const s = new Set();
	if (ep.org_id)
		s.add(ep.org_id);
	for (const t of ep.targets || [])
		s.add(t.org_id);
	return [...s];
}
