/*
 * azure.test.mjs -- Integrations -> Azure Accounts in a real browser
 * (issue 5), against the scepd run.sh started and the Entra ID / Graph /
 * Intune stand-in (tests/intune/standin.py, TLS with its own CA) that this
 * file starts.  Journey: add an account pointing at the stand-in with its
 * CA bundle; Test connection passes, step by step; rotate to a wrong
 * secret and Test connection shows Entra ID's AADSTS7000215; fix it
 * through Edit; connect an Intune endpoint to the account in the Edit
 * Enrollment Endpoint dialog; a device the stand-in refuses
 * (ChallengeExpired) and the endpoint's audit record showing why; delete
 * refused while in use.  The secrets
 * are never in the page.  Screenshots go to docs/screenshots.  TAP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ok, is, like, step, onFailure, done, env, browser, closeBrowser,
    shot, apiToken, login, dialog, selectEp, gotoScep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECRET = 'standin-secret';
const WRONG = 'not-the-secret-4711';
const ACCOUNT = 'Contoso tenant';
const ORG = 'Contoso';
const EP = 'Contoso Intune devices';

let standin = null;
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'])
	process.on(sig, () => {
		console.log(`Bail out! ${sig}`);
		if (standin)
			standin.kill('SIGTERM');
		process.exit(1);
	});

async function startStandin()
{
	const dir = path.join(env.work, 'standin');
	fs.mkdirSync(dir, { recursive: true });
	standin = spawn('python3', [path.join(here, '..', 'intune',
	    'standin.py'), '--dir', dir, '--exit-with-parent'],
	    { stdio: 'ignore' });
	const info = path.join(dir, 'standin.json');
	for (let i = 0; i < 300; i++) {
		if (fs.existsSync(info))
			return JSON.parse(fs.readFileSync(info, 'utf8'));
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error('the stand-in did not start');
}

async function main()
{
	const st = await startStandin();
	const b = await browser({ width: 1280, height: 900 });
	const page = b.page;
	onFailure(async () => {
		await page.evaluate(() => {
			for (const d of document.querySelectorAll('dialog[open]'))
				d.close();
		});
	});
	let acct = null;

	await step('login', async () => {
		await login(page, env.init.admin_user, env.init.admin_password);
		await page.locator('table.eps').waitFor();
	}, true);

	await step('add an Azure account', async () => {
		const nav = page.getByRole('link', { name: 'Azure Accounts' });
		is((await nav.textContent()).trim(),
		    'Integrations \u203a Azure Accounts',
		    'the page sits under Integrations in the navigation');
		await nav.click();
		await page.getByText('No Azure accounts yet').waitFor();
		await page.getByRole('button', { name: 'Add Azure account' })
		    .click();
		const d = dialog(page, 'add-azure');
		await d.getByLabel('Name', { exact: true }).fill(ACCOUNT);
		await d.getByLabel('Environment').selectOption('custom');
		await d.getByLabel('Directory (tenant) ID').fill(
		    'contoso.onmicrosoft.com');
		await d.getByLabel('Application (client) ID').fill(
		    '11111111-1111-1111-1111-111111111111');
		await d.getByLabel('Client secret').fill(SECRET);
		await d.getByLabel('Authority URL').fill(st.base);
		await d.getByLabel('Microsoft Graph URL').fill(st.base);
		await d.getByLabel('Intune resource URL').fill(
		    'https://api.manage.microsoft.com/');
		await d.getByLabel('Graph scope').fill(
		    'https://graph.microsoft.com/.default');
		await d.getByLabel(/CA bundle/).fill(st.ca);
		await shot(page, 'dialog-add-azure-account');
		await d.getByRole('button', { name: 'Add', exact: true })
		    .click();
		await d.waitFor({ state: 'detached' });
		const row = page.locator('#azure-table tbody tr',
		    { hasText: ACCOUNT });
		await row.waitFor();
		ok(await row.isVisible(), 'the new account is listed');
		const html = await page.content();
		ok(!html.includes(SECRET), 'the secret is nowhere in the page');
		const r = await apiToken('GET', '/api/v1/azure-accounts');
		acct = r.json.items.find((x) => x.name === ACCOUNT);
		is(acct && acct.environment, 'custom', 'saved with the custom ' +
		    'environment and the stand-in\'s URLs');
		await shot(page, 'page-azure-accounts');
	});

	const testConn = async (expectOk, shotName) => {
		await page.getByRole('button', { name: `Test connection: ` +
		    `${ACCOUNT}` }).click();
		const d = dialog(page, 'test-azure');
		const res = d.locator('[data-result]');
		await res.waitFor({ timeout: 30000 });
		is(await res.getAttribute('data-result'), expectOk ? 'ok' :
		    'failed', `Test connection: ${expectOk ? 'passes' :
		    'fails'}`);
		const text = await d.textContent();
		if (shotName)
			await shot(page, shotName);
		await d.locator('.dlg-foot').getByRole('button',
		    { name: 'Close' }).click();
		await d.waitFor({ state: 'detached' });
		return text;
	};

	await step('Test connection', async () => {
		const text = await testConn(true, 'dialog-azure-test-ok');
		like(text, /Token for Microsoft Graph\s*Passed/, 'each step is ' +
		    'shown: Graph token');
		like(text, /Intune service discovery\s*Passed/, 'discovery');
		like(text, /Token for Intune\s*Passed/, 'Intune token');
	});

	await step('rotate to a wrong secret', async () => {
		await page.getByRole('button', { name: `Rotate secret: ` +
		    `${ACCOUNT}` }).click();
		const d = dialog(page, 'rotate-azure');
		await d.getByLabel('New client secret').fill(WRONG);
		await d.getByRole('button', { name: 'Rotate' }).click();
		await d.waitFor({ state: 'detached' });
		const text = await testConn(false, 'dialog-azure-test-failed');
		like(text, /AADSTS7000215/, 'the failure names Entra ID\'s ' +
		    'code (invalid client secret)');
		like(text, /Token for Microsoft Graph\s*Failed/, 'at the first ' +
		    'step');
		ok(!(await page.content()).includes(WRONG), 'the rotated ' +
		    'secret is not in the page');
	});

	await step('edit: the right secret again', async () => {
		await page.getByRole('button', { name: `Edit: ${ACCOUNT}` })
		    .click();
		const d = dialog(page, 'edit-azure');
		is(await d.getByLabel('Client secret').inputValue(), '',
		    'the secret field starts empty (never shown)');
		await d.getByLabel('Client secret').fill(SECRET);
		await shot(page, 'dialog-edit-azure-account');
		await d.getByRole('button', { name: 'Save' }).click();
		await d.waitFor({ state: 'detached' });
		await testConn(true);
	});

	let epId = 0;
	await step('an Intune endpoint uses the account', async () => {
		const org = await apiToken('POST', '/api/v1/organizations',
		    { name: ORG });
		const cas = await apiToken('GET', '/api/v1/cas');
		const ep = await apiToken('POST', '/api/v1/endpoints', {
			name: EP, uri_ext: 'contoso-intune',
			type: 'device-intune', ca_id: cas.json.items[0].id,
			org_id: org.json.id, delegation: 'general',
			legacy: true });	/* scepclient sends DES */
		is(ep.status, 201, 'an Intune endpoint without an account');
		epId = ep.json.id;
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'Edit', exact: true })
		    .click();
		const d = dialog(page, 'edit-endpoint');
		await d.getByRole('tab', { name: 'Configuration' }).click();
		const az = d.getByLabel('Azure account');
		await az.selectOption({ label: ACCOUNT });
		const wait = d.getByLabel(/Wait for the success notification/);
		ok(await wait.isChecked(), 'waiting for the success ' +
		    'notification is on by default (fail closed)');
		await wait.uncheck();
		await az.scrollIntoViewIfNeeded();
		await shot(page, 'dialog-edit-endpoint-intune');
		await d.getByRole('button', { name: 'Save' }).click();
		await d.waitFor({ state: 'detached' });
		const r = await apiToken('GET', `/api/v1/endpoints/${epId}`);
		is(r.json.azure_account_id, acct.id, 'the endpoint is ' +
		    'connected to the account');
		is(r.json.wait_success, false, 'and does not wait');
	});

	await step('the audit says why Intune refused a device', async () => {
		/* scepclient (Debian package scep) with a challenge the
		 * stand-in answers "ChallengeExpired". */
		const dir = path.join(env.work, 'scepclient');
		fs.mkdirSync(dir, { recursive: true });
		const r = spawnSync('timeout', ['60', 'scepclient',
		    '-server-url', `${env.url}/scep/contoso-intune`,
		    '-private-key', 'key.pem', '-certificate', 'cert.pem',
		    '-challenge', 'STANDIN-ERR-ChallengeExpired/console1',
		    '-cn', 'intune-device-1'], { cwd: dir, encoding: 'utf8' });
		ok(r.status !== 0 && !fs.existsSync(path.join(dir, 'cert.pem')),
		    'the device is refused', `${r.stdout}\n${r.stderr}`);
		await gotoScep(page);
		await selectEp(page, EP);
		await page.getByRole('button', { name: 'View Audit' }).click();
		const d = dialog(page, 'endpoint-audit');
		const enroll = d.locator('tbody tr[data-kind="enroll"]');
		await enroll.first().waitFor();
		await enroll.first().getByRole('button', { name:
		    /^Details of record/ }).click();
		const sec = d.locator('section.intune');
		await sec.waitFor();
		const txt = await sec.textContent();
		like(txt, /Intune code ChallengeExpired/, 'the record shows ' +
		    'Intune\'s code, readably', txt);
		like(txt, /Why refused/, 'and why the device was refused');
		like(txt, new RegExp(`Azure account\\s*${ACCOUNT} \\(id ` +
		    `${acct.id}\\)`), 'and the Azure account by name and id',
		    txt);
		await shot(page, 'dialog-endpoint-audit-intune');
		await d.locator('.dlg-head').getByRole('button',
		    { name: 'Close' }).click();
	});

	await step('delete refused while in use', async () => {
		await page.getByRole('link', { name: 'Azure Accounts' }).click();
		await page.getByRole('button', { name: `Delete: ${ACCOUNT}` })
		    .click();
		const d = dialog(page, 'delete-azure');
		await d.getByRole('button', { name: 'Delete' }).click();
		await page.locator('#toasts', { hasText: 'Intune endpoint ' +
		    'uses' }).waitFor();
		ok(true, 'the console says why the delete was refused');
		const r = await apiToken('GET',
		    `/api/v1/azure-accounts/${acct.id}`);
		is(r.status, 200, 'the account is still there');
	});

	/* The refused delete is an expected 409 in the browser's log. */
	const bad = b.problems.filter((p) => !/409/.test(p));
	ok(bad.length === 0, 'no script error or CSP violation', b.problems);
	await closeBrowser(b);
	standin.kill('SIGTERM');
	return done();
}

main().then((f) => process.exit(f ? 1 : 0), (e) => {
	console.log(`Bail out! ${e && e.stack ? e.stack : e}`);
	if (standin)
		standin.kill('SIGTERM');
	process.exit(1);
});
