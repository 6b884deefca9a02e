/*
 * console.test.mjs -- the web console in a real browser (issue 4):
 * Debian's chromium, headless, driven by playwright-core, against the
 * scepd that run.sh started.  Prints TAP.
 *
 * Journeys:
 *  1. MRAO: log in; create an organization and a department; add a
 *     Device certificate SCEP endpoint (legacy switch on); add an
 *     account and copy its challenge from the dialog; micromdm's
 *     scepclient enrolls with it; the endpoint's audit shows the
 *     enrollment; download the audit CSV and check its rows; delegate
 *     the endpoint to the organization; filter and group the table;
 *     delete the endpoint; its URL stops answering (404).
 *  2. RAO: created through the console, sees only what is delegated to
 *     it and is offered no Add for other organizations.
 *  3. Security and usability: CSP headers, text never parsed as HTML,
 *     CSRF, session end, keyboard, labels, phone layout.
 * Screenshots of the SCEP page and each dialog go to docs/screenshots.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { ok, is, like, skip, diag, step, onFailure, done, env, browser, closeBrowser,
    shot, apiToken, parseCsv, login, dialog, epRow, selectEp, gotoScep, unlabelled } from
    './lib.mjs';

const ADMIN = env.init.admin_user;
const PASSWORD = env.init.admin_password;
const ORG = 'Acme Corp';
const DEPT = 'Engineering';
const ORG2 = 'Globex';
const EP = 'Console Devices';
const EP2 = 'Globex Devices';
const RAO = 'rao-acme';
const RAO_PW = 'rao-password-1234';

/* Children still running (scepclient waiting on PENDING): stopped by
 * pid when the test ends, however it ends. */
const children = new Set();

function spawnChild(cmd, args, opts)
{
	const c = spawn(cmd, args, opts);
	children.add(c);
	c.on('exit', () => children.delete(c));
	return c;
}

function stopChildren()
{
	for (const c of children)
		c.kill('SIGTERM');
}

/* run.sh (or meson's timeout) stops us with a signal: stop the
 * children and exit; playwright kills its chromium when we exit. */
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'])
	process.on(sig, () => {
		console.log(`Bail out! ${sig}`);
		stopChildren();
		process.exit(1);
	});

