/*
 * azure.js -- Azure Accounts (for Intune SCEP endpoints).  The REST API
 * of this scepd has no Azure accounts yet (they come with the Intune
 * issue), so this page says so instead of pretending: nothing here can
 * be created, and the Intune fields of the endpoint dialog stay disabled.
 */
import { h, replace } from './dom.js';

export async function render(main)
{
	const add = h('button', { type: 'button', class: 'primary',
	    text: 'Add Azure account', disabled: true,
	    'aria-describedby': 'azure-why' });
	replace(main, h('div', { class: 'pagehead' },
	    h('h1', { text: 'Azure Accounts' })),
	    h('div', { class: 'toolbar' }, add),
	    h('section', { class: 'card', id: 'azure-why' },
	    h('h2', { text: 'Not available yet' }),
	    h('p', { text: 'Intune SCEP endpoints check every request with ' +
	    'Microsoft Intune, which needs an Azure account (tenant, ' +
	    'application ID and credential).  This version of scepd has no ' +
	    'Azure accounts in its REST API, so they cannot be managed ' +
	    'here yet.' }),
	    h('p', { text: 'You can still create Client and Device ' +
	    'certificate Intune SCEP endpoints with their organization and ' +
	    'department; their Azure account field stays disabled until ' +
	    'the API supports it.' })));
}
