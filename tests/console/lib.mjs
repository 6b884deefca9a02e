/*
 * lib.mjs -- what the console tests share: TAP output, Debian's chromium
 * driven by playwright-core (never a downloaded browser), the scepd
 * started by run.sh, and small helpers (API calls with the bootstrap
 * token, CSV parsing, screenshots).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/* ---- TAP ---- */

let n = 0, failed = 0;

export function diag(msg)
{
	for (const line of String(msg).split('\n'))
		console.log(`# ${line}`);
}

export function ok(cond, desc, extra)
{
	n += 1;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${desc}`);
	if (!cond) {
		failed += 1;
		if (extra !== undefined)
			diag(typeof extra === 'string' ? extra :
			    JSON.stringify(extra, null, 2));
	}
	return Boolean(cond);
}

export function is(got, want, desc)
{
	return ok(got === want, desc, `got: ${JSON.stringify(got)}\n` +
	    `want: ${JSON.stringify(want)}`);
}

export function like(got, re, desc)
{
	return ok(re.test(String(got)), desc, `got: ${JSON.stringify(got)}\n` +
	    `want: ${re}`);
}

export function skip(desc, why)
{
	n += 1;
	console.log(`ok ${n} - ${desc} # SKIP ${why}`);
}

let recover = null;

/* fn() runs after a step that threw, to bring the page back to a known
 * state for the next step. */
export function onFailure(fn)
{
	recover = fn;
}

/*
 * Run one step: an exception is a failed test (with the error), not the
 * end of the run, unless "fatal".
 */
export async function step(desc, fn, fatal)
{
	try {
		await fn();
	} catch (e) {
		ok(false, `${desc}: threw`, e && e.stack ? e.stack : String(e));
		if (fatal) {
			console.log(`Bail out! ${desc}`);
			throw e;
		}
		if (recover !== null) {
			try {
				await recover();
			} catch (e2) {
				diag(`recovery failed: ${e2}`);
			}
		}
	}
}

export function done()
{
	console.log(`1..${n}`);
	return failed;
}

/* ---- environment from run.sh ---- */

export const env = {
	url: process.env.CONSOLE_URL,		/* where scepd listens */
	public: process.env.CONSOLE_PUBLIC,	/* the URL it advertises */
	work: process.env.CONSOLE_WORK,
	init: JSON.parse(fs.readFileSync(process.env.CONSOLE_INIT, 'utf8')),
	shots: process.env.SCREENSHOT_DIR,
};

/* ---- the browser ---- */

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu',
	'--disable-quic', '--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync'];

/*
 * A fresh browser profile (its own --user-data-dir, as a persistent
 * context) with the clipboard allowed for the console's origin.
 */
export async function browser(viewport)
{
	const dir = fs.mkdtempSync(path.join(env.work || os.tmpdir(),
	    'chromium-'));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: FLAGS,
		viewport: viewport || { width: 1280, height: 800 },
		acceptDownloads: true,
		locale: 'en-US',
		timezoneId: 'UTC',
	});
	await ctx.grantPermissions(['clipboard-read', 'clipboard-write'],
	    { origin: env.url });
	const page = ctx.pages()[0] || await ctx.newPage();
	page.setDefaultTimeout(15000);
	/* Anything the page complains about (CSP violations, script
	 * errors, failed loads) is collected and checked at the end. */
	const problems = [];
	page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error')
			problems.push(`console: ${m.text()}`);
	});
	return { ctx, page, problems, dir };
}

export async function closeBrowser(b)
{
	await b.ctx.close();
	fs.rmSync(b.dir, { recursive: true, force: true });
}

export async function shot(page, name)
{
	if (!env.shots)
		return;
	fs.mkdirSync(env.shots, { recursive: true });
	/* Old notifications would cover the picture; let transitions and
	 * fonts settle so it is stable. */
	await page.evaluate(() => {
		const t = document.getElementById('toasts');
		if (t)
			t.replaceChildren();
	});
	await page.waitForTimeout(150);
	await page.screenshot({ path: path.join(env.shots, `${name}.png`) });
}

/* ---- the API with the bootstrap token (for checks, not for the UI) ---- */

export async function apiToken(method, p, body, token)
{
	const res = await fetch(env.url + p, {
		method,
		headers: {
			Authorization: `Bearer ${token || env.init.admin_token}`,
			...(body ? { 'Content-Type': 'application/json' } : {}),
		},
		body: body ? JSON.stringify(body) : undefined,
	});
	const text = await res.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch (e) {
		json = null;
	}
	return { status: res.status, json, text, headers: res.headers };
}

/* ---- CSV (RFC 4180: quoted fields, doubled quotes, CRLF) ---- */

export function parseCsv(text)
{
	const rows = [];
	let row = [], f = '', q = false;
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (q) {
			if (c === '"' && text[i + 1] === '"') {
				f += '"';
				i++;
			} else if (c === '"') {
				q = false;
			} else {
				f += c;
			}
		} else if (c === '"') {
			q = true;
		} else if (c === ',') {
			row.push(f);
			f = '';
		} else if (c === '\n') {
			row.push(f);
			rows.push(row);
			row = [];
			f = '';
		} else if (c !== '\r') {
			f += c;
		}
	}
	if (f !== '' || row.length)
		rows.push([...row, f]);
	return rows;
}

/* ---- page helpers ---- */

export async function login(page, name, password)
{
	await page.goto(env.url + '/');
	await page.getByLabel('Name', { exact: true }).fill(name);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.locator('#who .role').waitFor();
}

export function dialog(page, id)
{
	return page.locator(`dialog[data-dialog="${id}"]`);
}

/* Go to the SCEP page (from any page) and wait for its table. */
export async function gotoScep(page)
{
	await page.getByRole('link', { name: 'SCEP', exact: true }).click();
	await page.locator('table.eps').waitFor();
}

/* The body row of endpoint "name" on the SCEP page (first match). */
export function epRow(page, name)
{
	return page.locator('table.eps tbody tr[data-id]').filter({
	    has: page.locator('label.epname', { hasText: new RegExp(
	    `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
}

/*
 * Select endpoint "name" on the SCEP page the way a user does: a click on
 * its name (the label of the row's radio button).  Throws unless the row
 * is then selected.
 */
export async function selectEp(page, name)
{
	const row = epRow(page, name);
	await row.locator('label.epname').click();
	if (!await row.locator('input[type=radio]').isChecked() ||
	    !/\bselected\b/.test(await row.getAttribute('class') || ''))
		throw new Error(`endpoint ${name} did not become selected`);
	return row;
}

/* Every visible form control in "scope" has an accessible name. */
export async function unlabelled(scope)
{
	return scope.evaluate((root) => {
		const bad = [];
		for (const el of root.querySelectorAll('input, select, ' +
		    'textarea')) {
			if (el.type === 'hidden' || el.closest('[hidden]'))
				continue;
			const named = (el.labels && el.labels.length > 0) ||
			    el.getAttribute('aria-label') ||
			    el.getAttribute('aria-labelledby');
			if (!named)
				bad.push(el.outerHTML.slice(0, 120));
		}
		return bad;
	});
}
