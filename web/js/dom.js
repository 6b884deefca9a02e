/*
 * dom.js -- the only way the console builds its page: elements are made
 * with document.createElement and text is always inserted as text
 * (textContent / text nodes), never parsed as HTML (issue 4).  The CSP
 * forbids inline scripts and style attributes, so presentation is done
 * with classes and the "hidden" attribute only.
 */

let uid = 0;

/* A fresh id for label/aria wiring. */
export function newId(prefix)
{
	uid += 1;
	return `${prefix || 'id'}-${uid}`;
}

/*
 * h(tag, attrs, ...children): an element.  attrs: "class", "text"
 * (textContent), "on<event>" (listener functions), "dataset" (object),
 * booleans (set when true), everything else as an attribute.  Children
 * are nodes or strings (strings become text nodes); null/false are
 * skipped; arrays are flattened.
 */
export function h(tag, attrs, ...children)
{
	const el = document.createElement(tag);

	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k === 'class')
			el.className = v;
		else if (k === 'text')
			el.textContent = String(v);
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'value')
			el.value = v;
		else if (k === 'checked' || k === 'selected' ||
		    k === 'disabled' || k === 'readOnly' || k === 'required')
			el[k] = Boolean(v);
		else if (v === true)
			el.setAttribute(k, '');
		else
			el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

/* Append children (nodes, strings, arrays, null) to el. */
export function append(el, children)
{
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		el.append(c instanceof Node ? c : document.createTextNode(
		    String(c)));
	}
	return el;
}