function which(cmd)
{
	return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

async function main()
{
	const b = await browser({ width: 1280, height: 800 });
	const page = b.page;
	const ctx = {};

	/* After a failed step, close what it left open so the next step
	 * starts from the page, not from a stale dialog. */
	onFailure(async () => {
		const where = await page.evaluate(() => {
			for (const d of document.querySelectorAll('dialog[open]'))
				d.close();
			const h1 = document.querySelector('main h1');
			return `${location.hash} ${h1 ? h1.textContent : ''}`;
		});
		diag(`the page was at: ${where}`);
	});

	/* ---------------------------------------------------------- */
	await step('security headers', async () => {
		const r = await fetch(env.url + '/');
		const csp = r.headers.get('content-security-policy') || '';
		like(csp, /frame-ancestors 'none'/,
		    'CSP forbids framing (frame-ancestors \'none\')');
		like(csp, /script-src 'self'(;|$)/, 'CSP: scripts only from ' +
		    'scepd itself');
		ok(!/unsafe-inline|unsafe-eval/.test(csp), 'CSP allows no ' +
		    'inline script or style and no eval', csp);
		like(csp, /require-trusted-types-for 'script'/, 'CSP: Trusted ' +
		    'Types forbid string-to-HTML sinks');
		is(r.headers.get('x-frame-options'), 'DENY', 'X-Frame-Options ' +
		    'DENY');
		const html = await r.text();
		ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) &&
		    !/\sstyle=/i.test(html) && !/\son[a-z]+=/i.test(html),
		    'index.html has no inline script, style attribute or ' +
		    'event handler');
		const js = await fetch(env.url + '/js/app.js');
		is(js.status, 200, 'the console\'s modules are served');
		like(js.headers.get('content-type'), /^text\/javascript/,
		    'JavaScript is served as text/javascript');
		const miss = await fetch(env.url + '/js/nope.js');
		is(miss.status, 404, 'an unknown file is 404');
	});

	/* ---------------------------------------------------------- */
	await step('login', async () => {
		await page.goto(env.url + '/');
		await page.getByRole('button', { name: 'Log in' }).waitFor();
		await shot(page, 'login');
		await page.getByLabel('Name', { exact: true }).fill(ADMIN);
		await page.getByLabel('Password').fill('wrong-password');
		await page.getByRole('button', { name: 'Log in' }).click();
		const err = page.locator('form.login .errbox');
		await err.waitFor();
		like(await err.textContent(), /bad name or password/,
		    'a wrong password is refused with the API\'s message');
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.locator('#who .role').waitFor();
		is(await page.locator('#who .name').textContent(), ADMIN,
		    'the header shows who is logged in');
		is(await page.locator('#who .role').textContent(), 'MRAO',
		    'the header shows the role');
		await page.locator('table.eps').waitFor();
		ok(await epRow(page, 'Default device endpoint').isVisible(),
		    'the SCEP page lists the endpoint made by scepd init');
	}, true);

	/* ---------------------------------------------------------- */
	await step('organizations and departments', async () => {
		await page.getByRole('link', { name: 'Organizations & ' +
		    'Departments' }).click();
		for (const name of [ORG, ORG2]) {
			await page.getByRole('button', { name: 'Add ' +
			    'organization' }).click();
			const d = dialog(page, 'add-org');
			await d.getByLabel('Organization name').fill(name);
			if (name === ORG)
				await shot(page, 'dialog-add-organization');
			await d.getByRole('button', { name: 'Save' }).click();
			await d.waitFor({ state: 'detached' });
			await page.getByRole('heading', { name, exact: true })
			    .waitFor();
		}
		ok(true, 'two organizations created in the console');
		await page.getByRole('button', { name: `Add department to ` +
		    `${ORG}` }).click();
		const d = dialog(page, 'add-dept');
		await d.getByLabel('Department name').fill(DEPT);
		await d.getByRole('button', { name: 'Save' }).click();
		await d.waitFor({ state: 'detached' });
		const sec = page.locator('section.card', { has:
		    page.getByRole('heading', { name: ORG, exact: true }) });
		await sec.getByRole('cell', { name: DEPT, exact: true }).waitFor();
		ok(true, 'a department created under the organization');
		/* The name already exists: the API's error shows next to
		 * the field. */
		await page.getByRole('button', { name: 'Add organization' })
		    .click();
		const d2 = dialog(page, 'add-org');
		await d2.getByLabel('Organization name').fill(ORG);
		await d2.getByRole('button', { name: 'Save' }).click();
		const fe = d2.locator('.field .err');
		await fe.waitFor();
		ok((await fe.textContent()).length > 0, 'a duplicate ' +
		    'organization name is refused next to the field');
		is(await d2.getByLabel('Organization name').getAttribute(
		    'aria-invalid'), 'true', 'the field is marked invalid for ' +
		    'screen readers');
		await page.keyboard.press('Escape');
		await d2.waitFor({ state: 'detached' });
		await shot(page, 'page-organizations');
		const orgs = await apiToken('GET', '/api/v1/organizations');
		ctx.org = orgs.json.items.find((o) => o.name === ORG);
		ctx.org2 = orgs.json.items.find((o) => o.name === ORG2);
		const depts = await apiToken('GET', '/api/v1/departments');
		ctx.dept = depts.json.items.find((x) => x.name === DEPT);
		ok(ctx.org && ctx.org2 && ctx.dept, 'the API has them too');
	}, true);

	/* ---------------------------------------------------------- */
	await step('create endpoint', async () => {
		await page.getByRole('link', { name: 'SCEP' }).click();
		await page.locator('table.eps').waitFor();
		await page.getByRole('button', { name: 'Add', exact: true })
		    .click();
		const d = dialog(page, 'create-endpoint');
		await d.waitFor();
		like(await d.getByRole('heading').first().textContent(),
		    /^Create Enrollment Endpoint$/, 'Add opens "Create ' +
		    'Enrollment Endpoint"');
		const types = await d.locator('fieldset.radios label')
		    .allTextContents();
		ok(['Client certificate SCEP', 'Device certificate SCEP',
		    'Client certificate Intune SCEP',
		    'Device certificate Intune SCEP'].every((t) =>
		    types.includes(t)), 'step 1 offers the four types', types);
		await d.getByRole('button', { name: 'Next' }).click();
		like(await d.locator('.field .err').first().textContent(),
		    /name/i, 'Next without a name: the error is shown at the ' +
		    'name field');
		await d.getByLabel('Name', { exact: true }).fill(EP);
		await d.getByLabel('Device certificate SCEP', { exact: true })
		    .check();
		await shot(page, 'dialog-create-endpoint-step1');
		await d.getByRole('button', { name: 'Next' }).click();
		const ext = d.getByLabel('URI extension');
		await ext.waitFor();
		is(await ext.inputValue(), 'console-devices', 'the URI ' +
		    'extension is proposed from the name');
		const live = d.locator('output.liveurl');
		is(await live.textContent(), `${env.public}/scep/console-devices`,
		    'the resulting URL is shown live');
		await d.locator('.extstatus', { hasText: 'free' }).waitFor();
		ok(true, 'the extension is checked for uniqueness (free)');
		await ext.fill('device');
		is(await live.textContent(), `${env.public}/scep/device`,
		    'the URL follows the typing');
		const extErr = ext.locator('xpath=..').locator('.err');
		await extErr.waitFor();
		like(await extErr.textContent(), /Already used by the endpoint "Default device endpoint"/, 'an extension in ' +
		    'use is reported next to the field');
		await ext.fill('bad/ext');
		await d.locator('.field .err', { hasText: 'letters' }).waitFor();
		ok(true, 'a character outside RFC 3986 unreserved is ' +
		    'refused at once');
		await ext.fill('console-devices');
		await d.locator('.extstatus', { hasText: 'free' }).waitFor();
		ok(await d.getByLabel('Organization').isHidden(), 'plain ' +
		    'SCEP: no organization field (accounts carry it)');
		await shot(page, 'dialog-create-endpoint-details');
		/* A server-side validation error lands next to its field,
		 * on its tab. */
		await d.getByLabel(/^Term/).fill('0');
		await d.getByRole('tab', { name: 'Configuration' }).click();
		await d.getByLabel(/^Legacy switch/).check();
		await shot(page, 'dialog-create-endpoint-configuration');
		await d.getByRole('button', { name: 'Create' }).click();
		const termErr = d.getByLabel(/^Term/).locator('xpath=..')
		    .locator('.err');
		await termErr.waitFor();
		like(await termErr.textContent(), /term_days/, 'the API\'s ' +
		    'error for term_days is shown next to the Term field');
		is(await d.getByRole('tab', { name: 'Details' }).getAttribute(
		    'aria-selected'), 'true', 'and its tab (Details) is ' +
		    'brought to the front');
		await d.getByLabel(/^Term/).fill('365');
		await d.getByRole('button', { name: 'Create' }).click();
		await d.waitFor({ state: 'detached' });
		const row = epRow(page, EP);
		await row.waitFor();
		const cells = await row.locator('td').allTextContents();
		like(cells[2], new RegExp(`${env.public}/scep/console-devices`),
		    'the new row shows its URL');
		is(cells[3], 'Device certificate SCEP', 'and its type');
		is(cells[4], 'General', 'and its delegation mode (General)');
		const eps = await apiToken('GET', '/api/v1/endpoints');
		ctx.ep = eps.json.items.find((e) => e.name === EP);
		ok(ctx.ep && ctx.ep.legacy === true && ctx.ep.type ===
		    'device', 'the endpoint exists with the legacy switch on',
		    ctx.ep);
		/* The URL scepd advertises (its public --url) ... */
		ctx.url = ctx.ep.url;
		is(ctx.url, `${env.public}/scep/console-devices`, 'the API ' +
		    'derives the same URL');
		/* ... and where this test reaches the same path. */
		ctx.local = env.url + new URL(ctx.url).pathname;
		ok(await row.locator('input[type=radio]').isChecked(),
		    'the new endpoint is selected');
	}, true);

	/* ---------------------------------------------------------- */
	await step('copy the URL', async () => {
		const row = epRow(page, EP);
		await row.getByRole('button', { name: `Copy the URL of ` +
		    `${EP}` }).click();
		const clip = await page.evaluate(() =>
		    navigator.clipboard.readText());
		is(clip, ctx.url, 'the copy button puts the URL on the ' +
		    'clipboard');
	});

	/* ---------------------------------------------------------- */
	await step('account and challenge', async () => {
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'Accounts' }).click();
		const d = dialog(page, 'accounts');
		await d.getByRole('button', { name: 'Add account' }).click();
		await d.getByLabel('Name', { exact: true }).fill('Lab devices');
		await d.getByLabel('Organization').selectOption({ label: ORG });
		await d.getByLabel('Department').selectOption({ label: DEPT });
		await shot(page, 'dialog-accounts-add');
		await d.getByRole('button', { name: 'Add account' }).click();
		const secret = d.locator('input.secret');
		await secret.waitFor();
		const shown = await secret.inputValue();
		like(shown, /^[A-Za-z0-9_-]{16,}$/, 'the new challenge is ' +
		    'shown once');
		await shot(page, 'dialog-accounts-challenge');
		await d.getByRole('button', { name: 'Copy the challenge' })
		    .click();
		ctx.challenge = await page.evaluate(() =>
		    navigator.clipboard.readText());
		is(ctx.challenge, shown, 'Copy puts the challenge on the ' +
		    'clipboard');
		await d.getByRole('button', { name: 'I have copied it' }).click();
		const arow = d.locator('tr[data-account="Lab devices"]');
		await arow.waitFor();
		const cells = await arow.locator('td').allTextContents();
		is(cells[1], `${ORG} / ${DEPT}`, 'the account list shows its ' +
		    'organization and department');
		is(cells[2], 'enabled', 'the account is enabled');
		await shot(page, 'dialog-accounts');
		/* A one-time challenge, minted and listed. */
		await arow.getByRole('button', { name: 'One-time challenges ' +
		    'of Lab devices' }).click();
		await d.getByRole('button', { name: 'Mint one-time ' +
		    'challenge' }).click();
		const otc = d.locator('input.secret');
		await otc.waitFor();
		ok((await otc.inputValue()).length >= 16, 'a one-time ' +
		    'challenge is minted and shown once');
		await d.getByRole('button', { name: 'I have copied it' }).click();
		await d.getByRole('cell', { name: 'unused' }).waitFor();
		ok(true, 'the one-time challenge is listed as unused');
		await d.getByRole('button', { name: 'Back to accounts' }).click();
		await d.locator('tr[data-account="Lab devices"]').waitFor();
		is((await unlabelled(d)).length, 0, 'every control of the ' +
		    'accounts dialog has a label');
		await d.getByRole('button', { name: 'Close' }).last().click();
		await d.waitFor({ state: 'detached' });
	}, true);

	/* ---------------------------------------------------------- */
	await step('a real SCEP client enrolls', async () => {
		if (!which('scepclient')) {
			skip('scepclient enrolls with the copied challenge',
			    'scepclient (Debian package scep) not installed');
			return;
		}
		const dir = path.join(env.work, 'scepclient');
		fs.mkdirSync(dir, { recursive: true });
		const r = spawnSync('timeout', ['60', 'scepclient',
		    '-server-url', ctx.local, '-private-key', 'key.pem',
		    '-certificate', 'cert.pem', '-challenge', ctx.challenge,
		    '-cn', 'console-device-1'], { cwd: dir, encoding: 'utf8' });
		ok(r.status === 0 && fs.existsSync(path.join(dir, 'cert.pem')),
		    'scepclient enrolls at the new endpoint with the challenge ' +
		    'copied from the dialog', `${r.stdout}\n${r.stderr}`);
		ctx.enrolled = r.status === 0;
		const certs = await apiToken('GET', `/api/v1/certificates?` +
		    `endpoint_id=${ctx.ep.id}`);
		ctx.cert = (certs.json.items || [])[0];
		ok(ctx.cert && ctx.cert.org_id === ctx.org.id &&
		    ctx.cert.dept_id === ctx.dept.id, 'the certificate records ' +
		    'the account\'s organization and department', certs.json);
	});

	/* ---------------------------------------------------------- */
	await step('endpoint audit', async () => {
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'View Audit' }).click();
		const d = dialog(page, 'endpoint-audit');
		await d.getByRole('heading', { name: 'Enrollment Endpoint ' +
		    'Audit' }).waitFor();
		await d.locator('tbody tr').first().waitFor();
		const enroll = d.locator('tbody tr[data-kind="enroll"]');
		if (ctx.enrolled) {
			await enroll.first().waitFor();
			const cells = await enroll.first().locator('td')
			    .allTextContents();
			is(cells[4], 'SUCCESS', 'the audit shows the enrollment ' +
			    'with result SUCCESS');
			is(cells[3], 'PKCSReq', 'as a PKCSReq');
		}
		const admin = d.locator('tbody tr[data-kind="admin"]');
		ok(await admin.count() >= 2, 'and the administrative ' +
		    'changes (endpoint.create, account.create)');
		if (ctx.enrolled)
			await enroll.first().scrollIntoViewIfNeeded();
		await shot(page, 'dialog-endpoint-audit');
		/* Filter: enrollment attempts only. */
		await d.getByLabel('Kind').selectOption('enroll');
		await d.getByRole('button', { name: 'Apply filters' }).click();
		await d.locator('tbody tr[data-kind="admin"]').first().waitFor({
		    state: 'detached' });
		ok(await d.locator('tbody tr[data-kind="admin"]').count() ===
		    0, 'the Kind filter leaves only enrollment attempts');
		/* Detail view. */
		if (ctx.enrolled) {
			await enroll.first().getByRole('button', { name:
			    /^Details of record/ }).click();
			const det = d.locator('dl.kv');
			await det.waitFor();
			const txt = await det.textContent();
			like(txt, /Transaction ID/, 'the detail view shows the ' +
			    'transaction ID');
			like(txt, new RegExp(ctx.cert ? ctx.cert.serial :
			    'Serial'), 'and the serial of the certificate');
			await shot(page, 'dialog-endpoint-audit-detail');
			await d.getByRole('button', { name: 'Back to the ' +
			    'records' }).click();
		}
		/* Downloads: CSV and JSON of what the filters select. */
		await d.getByLabel('Kind').selectOption('');
		await d.getByRole('button', { name: 'Apply filters' }).click();
		await d.locator('tbody tr[data-kind="admin"]').first().waitFor();
		const [dl] = await Promise.all([page.waitForEvent('download'),
		    d.getByRole('link', { name: 'Download CSV' }).click()]);
		is(dl.suggestedFilename(), 'audit.csv', 'Download CSV ' +
		    'saves audit.csv');
		const csvPath = path.join(env.work, 'audit.csv');
		await dl.saveAs(csvPath);
		const rows = parseCsv(fs.readFileSync(csvPath, 'utf8'));
		const head = rows[0];
		is(head.join(','), 'id,time,kind,actor,action,endpoint_id,' +
		    'account_id,org_id,dept_id,transid,client_addr,result,' +
		    'failinfo,reason,serial,details,hash', 'the CSV has the ' +
		    'audit header');
		const col = (r, k) => r[head.indexOf(k)];
		const data = rows.slice(1).filter((r) => r.length > 1);
		ok(data.length >= 2 && data.every((r) => col(r, 'endpoint_id')
		    === String(ctx.ep.id)), 'every CSV row belongs to this ' +
		    'endpoint', data.map((r) => col(r, 'endpoint_id')));
		ok(data.some((r) => col(r, 'action') === 'endpoint.create'),
		    'the CSV holds the endpoint.create record');
		if (ctx.enrolled) {
			const e = data.find((r) => col(r, 'kind') === 'enroll' &&
			    col(r, 'result') === 'SUCCESS');
			ok(Boolean(e), 'the CSV holds the successful enrollment');
			if (e) {
				is(col(e, 'org_id'), String(ctx.org.id), 'with the ' +
				    'account\'s organization');
				is(col(e, 'serial'), ctx.cert.serial, 'and the ' +
				    'serial of the issued certificate');
				like(col(e, 'hash'), /^[0-9a-fA-F]{64}$/, 'and its ' +
				    'chain hash');
			}
		}
		const [dj] = await Promise.all([page.waitForEvent('download'),
		    d.getByRole('link', { name: 'Download JSON' }).click()]);
		const jp = path.join(env.work, 'audit.json');
		await dj.saveAs(jp);
		const j = JSON.parse(fs.readFileSync(jp, 'utf8'));
		is(j.count, data.length, 'the JSON download has as many ' +
		    'records as the CSV');
		await d.getByRole('button', { name: 'Close' }).last().click();
		await d.waitFor({ state: 'detached' });
	});

	/* ---------------------------------------------------------- */
	await step('account: edit, disable, new challenge', async () => {
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'Accounts' }).click();
		const d = dialog(page, 'accounts');
		const arow = () => d.locator('tr[data-account="Lab devices"]');
		await arow().getByRole('button', { name: 'Edit Lab devices' })
		    .click();
		await d.getByLabel('Maximum enrollments').fill('10');
		await d.getByRole('button', { name: 'Save account' }).click();
		await arow().locator('td', { hasText: '/ 10' }).waitFor();
		is((await arow().locator('td').allTextContents())[3],
		    ctx.enrolled ? '1 / 10' : '0 / 10', 'Edit saves the ' +
		    'maximum, and the list counts the enrollments');
		await arow().getByRole('button', { name: 'Disable Lab ' +
		    'devices' }).click();
		await arow().getByRole('cell', { name: 'disabled' }).waitFor();
		const a1 = await apiToken('GET', `/api/v1/endpoints/` +
		    `${ctx.ep.id}/accounts`);
		is(a1.json.items[0].enabled, false, 'Disable turns the ' +
		    'account off in the server');
		await arow().getByRole('button', { name: 'Enable Lab ' +
		    'devices' }).click();
		await arow().getByRole('cell', { name: 'enabled' }).waitFor();
		ok(true, 'Enable turns it back on');
		await arow().getByRole('button', { name: 'New challenge for ' +
		    'Lab devices' }).click();
		const c = dialog(page, 'new-challenge');
		like(await c.textContent(), /stops working at once/, 'a new ' +
		    'challenge is confirmed first: the old one stops working');
		await c.getByRole('button', { name: 'Make a new challenge' })
		    .click();
		const secret = d.locator('input.secret');
		await secret.waitFor();
		const fresh = await secret.inputValue();
		ok(fresh.length >= 16 && fresh !== ctx.challenge, 'the new ' +
		    'challenge is shown once, and differs');
		await d.getByRole('button', { name: 'I have copied it' }).click();
		await arow().waitFor();
		await page.keyboard.press('Escape');
		await d.waitFor({ state: 'detached' });
	});

	/* ---------------------------------------------------------- */
	await step('delegate to the organization', async () => {
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'Delegate' }).click();
		const d = dialog(page, 'delegate-endpoint');
		await d.getByRole('heading', { name: 'Delegate Enrollment ' +
		    'Endpoint' }).waitFor();
		const orgBox = d.getByRole('checkbox', { name: /^Acme Corp/ });
		ok(await orgBox.isDisabled(), 'with General, the tree is ' +
		    'disabled');
		await d.getByLabel('Customized').check();
		ok(await orgBox.isEnabled(), 'Customized enables the tree of ' +
		    'organizations');
		ok(await d.getByRole('checkbox', { name: DEPT }).isVisible(),
		    'the tree shows the departments');
		await d.getByRole('button', { name: 'Save delegation' }).click();
		await d.locator('.err', { hasText: 'at least one' }).waitFor();
		ok(true, 'Customized without a target is refused in place');
		await orgBox.check();
		ok(await d.getByRole('checkbox', { name: DEPT }).isDisabled(),
		    'checking the organization implies its departments');
		await shot(page, 'dialog-delegate-endpoint');
		await d.getByRole('button', { name: 'Save delegation' }).click();
		await d.waitFor({ state: 'detached' });
		await page.locator('table.eps td', { hasText: `Customized: ` +
		    `${ORG}` }).waitFor();
		ok(true, 'the table shows "Customized: Acme Corp"');
		const r = await apiToken('GET', `/api/v1/endpoints/` +
		    `${ctx.ep.id}/delegation`);
		ok(r.json && r.json.delegation === 'customized' &&
		    r.json.targets.length === 1 && r.json.targets[0].org_id ===
		    ctx.org.id, 'the API has the delegation', r.json);
	});

	/* ---------------------------------------------------------- */
	await step('a second endpoint for Globex (edit dialog)', async () => {
		await gotoScep(page);
		await page.getByRole('button', { name: 'Add', exact: true })
		    .click();
		const d = dialog(page, 'create-endpoint');
		await d.getByLabel('Name', { exact: true }).fill(EP2);
		await d.getByLabel('Name', { exact: true }).press('Enter');
		await d.getByLabel('URI extension').waitFor();
		await d.getByRole('button', { name: 'Create' }).click();
		await d.waitFor({ state: 'detached' });
		await epRow(page, EP2).waitFor();
		await page.getByRole('button', { name: 'Delegate' }).click();
		const g = dialog(page, 'delegate-endpoint');
		await g.getByLabel('Customized').check();
		await g.getByRole('checkbox', { name: /^Globex/ }).check();
		await g.getByRole('button', { name: 'Save delegation' }).click();
		await g.waitFor({ state: 'detached' });
		await page.locator('table.eps td', { hasText: `Customized: ` +
		    `${ORG2}` }).waitFor();
		/* Edit: the same tabs, fixed fields read-only. */
		await selectEp(page, EP2);
		await page.getByRole('button', { name: 'Edit' }).click();
		const e = dialog(page, 'edit-endpoint');
		await e.getByRole('heading', { name: 'Edit Enrollment ' +
		    'Endpoint' }).waitFor();
		ok(await e.getByRole('tab', { name: 'Details' }).isVisible() &&
		    await e.getByRole('tab', { name: 'Configuration' })
		    .isVisible(), 'Edit has the Details and Configuration tabs');
		is(await e.getByLabel('URI extension').inputValue(),
		    'globex-devices', 'Edit shows the current values');
		await e.getByRole('tab', { name: 'Details' }).focus();
		await page.keyboard.press('ArrowRight');
		is(await e.getByRole('tab', { name: 'Configuration' })
		    .getAttribute('aria-selected'), 'true', 'arrow keys move ' +
		    'between the tabs');
		ok(await e.getByLabel('Issuing CA').isDisabled(), 'the CA ' +
		    'is read-only after creation');
		await e.getByLabel('Manual').check();
		await shot(page, 'dialog-edit-endpoint');
		await e.getByRole('button', { name: 'Save' }).click();
		await e.waitFor({ state: 'detached' });
		await epRow(page, EP2).locator('.badge', { hasText:
		    'manual approval' }).waitFor();
		ok(true, 'the edit is saved (manual approval shown)');
	});

	/* ---------------------------------------------------------- */
	await step('filter and group', async () => {
		await gotoScep(page);
		const rows = page.locator('table.eps tbody tr[data-id]');
		const names = async () => rows.locator('label.epname')
		    .allTextContents();
		is((await names()).length, 3, 'three endpoints listed');
		await page.getByLabel('Name contains').fill('devices');
		is((await names()).sort().join('|'), `${EP}|${EP2}`,
		    'name contains "devices"');
		await page.getByLabel('Delegation mode').selectOption(
		    'customized');
		await page.getByLabel('Organization', { exact: true })
		    .selectOption({ label: ORG });
		is((await names()).join('|'), EP, 'name + Customized + ' +
		    'organization combine');
		await page.getByLabel('Type').selectOption('client');
		is((await names()).length, 0, 'adding type Client leaves none');
		ok(await page.locator('td.empty').isVisible(), 'and says so');
		await page.getByLabel('Type').selectOption('device');
		await page.getByLabel('Organization', { exact: true })
		    .selectOption('');
		await page.getByLabel('Group by').selectOption('org');
		const heads = async () => page.locator('table.eps tr.group th')
		    .allTextContents();
		is((await heads()).join('|'), `${ORG} (1)|${ORG2} (1)`,
		    'grouped by organization with headers and counts');
		await shot(page, 'page-scep-filtered-grouped');
		await page.getByRole('button', { name: 'Refresh' }).click();
		await page.locator('.toast', { hasText: 'reloaded' }).waitFor();
		is((await heads()).join('|'), `${ORG} (1)|${ORG2} (1)`,
		    'Refresh keeps the grouping');
		is(await page.getByLabel('Name contains').inputValue(),
		    'devices', 'and the filter');
		await page.getByRole('button', { name: 'Clear filters' })
		    .click();
		await page.getByLabel('Group by').selectOption('type');
		is((await heads()).join('|'), 'Device certificate SCEP (3)',
		    'grouped by type');
		await page.getByLabel('Group by').selectOption('deleg');
		is((await heads()).join('|'), 'Customized (2)|General (1)',
		    'grouped by delegation mode');
		await page.getByLabel('Group by').selectOption('');
		await shot(page, 'page-scep');
	});

	/* ---------------------------------------------------------- */
	await step('pending request approved in the console', async () => {
		if (!which('scepclient')) {
			skip('manual approval with a real client',
			    'scepclient (Debian package scep) not installed');
			return;
		}
		const ep2 = (await apiToken('GET', '/api/v1/endpoints')).json
		    .items.find((e) => e.name === EP2);
		/* scepclient needs the legacy switch (DES). */
		await apiToken('PATCH', `/api/v1/endpoints/${ep2.id}`,
		    { legacy: true });
		const acct = await apiToken('POST', `/api/v1/endpoints/` +
		    `${ep2.id}/accounts`, { name: 'Globex MDM',
		    org_id: ctx.org2.id });
		ok(acct.status === 201, 'an account for the manual endpoint',
		    acct.json);
		const dir = path.join(env.work, 'pending');
		fs.mkdirSync(dir, { recursive: true });
		/* scepclient waits and retries on PENDING: run it in the
		 * background and stop it once the request is decided. */
		const child = spawnChild('timeout', ['90', 'scepclient',
		    '-server-url', env.url + new URL(ep2.url).pathname,
		    '-private-key', 'key.pem', '-certificate', 'cert.pem',
		    '-challenge', acct.json.challenge, '-cn', 'console-pending'],
		    { cwd: dir, stdio: 'ignore' });
		let req = null;
		for (let i = 0; i < 100 && !req; i++) {
			await page.waitForTimeout(200);
			const l = await apiToken('GET', '/api/v1/requests');
			req = (l.json.items || []).find((r) => r.endpoint_id ===
			    ep2.id);
		}
		if (!ok(Boolean(req), 'the enrollment waits for approval ' +
		    '(PENDING)')) {
			child.kill('SIGTERM');
			return;
		}
		await page.getByRole('link', { name: 'Pending requests' })
		    .click();
		const row = page.locator(`tr[data-request="${req.id}"]`);
		await row.waitFor();
		like(await row.textContent(), /CN=console-pending/, 'Pending ' +
		    'requests lists it with its subject');
		await shot(page, 'page-pending-requests');
		await row.getByRole('button', { name: /^Approve/ }).click();
		const d = dialog(page, 'approve-request');
		await shot(page, 'dialog-approve-request');
		await d.getByRole('button', { name: 'Approve and issue' })
		    .click();
		await row.waitFor({ state: 'detached' });
		const certs = await apiToken('GET', `/api/v1/certificates?` +
		    `endpoint_id=${ep2.id}`);
		ok((certs.json.items || []).some((c) => /console-pending/.test(
		    c.subject)), 'approving issues the certificate', certs.json);
		child.kill('SIGTERM');
		await page.getByRole('link', { name: 'SCEP' }).click();
		await page.locator('table.eps').waitFor();
	});

	/* ---------------------------------------------------------- */
	await step('Intune endpoint', async () => {
		await gotoScep(page);
		await page.getByRole('button', { name: 'Add', exact: true })
		    .click();
		const d = dialog(page, 'create-endpoint');
		await d.getByLabel('Name', { exact: true }).fill('Globex Intune');
		await d.getByLabel('Client certificate Intune SCEP').check();
		await d.getByRole('button', { name: 'Next' }).click();
		const org = d.getByLabel('Organization');
		ok(await org.isVisible(), 'Intune types ask for the ' +
		    'organization');
		await d.getByRole('tab', { name: 'Configuration' }).click();
		const az = d.getByLabel('Azure account');
		ok(!(await az.isDisabled()), 'the Azure account can be chosen ' +
		    '(azure.test.mjs connects one)');
		like(await d.locator('.help', { hasText: 'delegation covers ' +
		    'the endpoint' }).textContent(), /Azure Accounts page/,
		    'with where accounts come from next to it');
		await az.scrollIntoViewIfNeeded();
		await shot(page, 'dialog-create-endpoint-intune');
		await d.getByRole('button', { name: 'Create' }).click();
		const err = org.locator('xpath=..').locator('.err');
		await err.waitFor();
		is(await d.getByRole('tab', { name: 'Details' }).getAttribute(
		    'aria-selected'), 'true', 'a missing organization is ' +
		    'shown on the Details tab, next to the field');
		await org.selectOption({ label: ORG2 });
		await d.getByRole('button', { name: 'Create' }).click();
		await d.waitFor({ state: 'detached' });
		const row = epRow(page, 'Globex Intune');
		await row.waitFor();
		is((await row.locator('td').allTextContents())[3],
		    'Client certificate Intune SCEP', 'the table shows the ' +
		    'Intune type');
		await selectEp(page, 'Globex Intune');
		ok(await page.getByRole('button', { name: 'Accounts' })
		    .isDisabled(), 'Accounts is not offered for Intune ' +
		    'endpoints');
		await page.getByLabel('Group by').selectOption('org');
		const g = page.locator('tr.group', { hasText: ORG2 });
		like(await g.textContent(), /\(2\)/, 'grouped by ' +
		    'organization, the Intune endpoint is under its owner');
		await page.getByLabel('Group by').selectOption('');
	});

	/* ---------------------------------------------------------- */
	await step('audit paging', async () => {
		await gotoScep(page);
		const ep2 = (await apiToken('GET', '/api/v1/endpoints')).json
		    .items.find((e) => e.name === EP2);
		/* 30 more administrative changes: two pages of 25. */
		for (let i = 0; i < 30; i++)
			await apiToken('PATCH', `/api/v1/endpoints/${ep2.id}`,
			    { term_days: 300 + i });
		await selectEp(page, EP2);
		await page.getByRole('button', { name: 'View Audit' }).click();
		const d = dialog(page, 'endpoint-audit');
		await d.locator('tbody tr').first().waitFor();
		await d.getByLabel('Rows per page').selectOption('25');
		await d.getByRole('button', { name: 'Apply filters' }).click();
		await d.locator('.count', { hasText: 'Page 1: 25 records' })
		    .waitFor();
		const firstId = await d.locator('tbody tr').first().textContent();
		ok(await d.getByRole('button', { name: 'Next page' })
		    .isEnabled(), 'a full page offers the next one');
		ok(await d.getByRole('button', { name: 'Previous page' })
		    .isDisabled(), 'the first page has no previous one');
		await d.getByRole('button', { name: 'Next page' }).click();
		await d.locator('.count', { hasText: 'Page 2' }).waitFor();
		const n2 = await d.locator('tbody tr').count();
		ok(n2 >= 5, 'page 2 holds the rest', `${n2} rows`);
		await d.getByRole('button', { name: 'Previous page' }).click();
		await d.locator('.count', { hasText: 'Page 1' }).waitFor();
		is(await d.locator('tbody tr').first().textContent(), firstId,
		    'Previous page returns to the same first record');
		await d.getByLabel('Action').fill('endpoint.update');
		await d.getByRole('button', { name: 'Apply filters' }).click();
		/* The count line already said "Page 1: 25 records" before the
		 * filter: wait for the filtered rows themselves (at most 10 s). */
		let actions = [];
		for (let i = 0; i < 100; i++) {
			actions = await d.locator('tbody td[data-label=Action]')
			    .allTextContents();
			if (actions.length > 0 &&
			    actions.every((a) => a === 'endpoint.update'))
				break;
			await page.waitForTimeout(100);
		}
		ok(actions.every((a) => a === 'endpoint.update'), 'the Action ' +
		    'filter is applied', actions);
		await page.keyboard.press('Escape');
		await d.waitFor({ state: 'detached' });
	});

	/* ---------------------------------------------------------- */
	await step('RA certificates dialog', async () => {
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'SCEP RA ' +
		    'Certificates' }).click();
		const d = dialog(page, 'ra-certificates');
		await d.locator('tbody tr').first().waitFor();
		ok(await d.locator('tbody tr').count() >= 1, 'the RA ' +
		    'certificate of scepd init is listed');
		await shot(page, 'dialog-ra-certificates');
		await d.getByRole('button', { name: /^Details of RA/ }).first()
		    .click();
		const dl = d.locator('dl.kv');
		await dl.waitFor();
		like(await dl.textContent(), /SHA-256 fingerprint/,
		    'details show the fingerprints');
		const [pem] = await Promise.all([page.waitForEvent('download'),
		    d.getByRole('link', { name: 'PEM' }).click()]);
		const pp = path.join(env.work, 'ra.pem');
		await pem.saveAs(pp);
		like(fs.readFileSync(pp, 'utf8'), /^-----BEGIN CERTIFICATE-----/,
		    'Download PEM gives a PEM certificate');
		const [p7] = await Promise.all([page.waitForEvent('download'),
		    d.getByRole('link', { name: 'PKCS#7 chain' }).click()]);
		like(p7.suggestedFilename(), /\.p7b$/, 'Download PKCS#7 ' +
		    'gives a .p7b');
		await shot(page, 'dialog-ra-certificate-details');
		/* Create one (a long operation: progress is shown). */
		await d.getByRole('button', { name: 'Back to the list' }).click();
		await d.getByRole('button', { name: 'Create RA certificate' })
		    .click();
		await d.getByLabel('Subject').fill('CN=Console RA');
		await d.getByLabel('State').selectOption('next');
		const go = d.getByRole('button', { name: 'Create RA ' +
		    'certificate' });
		await go.click();
		await d.locator('td', { hasText: 'CN=Console RA' }).waitFor();
		ok(true, 'a new (staged) RA certificate is created and listed');
		/* Rollover, step 2: the active RA switches to the staged one. */
		const activeRow = d.locator('tbody tr', { has:
		    page.getByRole('cell', { name: 'active', exact: true }) });
		await activeRow.getByRole('button', { name: /^Details of RA/ })
		    .click();
		ok(await d.getByRole('button', { name: 'Roll over: stage ' +
		    'successor' }).isDisabled(), 'with a successor staged, ' +
		    'staging another is not offered');
		await d.getByRole('button', { name: 'Roll over: switch to the ' +
		    'successor' }).click();
		const sw = dialog(page, 'ra-switch');
		like(await sw.textContent(), /still decrypts/, 'the switch is ' +
		    'confirmed and says the old RA still decrypts');
		await sw.getByRole('button', { name: 'Switch' }).click();
		const consoleRa = d.locator('tbody tr', { hasText:
		    'CN=Console RA' });
		await consoleRa.getByRole('cell', { name: 'active',
		    exact: true }).waitFor();
		ok(true, 'after the switch the new RA certificate is active');
		ok(await d.getByRole('cell', { name: 'retired', exact: true })
		    .count() === 1, 'and the old one retired');
		const ras = (await apiToken('GET', '/api/v1/ras')).json.items;
		const nra = ras.find((r) => r.subject === 'CN=Console RA');
		const eps = (await apiToken('GET', '/api/v1/endpoints')).json
		    .items;
		ok(eps.every((e) => !e.ra_id || e.ra_id === nra.id),
		    'every endpoint moved to the new RA', eps.map((e) =>
		    e.ra_id));
		await d.getByRole('button', { name: 'Close' }).last().click();
	});

	/* ---------------------------------------------------------- */
	await step('role journey: RAO', async () => {
		await page.getByRole('link', { name: 'Administrators' }).click();
		await page.getByRole('button', { name: 'Add administrator' })
		    .click();
		const d = dialog(page, 'add-admin');
		await d.getByLabel('Name', { exact: true }).fill(RAO);
		await d.getByLabel('Role').selectOption('RAO');
		await d.getByLabel('Client certificates').uncheck();
		await d.getByLabel('Device certificates').check();
		await d.getByRole('checkbox', { name: ORG }).check();
		await d.getByLabel('Password').fill(RAO_PW);
		await shot(page, 'dialog-add-administrator');
		await d.getByRole('button', { name: 'Add administrator' })
		    .click();
		await d.waitFor({ state: 'detached' });
		await page.locator(`tr[data-admin="${RAO}"]`).waitFor();
		ok(true, 'an RAO of Acme Corp (device) is created in the ' +
		    'console');
		await shot(page, 'page-administrators');

		const rb = await browser({ width: 1280, height: 800 });
		const rp = rb.page;
		await login(rp, RAO, RAO_PW);
		is(await rp.locator('#who .role').textContent(), 'RAO',
		    'the RAO is logged in as RAO');
		await rp.locator('table.eps').waitFor();
		const names = (await rp.locator('table.eps label.epname')
		    .allTextContents()).sort();
		is(names.join('|'), `${EP}|Default device endpoint`,
		    'the RAO sees its delegated endpoint and the General one, ' +
		    'not Globex\'s');
		ok(await rp.getByRole('button', { name: 'SCEP RA ' +
		    'Certificates' }).isHidden(), 'no RA certificates control ' +
		    'for an RAO');
		await selectEp(rp, 'Default device endpoint');
		ok(await rp.getByRole('button', { name: 'Edit' }).isDisabled() &&
		    await rp.getByRole('button', { name: 'Delete' })
		    .isDisabled(), 'a General endpoint cannot be edited or ' +
		    'deleted by an RAO');
		await selectEp(rp, EP);
		ok(await rp.getByRole('button', { name: 'Edit' }).isEnabled(),
		    'its own delegated endpoint can be edited');
		const orgOpts = await rp.getByLabel('Organization',
		    { exact: true }).locator('option').allTextContents();
		is(orgOpts.join('|'), `Any organization|${ORG}`, 'the ' +
		    'organization filter offers only its organization');
		await rp.getByRole('button', { name: 'Add', exact: true })
		    .click();
		const cd = dialog(rp, 'create-endpoint');
		const types = await cd.locator('fieldset.radios label')
		    .allTextContents();
		ok(!types.some((t) => /^Client/.test(t)), 'only the ' +
		    'certificate types it holds are offered', types);
		await cd.getByLabel('Name', { exact: true }).fill('Acme lab');
		await cd.getByRole('button', { name: 'Next' }).click();
		const targets = await cd.locator('fieldset', { hasText:
		    'Delegated to' }).locator('label').allTextContents();
		is(targets.join('|'), ORG, 'Add offers only its own ' +
		    'organization: none for other organizations');
		await shot(rp, 'dialog-create-endpoint-rao');
		await cd.getByRole('button', { name: 'Create' }).click();
		await cd.waitFor({ state: 'detached' });
		await epRow(rp, 'Acme lab').waitFor();
		ok(true, 'the RAO creates an endpoint delegated to its ' +
		    'organization');
		await shot(rp, 'page-scep-rao');
		await rp.getByRole('link', { name: 'Organizations & ' +
		    'Departments' }).click();
		await rp.getByRole('heading', { name: ORG, exact: true })
		    .waitFor();
		ok(await rp.getByRole('button', { name: 'Add organization' })
		    .isHidden(), 'no Add organization for an RAO');
		ok(await rp.getByRole('heading', { name: ORG2 }).count() === 0,
		    'the other organization does not exist for the RAO');
		ok(await rp.getByRole('button', { name: `Add department to ` +
		    `${ORG}` }).isVisible(), 'it may add departments to its ' +
		    'own organization');
		ok(rb.problems.length === 0, 'no script error or CSP ' +
		    'violation in the RAO\'s session', rb.problems);
		const status = await rp.evaluate(async (id) => (await fetch(
		    `/api/v1/endpoints/${id}`)).status, (await apiToken('GET',
		    '/api/v1/endpoints')).json.items.find((e) => e.name ===
		    EP2).id);
		is(status, 404, 'the server hides Globex\'s endpoint from the ' +
		    'RAO as well (404)');
		await closeBrowser(rb);
	});

	/* ---------------------------------------------------------- */
	await step('text is text, CSRF, supporting pages', async () => {
		/* An organization name that would be markup. */
		const evil = '<img src=x onerror=alert(1)>';
		const r = await apiToken('POST', '/api/v1/organizations',
		    { name: evil });
		is(r.status, 201, 'an organization with markup in its name');
		await page.getByRole('link', { name: 'Organizations & ' +
		    'Departments' }).click();
		await page.getByRole('heading', { name: evil }).waitFor();
		is(await page.locator('main img').count(), 0, 'API text is ' +
		    'shown as text, never parsed as HTML');
		await apiToken('DELETE', `/api/v1/organizations/` +
		    `${r.json.id}`);
		const st = await page.evaluate(async () => (await fetch(
		    '/api/v1/organizations', { method: 'POST', headers:
		    { 'Content-Type': 'application/json' }, body:
		    JSON.stringify({ name: 'no-csrf' }) })).status);
		is(st, 403, 'a change without the CSRF token is refused');
		await page.getByRole('link', { name: 'Certificates' }).click();
		await page.locator('main table').waitFor();
		if (ctx.cert) {
			await page.locator(`tr[data-serial="${ctx.cert.serial}"]`)
			    .waitFor();
			ok(true, 'Certificates lists the enrolled certificate');
			await page.getByLabel('Subject contains').fill(
			    'console-device-1');
			await page.getByRole('button', { name: 'Search' }).click();
			await page.locator('.count', { hasText: /^1 certificate$/ })
			    .waitFor();
			is(await page.locator('main tbody tr').count(), 1,
			    'searching by subject finds exactly it');
			await page.getByLabel('Status').selectOption('revoked');
			await page.getByRole('button', { name: 'Search' }).click();
			await page.locator('.count', { hasText: 'No certificates' })
			    .waitFor();
			ok(true, 'and status "revoked" finds nothing yet');
			await page.getByLabel('Status').selectOption('');
			await page.getByRole('button', { name: 'Search' }).click();
			await page.locator('.count', { hasText: /^1 certificate$/ })
			    .waitFor();
			await shot(page, 'page-certificates');
			await page.getByRole('button', { name: `View ` +
			    `${ctx.cert.serial}` }).click();
			const cd = dialog(page, 'certificate');
			await cd.locator('dl.kv').waitFor();
			like(await cd.locator('dl.kv').textContent(),
			    /CN=console-device-1/, 'the certificate view shows ' +
			    'its subject');
			await shot(page, 'dialog-certificate');
			await cd.getByRole('button', { name: 'Close' }).last()
			    .click();
			await page.getByRole('button', { name: `Revoke ` +
			    `${ctx.cert.serial}` }).click();
			const rd = dialog(page, 'revoke-certificate');
			await rd.getByLabel(/^Reason/).selectOption(
			    'superseded');
			await shot(page, 'dialog-revoke-certificate');
			await rd.getByRole('button', { name: 'Revoke' }).click();
			await rd.waitFor({ state: 'detached' });
			await page.locator(`tr[data-serial="${ctx.cert.serial}"]`
			    + ' td', { hasText: 'revoked' }).waitFor();
			ok(true, 'the certificate is revoked from the console');
		} else {
			skip('certificates page', 'no certificate was issued');
		}
		await page.getByRole('link', { name: 'Pending requests' })
		    .click();
		await page.getByRole('heading', { name: 'Pending requests' })
		    .waitFor();
		ok(await page.getByText('No requests are waiting').isVisible(),
		    'no request is left waiting');
		await page.getByRole('link', { name: 'Azure Accounts' }).click();
		await page.getByText('No Azure accounts yet').waitFor();
		ok(await page.getByRole('button', { name: 'Add Azure ' +
		    'account' }).isEnabled(), 'Azure accounts: an MRAO may add ' +
		    'one (azure.test.mjs does)');
	});

	/* ---------------------------------------------------------- */
	await step('keyboard', async () => {
		await page.getByRole('link', { name: 'SCEP' }).click();
		await epRow(page, EP).waitFor();
		const add = page.getByRole('button', { name: 'Add',
		    exact: true });
		await add.focus();
		await page.keyboard.press('Enter');
		const d = dialog(page, 'create-endpoint');
		await d.waitFor();
		is(await page.evaluate(() => document.activeElement.id ===
		    document.querySelector('dialog[open] input[name=name]').id),
		    true, 'the dialog opens with focus on its first field');
		await page.keyboard.press('Escape');
		await d.waitFor({ state: 'detached' });
		is(await page.evaluate(() => document.activeElement
		    .textContent), 'Add', 'Escape closes it and focus returns ' +
		    'to Add');
		const radios = page.locator('table.eps input[type=radio]');
		await radios.first().focus();
		await page.keyboard.press('Space');
		const first = await page.locator('table.eps tr.selected')
		    .getAttribute('data-id');
		await page.keyboard.press('ArrowDown');
		const second = await page.locator('table.eps tr.selected')
		    .getAttribute('data-id');
		ok(first && second && first !== second, 'arrow keys move the ' +
		    'row selection');
		is(await page.locator('table.eps tr.selected input[type=radio]')
		    .getAttribute('aria-label'), `Select ${await page.locator(
		    'table.eps tr.selected label.epname').textContent()}`,
		    'the selection is a labelled radio button (what a screen ' +
		    'reader announces)');
		ok(await page.locator('table.eps tr.selected input[type=radio]')
		    .isChecked(), 'and it is checked');
		is((await unlabelled(page.locator('main'))).length, 0,
		    'every control of the SCEP page has a label');
	});

	/* ---------------------------------------------------------- */
	await step('delete the endpoint', async () => {
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'Delete' }).click();
		const d = dialog(page, 'delete-endpoint');
		const txt = await d.textContent();
		like(txt, /not revoked/, 'Delete says issued certificates are ' +
		    'not revoked');
		like(txt, /stops at once/, 'and that enrollment stops at once');
		is(await page.evaluate(() => document.activeElement
		    .textContent), 'Cancel', 'the safe choice has the focus');
		await shot(page, 'dialog-delete-endpoint');
		const before = await fetch(`${ctx.local}?operation=GetCACaps`);
		is(before.status, 200, 'before: the endpoint URL answers');
		await d.getByRole('button', { name: 'Delete endpoint' }).click();
		await d.waitFor({ state: 'detached' });
		await epRow(page, EP).waitFor({ state: 'detached' });
		ok(true, 'the endpoint is gone from the table');
		const after = await fetch(`${ctx.local}?operation=GetCACaps`);
		is(after.status, 404, 'its URL stops answering (404)');
		if (ctx.cert) {
			const c = await apiToken('GET', `/api/v1/certificates/` +
			    `${ctx.cert.serial}`);
			is(c.status, 200, 'its certificate is still on record');
		}
	});

	/* ---------------------------------------------------------- */
	await step('phone', async () => {
		const pb = await browser({ width: 390, height: 844 });
		const pp = pb.page;
		await login(pp, ADMIN, PASSWORD);
		await pp.locator('table.eps').waitFor();
		const w = await pp.evaluate(() =>
		    document.documentElement.scrollWidth);
		ok(w <= 390, 'the SCEP page fits a 390 px phone (no ' +
		    'sideways scrolling)', `scrollWidth ${w}`);
		ok(await pp.locator('#nav').isHidden(), 'the menu is folded ' +
		    'on a phone');
		await shot(pp, 'phone-scep');
		await pp.getByRole('button', { name: 'Menu' }).click();
		ok(await pp.locator('#nav').isVisible(), 'Menu opens it');
		is(await pp.getByRole('button', { name: 'Menu' }).getAttribute(
		    'aria-expanded'), 'true', 'and says so (aria-expanded)');
		await shot(pp, 'phone-menu');
		await pp.getByRole('button', { name: 'Menu' }).click();
		await pp.getByRole('button', { name: 'Add', exact: true })
		    .click();
		const d = dialog(pp, 'create-endpoint');
		await d.getByLabel('Name', { exact: true }).fill('Phone test');
		await d.getByRole('button', { name: 'Next' }).click();
		await d.getByLabel('URI extension').waitFor();
		const dw = await pp.evaluate(() =>
		    document.querySelector('dialog[open]').scrollWidth);
		ok(dw <= 390, 'the endpoint dialog fits the phone',
		    `scrollWidth ${dw}`);
		await shot(pp, 'phone-dialog-create-endpoint');
		await pp.keyboard.press('Escape');
		ok(pb.problems.length === 0, 'no script error or CSP ' +
		    'violation on the phone', pb.problems);
		await closeBrowser(pb);
	});

	/* ---------------------------------------------------------- */
	await step('session end and logout', async () => {
		await b.ctx.clearCookies();
		await page.getByRole('link', { name: 'SCEP' }).click();
		await page.getByRole('button', { name: 'Refresh' }).click();
		await page.locator('form.login .notice').waitFor();
		like(await page.locator('form.login .notice').textContent(),
		    /session has expired or was ended/, 'when the session ends ' +
		    'the console asks to log in again');
		await page.getByLabel('Name', { exact: true }).fill(ADMIN);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.locator('#who .role').waitFor();
		await page.getByRole('button', { name: 'Log out' }).click();
		await page.locator('form.login .notice', { hasText:
		    'logged out' }).waitFor();
		const st = await page.evaluate(async () => (await fetch(
		    '/api/v1/me')).status);
		is(st, 401, 'after Log out the session no longer works');
	});

	const bad = b.problems.filter((p) => !/401|403|404|409|400/.test(p));
	ok(bad.length === 0, 'no script error or CSP violation in the ' +
	    'MRAO\'s session', b.problems);
	if (b.problems.length)
		diag(`expected HTTP errors seen by the browser:\n` +
		    b.problems.join('\n'));
	await closeBrowser(b);
}

try {
	await main();
} catch (e) {
	diag(e && e.stack ? e.stack : String(e));
} finally {
	stopChildren();
}
process.exitCode = done() ? 1 : 0;
