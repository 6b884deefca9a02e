/*
 * app.js -- the console's entry point: login and logout, the session
 * clock, the header that says who is signed in, and the page router
 * (#/scep, #/orgs, ...).  Every page is a module exporting
 * render(main) that builds its content with dom.js.
 */
import * as apiMod from './api.js';
import { h, replace, toast, field, errorBox, busy } from './dom.js';
import { session } from './model.js';
import * as scep from './scep.js';
import * as orgsPage from './orgs.js';
import * as adminsPage from './admins.js';
import * as azurePage from './azure.js';
import * as certsPage from './certs.js';
import * as requestsPage from './requests.js';

const PAGES = [
	{ route: 'scep', label: 'SCEP', mod: scep },
	{ route: 'orgs', label: 'Organizations & Departments', mod: orgsPage },
	{ route: 'admins', label: 'Administrators', mod: adminsPage },
	{ route: 'azure', group: 'Integrations', label: 'Azure Accounts',
	    mod: azurePage },
	{ route: 'certs', label: 'Certificates', mod: certsPage },
	{ route: 'requests', label: 'Pending requests', mod: requestsPage },
];

let expiryTimer = null;

function $(id)
{
	return document.getElementById(id);
}

/* ---- login ---- */

function showLogin(message)
{
	const main = $('main');

	session.me = null;
	clearTimeout(expiryTimer);
	for (const d of document.querySelectorAll('dialog'))
		d.close();
	$('top').hidden = true;
	document.title = 'Log in \u2013 scepd console';
	const name = field({ label: 'Name', name: 'name', required: true,
	    autocomplete: 'username' });
	const pw = field({ label: 'Password', name: 'password',
	    type: 'password', required: true,
	    autocomplete: 'current-password' });
	const err = errorBox();
	const submit = h('button', { type: 'submit', class: 'primary',
	    text: 'Log in' });
	const form = h('form', { class: 'login', novalidate: true },
	    h('h1', { text: 'scepd console' }),
	    message ? h('p', { class: 'notice', role: 'status',
	    text: message }) : null,
	    err.el, name.wrap, pw.wrap, h('div', { class: 'actions' }, submit));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.clear();
		name.clear();
		pw.clear();
		if (name.input.value === '') {
			name.set('Enter your administrator name.');
			name.input.focus();
			return;
		}
		if (pw.input.value === '') {
			pw.set('Enter your password.');
			pw.input.focus();
			return;
		}
		try {
			await busy(submit, () => apiMod.login(name.input.value,
			    pw.input.value), 'Logging in\u2026');
		} catch (e) {
			if (e.field === 'name')
				name.set(e.message);
			else if (e.field === 'password')
				pw.set(e.message);
			else
				err.set(e.message);
			pw.input.value = '';
			pw.input.focus();
			return;
		}
		pw.input.value = '';
		await start();
	});
	replace(main, form);
	name.input.focus();
}

/* ---- the session ---- */

function armExpiry()
{
	const exp = apiMod.sessionExpires();

	clearTimeout(expiryTimer);
	if (!exp)
		return;
	const ms = Math.max(0, exp * 1000 - Date.now());
	/* setTimeout takes at most 2^31-1 ms; sessions are hours long. */
	expiryTimer = setTimeout(() => showLogin('Your session has ' +
	    'expired. Log in again.'), Math.min(ms, 0x7fffffff));
}

function renderHeader()
{
	const me = session.me;
	const who = $('who');

	replace(who, h('span', { class: 'name', text: me.name }),
	    h('span', { class: 'role', title: 'Your role',
	    text: me.role }));
	who.setAttribute('aria-label', `Logged in as ${me.name}, role ` +
	    `${me.role}`);
	const ul = $('nav-list');
	replace(ul, PAGES.map((p) => h('li', {},
	    h('a', { href: `#/${p.route}`, dataset: { route: p.route },
	    text: p.group ? `${p.group} \u203a ${p.label}` : p.label }))));
	$('top').hidden = false;
}

async function start()
{
	try {
		session.me = await apiMod.me();
	} catch (e) {
		showLogin(e.status === 401 ? null : e.message);
		return;
	}
	if (apiMod.csrfToken() === null) {
		/* A session from another tab: this tab has no CSRF token and
		 * the API has no way to fetch it, so log in here too. */
		showLogin('Log in to use the console in this tab.');
		return;
	}
	renderHeader();
	armExpiry();
	route();
}

/* ---- routing ---- */

function route()
{
	if (session.me === null)
		return;
	const r = (location.hash.match(/^#\/([a-z]+)/) || [])[1] || 'scep';
	const page = PAGES.find((p) => p.route === r) || PAGES[0];
	for (const a of document.querySelectorAll('#nav-list a')) {
		if (a.dataset.route === page.route)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	document.title = `${page.label} \u2013 scepd console`;
	$('nav').classList.remove('open');
	$('nav-toggle').setAttribute('aria-expanded', 'false');
	const main = $('main');
	replace(main);
	page.mod.render(main).catch((e) => {
		replace(main, h('h1', { text: page.label }),
		    h('p', { class: 'errbox', role: 'alert', text: e.message }));
	});
	main.focus({ preventScroll: true });
}

function init()
{
	apiMod.onUnauthorized(() => {
		if (session.me !== null)
			showLogin('Your session has expired or was ended. ' +
			    'Log in again.');
	});
	$('logout').addEventListener('click', async () => {
		try {
			await apiMod.logout();
		} catch (e) {
			toast(e.message, 'error');
		}
		showLogin('You are logged out.');
	});
	$('nav-toggle').addEventListener('click', () => {
		const open = $('nav').classList.toggle('open');
		$('nav-toggle').setAttribute('aria-expanded', open ? 'true' :
		    'false');
	});
	/* The skip link must not change the hash: that is the router's. */
	document.querySelector('.skip').addEventListener('click', (ev) => {
		ev.preventDefault();
		$('main').focus();
	});
	window.addEventListener('hashchange', route);
	if (apiMod.csrfToken() === null)
		showLogin(null);
	else
		start();
}

init();