/* Remove every child of el. */
export function clear(el)
{
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

/* Replace the children of el. */
export function replace(el, ...children)
{
	clear(el);
	return append(el, children);
}

/* ---- announcements (a polite live region) ---- */

/* Show a short message in the status area; screen readers read it. */
export function toast(msg, kind)
{
	const box = document.getElementById('toasts');
	const t = h('div', { class: `toast ${kind || 'info'}`, text: msg });

	if (box === null)
		return;
	box.append(t);
	setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/* ---- copy to clipboard ---- */

export async function copyText(text)
{
	try {
		await navigator.clipboard.writeText(text);
		return true;
	} catch (e) {
		/* Clipboard API refused (no permission, not focused):
		 * fall back to a selected, off-screen text area. */
		const ta = h('textarea', { class: 'offscreen', readonly: true,
		    'aria-hidden': 'true' });

		ta.value = text;
		document.body.append(ta);
		ta.select();
		let ok = false;
		try {
			ok = document.execCommand('copy');
		} catch (e2) {
			ok = false;
		}
		ta.remove();
		return ok;
	}
}

/* A button that copies getText() and says so. */
export function copyButton(getText, label)
{
	const b = h('button', { type: 'button', class: 'copy',
	    'aria-label': label || 'Copy', title: label || 'Copy',
	    text: 'Copy' });

	b.addEventListener('click', async (ev) => {
		ev.stopPropagation();
		const ok = await copyText(getText());
		b.textContent = ok ? 'Copied' : 'Copy failed';
		toast(ok ? 'Copied to the clipboard' :
		    'Could not copy: select the text and copy it by hand',
		    ok ? 'info' : 'error');
		setTimeout(() => { b.textContent = 'Copy'; }, 2000);
	});
	return b;
}

/* ---- form fields ---- */

/*
 * One labelled form control with its help text and an error slot right
 * under it (errors from the API are shown next to the field they
 * concern).  opts: label, name, type (text, number, password, select,
 * checkbox, textarea, date, datetime-local), value, options
 * ([[value, text], ...] for select), help, required, disabled, readOnly,
 * min, max, placeholder, autocomplete.
 * Returns { wrap, input, error, set(msg), clear() }.
 */
export function field(opts)
{
	const id = newId(`f-${opts.name || 'x'}`);
	const helpId = `${id}-help`, errId = `${id}-err`;
	const type = opts.type || 'text';
	let input;

	if (type === 'select') {
		input = h('select', { id, name: opts.name });
		for (const [v, t] of opts.options || [])
			input.append(h('option', { value: String(v), text: t }));
		if (opts.value !== undefined && opts.value !== null)
			input.value = String(opts.value);
	} else if (type === 'textarea') {
		input = h('textarea', { id, name: opts.name, rows: opts.rows ||
		    3 });
		input.value = opts.value ?? '';
	} else {
		input = h('input', { id, name: opts.name, type,
		    min: opts.min, max: opts.max, maxlength: opts.maxlength,
		    placeholder: opts.placeholder,
		    autocomplete: opts.autocomplete || 'off',
		    spellcheck: type === 'text' ? 'false' : null });
		if (type === 'checkbox')
			input.checked = Boolean(opts.value);
		else
			input.value = opts.value ?? '';
	}
	input.required = Boolean(opts.required);
	input.disabled = Boolean(opts.disabled);
	if (opts.readOnly && type !== 'select')
		input.readOnly = true;
	if (opts.readOnly && type === 'select')
		input.disabled = true;
	const described = [];
	const help = opts.help ? h('p', { class: 'help', id: helpId,
	    text: opts.help }) : null;
	if (help)
		described.push(helpId);
	const error = h('p', { class: 'err', id: errId, hidden: true });
	described.push(errId);
	input.setAttribute('aria-describedby', described.join(' '));

	const label = h('label', { for: id, text: opts.label });
	/* The asterisk is for the eye only: "required" on the control
	 * says it to assistive technology, and the label stays the
	 * field's plain name. */
	const star = opts.required ? h('span', { class: 'req',
	    'aria-hidden': 'true', text: '*' }) : null;
	let wrap;
	if (type === 'checkbox')
		wrap = h('div', { class: 'field check' },
		    h('div', { class: 'row' }, input, label, star), help, error);
	else
		wrap = h('div', { class: 'field' },
		    h('div', { class: 'labrow' }, label, star), input, help,
		    error);
	const f = {
		wrap, input, error, name: opts.name,
		set(msg) {
			error.textContent = msg;
			error.hidden = false;
			input.setAttribute('aria-invalid', 'true');
		},
		clear() {
			error.textContent = '';
			error.hidden = true;
			input.removeAttribute('aria-invalid');
		},
	};
	input.addEventListener('input', () => f.clear());
	return f;
}

/* Replace the options of a <select>. */
export function setOptions(sel, options, value)
{
	clear(sel);
	for (const [v, t] of options)
		sel.append(h('option', { value: String(v), text: t }));
	if (value !== undefined && value !== null)
		sel.value = String(value);
}

/*
 * A radio group: fieldset with legend.  choices [[value, label, help]].
 * Returns { wrap, value(), set(v), inputs, error, setErr(msg), clear() }.
 */
export function radios(opts)
{
	const name = newId(opts.name || 'r');
	const errId = `${name}-err`;
	const error = h('p', { class: 'err', id: errId, hidden: true });
	const fs = h('fieldset', { class: 'radios',
	    'aria-describedby': errId },
	    h('legend', { text: opts.label }));
	const inputs = [];

	for (const [v, text, help, disabled] of opts.choices) {
		const id = newId('rb');
		const inp = h('input', { type: 'radio', name, id,
		    value: String(v) });
		inp.checked = String(v) === String(opts.value);
		inp.disabled = Boolean(disabled || opts.disabled);
		inputs.push(inp);
		const lab = h('label', { for: id, text });
		const row = h('div', { class: 'row' }, inp, lab);
		if (help) {
			const hid = `${id}-help`;
			inp.setAttribute('aria-describedby', hid);
			row.append(h('span', { class: 'help', id: hid,
			    text: help }));
		}
		fs.append(row);
	}
	fs.append(error);
	return {
		wrap: fs, inputs, error, name: opts.name,
		input: inputs[0],
		value() {
			const c = inputs.find((i) => i.checked);
			return c ? c.value : null;
		},
		set(msg) {
			error.textContent = msg;
			error.hidden = false;
		},
		clear() {
			error.textContent = '';
			error.hidden = true;
		},
	};
}

/* ---- dialogs ---- */

/*
 * A modal <dialog> (focus stays inside, Escape closes) labelled by its
 * title.  Returns { dlg, body, footer, title, close() }.  The dialog is
 * removed from the page when it closes, and focus goes back to the
 * element that opened it.
 */
export function openDialog(opts)
{
	const titleId = newId('dlg-title');
	const opener = document.activeElement;
	const title = h('h2', { id: titleId, text: opts.title });
	const closeBtn = h('button', { type: 'button', class: 'icon close',
	    'aria-label': 'Close', title: 'Close', text: '\u00d7' });
	const body = h('div', { class: 'dlg-body' });
	const footer = h('div', { class: 'dlg-foot' });
	const dlg = h('dialog', { class: `dlg ${opts.wide ? 'wide' : ''}`,
	    'aria-labelledby': titleId, 'data-dialog': opts.id || null },
	    h('div', { class: 'dlg-head' }, title, closeBtn), body, footer);

	const d = {
		dlg, body, footer, title,
		close() {
			if (dlg.open)
				dlg.close();
		},
	};
	closeBtn.addEventListener('click', () => d.close());
	dlg.addEventListener('close', () => {
		dlg.remove();
		if (opts.onClose)
			opts.onClose();
		if (opener && opener.isConnected && opener.focus)
			opener.focus();
	});
	document.body.append(dlg);
	dlg.showModal();
	return d;
}

/* Ask a yes/no question; resolves true when confirmed. */
export function confirmDialog(opts)
{
	return new Promise((resolve) => {
		let answer = false;
		const d = openDialog({ title: opts.title, id: opts.id,
		    onClose: () => resolve(answer) });
		for (const p of [].concat(opts.message))
			d.body.append(h('p', { text: p }));
		const no = h('button', { type: 'button',
		    text: opts.cancel || 'Cancel' });
		const yes = h('button', { type: 'button', class: opts.danger ?
		    'danger' : 'primary', text: opts.confirm || 'OK' });
		no.addEventListener('click', () => d.close());
		yes.addEventListener('click', () => {
			answer = true;
			d.close();
		});
		d.footer.append(no, yes);
		no.focus();
	});
}

/* ---- progress ---- */

/*
 * Run promise-returning fn while "btn" shows that work is in progress
 * (disabled, aria-busy, an indeterminate <progress> beside it, and a
 * label in the live region).  Returns fn's result or throws its error.
 */
export async function busy(btn, fn, label)
{
	const prog = h('span', { class: 'progress', role: 'status' },
	    h('progress', { 'aria-label': label || 'Working' }),
	    h('span', { text: label || 'Working\u2026' }));
	const old = btn ? btn.disabled : false;

	if (btn) {
		btn.disabled = true;
		btn.setAttribute('aria-busy', 'true');
		btn.after(prog);
	}
	try {
		return await fn();
	} finally {
		if (btn) {
			btn.disabled = old;
			btn.removeAttribute('aria-busy');
		}
		prog.remove();
	}
}

/* ---- tabs (WAI-ARIA tabs pattern) ---- */

/*
 * tabs([[key, label, panelElement], ...]) -> { wrap, select(key),
 * panelOf(el) }.  Arrow keys move between tabs.
 */
export function tabs(list)
{
	const bar = h('div', { class: 'tabs', role: 'tablist' });
	const wrap = h('div', { class: 'tabset' }, bar);
	const items = [];

	for (const [key, label, panel] of list) {
		const tid = newId(`tab-${key}`), pid = newId(`panel-${key}`);
		const tab = h('button', { type: 'button', role: 'tab', id: tid,
		    'aria-controls': pid, 'aria-selected': 'false',
		    tabindex: '-1', text: label, dataset: { tab: key } });
		panel.id = pid;
		panel.setAttribute('role', 'tabpanel');
		panel.setAttribute('aria-labelledby', tid);
		panel.classList.add('tabpanel');
		panel.hidden = true;
		bar.append(tab);
		wrap.append(panel);
		items.push({ key, tab, panel });
	}
	const t = {
		wrap,
		select(key, focus) {
			for (const it of items) {
				const on = it.key === key;
				it.tab.setAttribute('aria-selected',
				    on ? 'true' : 'false');
				it.tab.tabIndex = on ? 0 : -1;
				it.panel.hidden = !on;
				if (on && focus)
					it.tab.focus();
			}
		},
		/* The tab key whose panel holds element el. */
		panelOf(el) {
			const it = items.find((x) => x.panel.contains(el));
			return it ? it.key : null;
		},
	};
	bar.addEventListener('click', (ev) => {
		const b = ev.target.closest('[role=tab]');
		if (b)
			t.select(b.dataset.tab);
	});
	bar.addEventListener('keydown', (ev) => {
		const i = items.findIndex((x) => x.tab === document.activeElement);
		let n = -1;
		if (i < 0)
			return;
		if (ev.key === 'ArrowRight')
			n = (i + 1) % items.length;
		else if (ev.key === 'ArrowLeft')
			n = (i + items.length - 1) % items.length;
		else if (ev.key === 'Home')
			n = 0;
		else if (ev.key === 'End')
			n = items.length - 1;
		if (n >= 0) {
			ev.preventDefault();
			t.select(items[n].key, true);
		}
	});
	if (items.length > 0)
		t.select(items[0].key);
	return t;
}

/* ---- formatting ---- */

/* Unix seconds as "YYYY-MM-DD HH:MM:SS UTC"; "" for 0. */
export function fmtTime(ts)
{
	if (!ts)
		return '';
	const d = new Date(ts * 1000);
	if (Number.isNaN(d.getTime()))
		return '';
	return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/* Unix seconds as a date "YYYY-MM-DD" (UTC); "" for 0. */
export function fmtDate(ts)
{
	return ts ? fmtTime(ts).slice(0, 10) : '';
}

/* A <dl> from [[term, value-or-node], ...]; empty values are skipped. */
export function defList(rows, cls)
{
	const dl = h('dl', { class: cls || 'kv' });
	for (const [k, v] of rows) {
		if (v === undefined || v === null || v === '')
			continue;
		dl.append(h('dt', { text: k }), h('dd', {}, v instanceof Node ?
		    v : String(v)));
	}
	return dl;
}

/* A general error box for a form (errors without a field). */
export function errorBox()
{
	const box = h('div', { class: 'errbox', role: 'alert', hidden: true });
	return {
		el: box,
		set(msg) {
			box.textContent = msg;
			box.hidden = false;
		},
		clear() {
			box.textContent = '';
			box.hidden = true;
		},
	};
}

/* Clear a form's errors: the general box and every field of F. */
export function clearErrors(F, box)
{
	box.clear();
	for (const f of Object.values(F))
		f.clear();
}

/*
 * Show an error the API gave (an ApiError): next to the field of F it
 * names (focused when "focus" is set), else in the general box.
 */
export function showError(F, box, e, focus)
{
	const f = F[e.field];
	if (!f) {
		box.set(e.message);
		return;
	}
	f.set(e.message);
	if (focus && f.input && f.input.focus)
		f.input.focus();
}

/*
 * A dialog holding one form.  opts: title, id, intro (text), fields
 * ({ apiName: field-or-radios }), extra (nodes after the fields), submit
 * label, and run(F) -> Promise that does the work; an ApiError it throws
 * is shown next to the field it names, or above the form.  Resolves with
 * run's result, or undefined when cancelled.
 */
export function formDialog(opts)
{
	return new Promise((resolve) => {
		let result;
		const d = openDialog({ title: opts.title, id: opts.id,
		    wide: opts.wide, onClose: () => resolve(result) });
		const err = errorBox();
		const formId = newId('form');
		const F = opts.fields;
		const form = h('form', { id: formId, novalidate: true },
		    opts.intro ? h('p', { text: opts.intro }) : null, err.el,
		    Object.values(F).map((f) => f.wrap), opts.extra || null);
		const cancel = h('button', { type: 'button', text: 'Cancel' });
		const ok = h('button', { type: 'submit', class: opts.danger ?
		    'danger' : 'primary', form: formId,
		    text: opts.submit || 'Save' });
		cancel.addEventListener('click', () => d.close());
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clearErrors(F, err);
			try {
				result = await busy(ok, () => opts.run(F),
				    opts.busy || 'Saving\u2026');
			} catch (e) {
				showError(F, err, e, true);
				return;
			}
			if (opts.after) {
				/* Show something (a secret) before closing. */
				opts.after(result, d);
				return;
			}
			d.close();
		});
		d.body.append(form);
		d.footer.append(cancel, ok);
		const first = Object.values(F)[0];
		if (first && first.input && first.input.focus)
			first.input.focus();
	});
}

/*
 * Show a secret once in dialog "d" (replacing its content), with a copy
 * button; "Done" closes the dialog.
 */
export function showSecretIn(d, title, label, secret, note)
{
	const id = newId('secret');
	const inp = h('input', { id, type: 'text', readonly: true,
	    class: 'secret', value: secret, spellcheck: 'false' });
	const done = h('button', { type: 'button', class: 'primary',
	    text: 'Done' });
	done.addEventListener('click', () => {
		inp.value = '';
		d.close();
	});
	replace(d.body, h('h3', { text: title }),
	    h('p', { class: 'notice warn', text: note }),
	    h('div', { class: 'field' }, h('label', { for: id, text: label }),
	    h('div', { class: 'secretrow' }, inp,
	    copyButton(() => inp.value, `Copy the ${label.toLowerCase()}`))));
	replace(d.footer, done);
	inp.focus();
	inp.select();
}
