/* mlflowd web UI: plain JavaScript, no build step, no network beyond this server's own API (doc/webserver.md).
 * Pages (the part after '#'): /  DAG list; /dags/ID/grid; /dags/ID/graph[/RUN]; /dags/ID/gantt[/RUN];
 * /dags/ID/log/RUN/TASK/TRY[/MAP_INDEX]. Every change sends the session's CSRF token. */
'use strict';

const API = '/api/v1';
let session = null; // {username, role, csrf_token}

const $ = (sel, root) => (root || document).querySelector(sel);
const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const enc = encodeURIComponent;
const canChange = () => session && (session.role === 'op' || session.role === 'admin');
const stateClass = (s) => 's-' + (s || 'empty');
const short = (t) => (t ? t.replace('T', ' ').replace(/\.\d+/, '').replace('+00:00', 'Z') : '');

/* Calls the API; throws an Error carrying the problem's detail. */
async function api(path, opts) {
  opts = opts || {};
  const headers = {'Accept': 'application/json'};
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.method && opts.method !== 'GET' && session && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
  const r = await fetch(API + path, {method: opts.method || 'GET', headers, credentials: 'same-origin',
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined});
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!r.ok) {
    const err = new Error((data && data.detail) || ('HTTP ' + r.status));
    err.status = r.status;
    throw err;
  }
  return data;
}

function setCrumbs(parts) {
  $('#crumbs').innerHTML = parts.map((p) => (p.href ? `<a href="${p.href}">${esc(p.text)}</a>` : esc(p.text))).join(' / ');
}

function showError(e) {
  $('#main').innerHTML = `<div class="card error" id="page-error">${esc(e.message || e)}</div>`;
}

/* ----------------------------------------------------------------------------------------- login */

function showLogin(message) {
  session = null;
  $('#who').textContent = '';
  $('#logout').hidden = true;
  setCrumbs([]);
  $('#main').innerHTML = '';
  $('#main').appendChild($('#login-tpl').content.cloneNode(true));
  if (message) { $('#login-error').textContent = message; $('#login-error').hidden = false; }
  $('#login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      session = await api('/auth/login', {method: 'POST', body: {username: f.username.value, password: f.password.value}});
      route();
    } catch (e) {
      $('#login-error').textContent = e.message;
      $('#login-error').hidden = false;
    }
  });
}

async function ensureSession() {
  if (session) return true;
  try {
    session = await api('/auth/session');
    return true;
  } catch (e) {
    if (e.status === 401) { showLogin(); return false; }
    throw e;
  }
}

/* ------------------------------------------------------------------------------------- DAG list */

async function pageDags() {
  setCrumbs([{text: 'DAGs'}]);
  const [dags, errs] = await Promise.all([api('/dags?limit=1000&include_recent_runs=true'), api('/importErrors?limit=1000')]);
  const banner = $('#banner');
  if (errs.total_entries > 0) {
    banner.innerHTML = `<strong>${errs.total_entries} DAG file(s) failed to load:</strong> ` +
      errs.import_errors.map((e) => `<div class="import-error">${esc(e.stack_trace)}</div>`).join('');
    banner.hidden = false;
  } else banner.hidden = true;
  const rows = dags.dags.map((d) => `
    <tr data-dag="${esc(d.dag_id)}">
      <td><input type="checkbox" class="switch pause-toggle" title="on: the scheduler runs it" ${d.is_paused ? '' : 'checked'} ${canChange() ? '' : 'disabled'}></td>
      <td><a href="#/dags/${enc(d.dag_id)}/grid">${esc(d.dag_id)}</a><div class="muted">${esc(d.description || '')}</div></td>
      <td>${esc(d.schedule_interval || 'manual')}</td>
      <td class="recent">${(d.recent_dag_runs || []).map((r) => `<a href="#/dags/${enc(d.dag_id)}/graph/${enc(r.dag_run_id)}" title="${esc(r.dag_run_id)}: ${esc(r.state)}"><span class="dot ${stateClass(r.state)}" data-state="${esc(r.state)}"></span></a>`).join('')}</td>
      <td>${esc(short(d.next_dagrun)) || '<span class="muted">–</span>'}</td>
      <td>${d.task_count}</td>
      <td>${canChange() ? `<button class="secondary trigger" data-dag="${esc(d.dag_id)}">Trigger</button>` : ''}</td>
    </tr>`).join('');
  $('#main').innerHTML = `<h1>DAGs</h1>
    <table class="list" id="dag-list"><thead><tr><th>Active</th><th>DAG</th><th>Schedule</th><th>Recent runs</th><th>Next run</th><th>Tasks</th><th></th></tr></thead>
    <tbody>${rows || '<tr><td colspan="7" class="muted">No DAGs in the DAG folder.</td></tr>'}</tbody></table>`;
  for (const box of document.querySelectorAll('.pause-toggle')) {
    box.addEventListener('change', async (ev) => {
      const dag = ev.target.closest('tr').dataset.dag;
      ev.target.disabled = true;
      try {
        const d = await api('/dags/' + enc(dag), {method: 'PATCH', body: {is_paused: !ev.target.checked}});
        ev.target.checked = !d.is_paused;
      } catch (e) { alert(e.message); ev.target.checked = !ev.target.checked; }
      ev.target.disabled = false;
    });
  }
  for (const b of document.querySelectorAll('button.trigger')) b.addEventListener('click', () => triggerDialog(b.dataset.dag));
}

function triggerDialog(dag) {
  $('#main').insertAdjacentHTML('afterbegin', `<form class="card" id="trigger-form"><h2>Trigger ${esc(dag)}</h2>
    <label>Run id (optional) <input name="run_id"></label>
    <label>Logical date (optional, RFC 3339) <input name="date" placeholder="2024-01-01T00:00:00Z"></label>
    <label>Conf (JSON object)<textarea class="conf" name="conf">{}</textarea></label>
    <div class="toolbar"><button type="submit">Trigger</button><button type="button" class="secondary cancel">Cancel</button><span class="error"></span></div></form>`);
  const f = $('#trigger-form');
  f.querySelector('.cancel').addEventListener('click', () => f.remove());
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    try { body.conf = JSON.parse(f.conf.value || '{}'); } catch (e) { f.querySelector('.error').textContent = 'conf: ' + e.message; return; }
    if (f.run_id.value) body.dag_run_id = f.run_id.value;
    if (f.date.value) body.logical_date = f.date.value;
    try {
      const run = await api(`/dags/${enc(dag)}/dagRuns`, {method: 'POST', body});
      location.hash = `#/dags/${enc(dag)}/grid`;
      if (location.hash === `#/dags/${enc(dag)}/grid`) route();
      void run;
    } catch (e) { f.querySelector('.error').textContent = e.message; }
  });
}

/* ---------------------------------------------------------------------------------------- DAG tabs */

function dagTabs(dag, on, run) {
  const r = run ? '/' + enc(run) : '';
  const tab = (name, label) => `<a href="#/dags/${enc(dag)}/${name}${name === 'grid' ? '' : r}" class="${on === name ? 'on' : ''}">${label}</a>`;
  return `<div class="tabs">${tab('grid', 'Grid')}${tab('graph', 'Graph')}${tab('gantt', 'Gantt')}</div>`;
}

const legend = () => '<div class="legend muted">' + ['success', 'failed', 'running', 'queued', 'scheduled', 'upstream_failed', 'skipped', 'up_for_retry', 'up_for_reschedule', 'none']
  .map((s) => `<span><span class="dot ${stateClass(s)}"></span>${s}</span>`).join('') + '</div>';

/* ------------------------------------------------------------------------------------------- grid */

async function pageGrid(dag) {
  setCrumbs([{text: 'DAGs', href: '#/'}, {text: dag}]);
  const g = await api(`/dags/${enc(dag)}/grid?limit=25`);
  const runs = g.dag_runs.slice().reverse(); // oldest left, newest right (as Airflow)
  const states = g.states.slice().reverse();
  let head = '<tr><th class="task"></th>' + runs.map((r, i) => `<th><span class="runhead ${stateClass(r.state)}" data-run="${i}" title="${esc(r.dag_run_id)}: ${esc(r.state)}"></span></th>`).join('') + '</tr>';
  const parts = [];
  for (let t = 0; t < g.tasks.length; t++) {
    const task = g.tasks[t];
    let row = `<tr data-t="${t}"><th class="task" title="${esc(task.task_id)}">${esc(task.task_id)}${task.is_mapped ? ` <button class="link expand" data-t="${t}" title="show each mapped instance">[+]</button>` : ''}</th>`;
    for (let r = 0; r < runs.length; r++) {
      const s = states[r][t];
      row += `<td class="cell ${stateClass(s)}" data-task="${t}" data-run="${r}" data-state="${s || ''}" title="${esc(task.task_id)} · ${esc(s || 'no task instance')}"></td>`;
    }
    parts.push(row + '</tr>');
  }
  $('#main').innerHTML = `<h1>${esc(dag)}</h1>${dagTabs(dag, 'grid', runs.length ? runs[runs.length - 1].dag_run_id : null)}
    <div class="toolbar">${canChange() ? '<button class="secondary" id="trigger">Trigger</button>' : ''}<span class="muted">${g.tasks.length} task(s), ${runs.length} latest run(s)</span></div>
    ${legend()}
    <div class="grid-wrap"><table class="grid" id="grid"><thead>${head}</thead><tbody>${parts.join('')}</tbody></table></div>`;
  if ($('#trigger')) $('#trigger').addEventListener('click', () => triggerDialog(dag));
  $('#grid').addEventListener('click', (ev) => {
    const cell = ev.target.closest('td.cell');
    const rh = ev.target.closest('.runhead');
    const ex = ev.target.closest('button.expand');
    for (const s of document.querySelectorAll('td.cell.sel')) s.classList.remove('sel');
    if (ex) toggleMapped(dag, runs, g.tasks[+ex.dataset.t].task_id, ex);
    else if (cell) {
      cell.classList.add('sel');
      const mi = cell.dataset.map != null ? +cell.dataset.map : undefined;
      tiPanel(dag, runs[+cell.dataset.run].dag_run_id, g.tasks[+cell.dataset.task].task_id, mi);
    } else if (rh) runPanel(dag, runs[+rh.dataset.run]);
  });
}

/* Shows (or hides) one row per map index under a mapped task's collapsed row. */
async function toggleMapped(dag, runs, task, button) {
  const row = button.closest('tr');
  const t = row.dataset.t;
  const open = document.querySelectorAll(`tr.mapped-child[data-parent="${t}"]`);
  if (open.length) { for (const r of open) r.remove(); button.textContent = '[+]'; return; }
  const lists = await Promise.all(runs.map((r) => api(`/dags/${enc(dag)}/dagRuns/${enc(r.dag_run_id)}/taskInstances/${enc(task)}/listMapped?limit=1000`)));
  const indexes = [...new Set(lists.flatMap((l) => l.task_instances.map((ti) => ti.map_index)).filter((i) => i >= 0))].sort((a, b) => a - b);
  let html = '';
  for (const i of indexes) {
    html += `<tr class="mapped-child" data-parent="${t}"><th class="task" title="${esc(task)}[${i}]">&nbsp;&nbsp;${esc(task)} [${i}]</th>`;
    lists.forEach((l, r) => {
      const ti = l.task_instances.find((x) => x.map_index === i);
      const s = ti ? ti.state : null;
      html += `<td class="cell ${stateClass(s)}" data-task="${t}" data-run="${r}" data-map="${i}" data-state="${s || ''}" title="${esc(task)}[${i}] · ${esc(s || 'no task instance')}"></td>`;
    });
    html += '</tr>';
  }
  row.insertAdjacentHTML('afterend', html);
  button.textContent = '[−]';
}

function panel(html) {
  let p = $('#panel');
  if (!p) { p = document.createElement('aside'); p.id = 'panel'; p.className = 'panel'; document.body.appendChild(p); }
  p.innerHTML = `<button class="link" id="panel-close" style="float:right">close</button>` + html;
  $('#panel-close').addEventListener('click', () => p.remove());
  return p;
}

function actions(buttons) {
  return canChange() ? `<div class="toolbar">${buttons.map(([id, label, cls]) => `<button id="${id}" class="${cls || 'secondary'}">${label}</button>`).join('')}</div><p class="error" id="act-error"></p>` : '';
}

async function act(fn) {
  try { await fn(); route(); } catch (e) { const el = $('#act-error'); if (el) el.textContent = e.message; else alert(e.message); }
}

async function runPanel(dag, run) {
  const p = panel(`<h2>Run ${esc(run.dag_run_id)}</h2><dl><dt>state</dt><dd><span class="dot ${stateClass(run.state)}"></span>${esc(run.state)}</dd>
    <dt>type</dt><dd>${esc(run.run_type)}</dd><dt>logical date</dt><dd>${esc(short(run.logical_date))}</dd>
    <dt>started</dt><dd>${esc(short(run.start_date))}</dd><dt>ended</dt><dd>${esc(short(run.end_date))}</dd></dl>
    <div class="toolbar"><a href="#/dags/${enc(dag)}/graph/${enc(run.dag_run_id)}">Graph</a><a href="#/dags/${enc(dag)}/gantt/${enc(run.dag_run_id)}">Gantt</a></div>
    ${actions([['run-clear', 'Clear run'], ['run-success', 'Mark success'], ['run-failed', 'Mark failed', 'danger']])}`);
  const base = `/dags/${enc(dag)}/dagRuns/${enc(run.dag_run_id)}`;
  if (!canChange()) return;
  $('#run-clear', p).addEventListener('click', () => act(() => api(base + '/clear', {method: 'POST', body: {}})));
  $('#run-success', p).addEventListener('click', () => act(() => api(base, {method: 'PATCH', body: {state: 'success'}})));
  $('#run-failed', p).addEventListener('click', () => act(() => api(base, {method: 'PATCH', body: {state: 'failed'}})));
}

async function tiPanel(dag, run, task, mapIndex) {
  const base = `/dags/${enc(dag)}/dagRuns/${enc(run)}/taskInstances/${enc(task)}`;
  const mapped = mapIndex != null && mapIndex >= 0;
  let ti;
  try { ti = await api(base + (mapped ? '/' + mapIndex : '')); } catch (e) { panel(`<h2>${esc(task)}</h2><p class="muted">${esc(e.message)}</p>`); return; }
  const tries = [];
  for (let i = 1; i <= ti.try_number; i++) tries.push(`<a href="#/dags/${enc(dag)}/log/${enc(run)}/${enc(task)}/${i}${mapped ? '/' + mapIndex : ''}">try ${i}</a>`);
  const p = panel(`<h2>${esc(task)}${mapped ? ` [${mapIndex}]` : ''}</h2><dl><dt>state</dt><dd><span class="dot ${stateClass(ti.state)}"></span>${esc(ti.state)}</dd>
    <dt>run</dt><dd>${esc(run)}</dd><dt>operator</dt><dd>${esc(ti.operator)}</dd><dt>try</dt><dd>${ti.try_number} of ${ti.max_tries}</dd>
    <dt>started</dt><dd>${esc(short(ti.start_date))}</dd><dt>ended</dt><dd>${esc(short(ti.end_date))}</dd>
    <dt>duration</dt><dd>${ti.duration != null ? ti.duration.toFixed(2) + ' s' : ''}</dd><dt>host</dt><dd>${esc(ti.hostname)}</dd>
    <dt>message</dt><dd>${esc(ti.message)}</dd><dt>logs</dt><dd>${tries.join(' ') || '<span class="muted">not run yet</span>'}</dd></dl>
    ${actions([['ti-clear', 'Clear'], ['ti-clear-down', 'Clear + downstream'], ['ti-success', 'Mark success'], ['ti-failed', 'Mark failed', 'danger']])}`);
  if (!canChange()) return;
  const clear = (down) => api(`/dags/${enc(dag)}/clearTaskInstances`, {method: 'POST', body: {dag_run_id: run, task_ids: [task], include_downstream: down}});
  $('#ti-clear', p).addEventListener('click', () => act(() => clear(false)));
  $('#ti-clear-down', p).addEventListener('click', () => act(() => clear(true)));
  $('#ti-success', p).addEventListener('click', () => act(() => api(base, {method: 'PATCH', body: {new_state: 'success'}})));
  $('#ti-failed', p).addEventListener('click', () => act(() => api(base, {method: 'PATCH', body: {new_state: 'failed'}})));
}

/* -------------------------------------------------------------------------------- graph and Gantt */

/* The latest run when none is named. */
async function pickRun(dag, run) {
  if (run) return run;
  const runs = await api(`/dags/${enc(dag)}/dagRuns?limit=1`);
  return runs.dag_runs.length ? runs.dag_runs[0].dag_run_id : null;
}

async function runStates(dag, run) {
  const m = {};
  if (!run) return m;
  const tis = await api(`/dags/${enc(dag)}/dagRuns/${enc(run)}/taskInstances?limit=1000`);
  for (const ti of tis.task_instances) {
    if (ti.map_index < 0 || !m[ti.task_id]) m[ti.task_id] = ti;
  }
  // a mapped task shows its first instance; fetch more pages for big runs
  let offset = 1000;
  while (offset < tis.total_entries && offset < 20000) {
    const more = await api(`/dags/${enc(dag)}/dagRuns/${enc(run)}/taskInstances?limit=1000&offset=${offset}`);
    for (const ti of more.task_instances) if (ti.map_index < 0 || !m[ti.task_id]) m[ti.task_id] = ti;
    offset += 1000;
  }
  return m;
}

async function pageGraph(dag, run) {
  setCrumbs([{text: 'DAGs', href: '#/'}, {text: dag, href: `#/dags/${enc(dag)}/grid`}, {text: 'graph'}]);
  run = await pickRun(dag, run);
  const [tasks, states] = await Promise.all([api(`/dags/${enc(dag)}/tasks`), runStates(dag, run)]);
  // layered layout: a task's column is the longest path to it (tasks come in topological order)
  const col = {}, rowsPer = [];
  const up = {};
  for (const t of tasks.tasks) for (const d of t.downstream_task_ids) (up[d] = up[d] || []).push(t.task_id);
  for (const t of tasks.tasks) col[t.task_id] = Math.max(0, ...(up[t.task_id] || []).map((u) => col[u] + 1));
  const pos = {};
  for (const t of tasks.tasks) {
    const c = col[t.task_id];
    rowsPer[c] = (rowsPer[c] || 0) + 1;
    pos[t.task_id] = [c, rowsPer[c] - 1];
  }
  const W = 170, H = 34, NW = 140, NH = 24;
  const width = (rowsPer.length || 1) * W + 20, height = Math.max(...rowsPer, 1) * H + 20;
  const xy = (id) => [10 + pos[id][0] * W, 10 + pos[id][1] * H];
  let edges = '', nodes = '';
  for (const t of tasks.tasks) {
    const [x1, y1] = xy(t.task_id);
    for (const d of t.downstream_task_ids) {
      const [x2, y2] = xy(d);
      edges += `<path d="M${x1 + NW},${y1 + NH / 2} C${x1 + NW + 15},${y1 + NH / 2} ${x2 - 15},${y2 + NH / 2} ${x2},${y2 + NH / 2}" fill="none" stroke="#9aa5b1"/>`;
    }
    const ti = states[t.task_id];
    const s = ti ? ti.state : null;
    nodes += `<g class="node" data-task="${esc(t.task_id)}" data-state="${esc(s || '')}"><rect x="${x1}" y="${y1}" width="${NW}" height="${NH}" rx="4" fill="#fff" stroke="#5c6b7a"/>` +
      `<rect x="${x1}" y="${y1}" width="6" height="${NH}" rx="2" class="${stateClass(s || 'none')}"/>` +
      `<text x="${x1 + 12}" y="${y1 + 16}">${esc(t.task_id.length > 20 ? t.task_id.slice(0, 19) + '…' : t.task_id)}</text><title>${esc(t.task_id)}: ${esc(s || 'no task instance')}</title></g>`;
  }
  $('#main').innerHTML = `<h1>${esc(dag)}</h1>${dagTabs(dag, 'graph', run)}<p class="muted">Run: ${esc(run || 'none yet')}</p>${legend()}
    <div class="svg-wrap"><svg id="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${edges}${nodes}</svg></div>`;
  $('#graph').addEventListener('click', (ev) => {
    const g = ev.target.closest('g.node');
    if (g && run) tiPanel(dag, run, g.dataset.task);
  });
}

async function pageGantt(dag, run) {
  setCrumbs([{text: 'DAGs', href: '#/'}, {text: dag, href: `#/dags/${enc(dag)}/grid`}, {text: 'Gantt'}]);
  run = await pickRun(dag, run);
  const states = await runStates(dag, run);
  const tis = Object.values(states).filter((t) => t.start_date);
  tis.sort((a, b) => Date.parse(a.start_date) - Date.parse(b.start_date));
  const t0 = Math.min(...tis.map((t) => Date.parse(t.start_date)));
  const t1 = Math.max(...tis.map((t) => Date.parse(t.end_date || new Date().toISOString())));
  const span = Math.max(t1 - t0, 1), LW = 200, W = 700, H = 20;
  let bars = '';
  tis.forEach((t, i) => {
    const s = Date.parse(t.start_date), e = Date.parse(t.end_date || new Date().toISOString());
    const x = LW + ((s - t0) / span) * W, w = Math.max(2, ((e - s) / span) * W), y = 24 + i * H;
    bars += `<g class="bar" data-task="${esc(t.task_id)}" data-state="${esc(t.state)}"><text x="4" y="${y + 13}">${esc(t.task_id.length > 28 ? t.task_id.slice(0, 27) + '…' : t.task_id)}</text>` +
      `<rect x="${x}" y="${y}" width="${w}" height="${H - 4}" rx="2" class="${stateClass(t.state)}"><title>${esc(t.task_id)}: ${esc(t.state)}, ${((e - s) / 1000).toFixed(2)} s</title></rect></g>`;
  });
  const axis = `<text x="${LW}" y="14">${esc(short(new Date(t0).toISOString()))}</text><text x="${LW + W}" y="14" text-anchor="end">+${(span / 1000).toFixed(2)} s</text>`;
  $('#main').innerHTML = `<h1>${esc(dag)}</h1>${dagTabs(dag, 'gantt', run)}<p class="muted">Run: ${esc(run || 'none yet')}</p>${legend()}
    <div class="svg-wrap"><svg id="gantt" xmlns="http://www.w3.org/2000/svg" width="${LW + W + 20}" height="${30 + tis.length * H}">${tis.length ? axis + bars : '<text x="10" y="20">no task instance has started</text>'}</svg></div>`;
  $('#gantt').addEventListener('click', (ev) => {
    const g = ev.target.closest('g.bar');
    if (g && run) tiPanel(dag, run, g.dataset.task);
  });
}

/* -------------------------------------------------------------------------------------------- log */

let tailTimer = null;

async function pageLog(dag, run, task, tryNumber, mapIndex) {
  setCrumbs([{text: 'DAGs', href: '#/'}, {text: dag, href: `#/dags/${enc(dag)}/grid`}, {text: `${task} try ${tryNumber}`}]);
  $('#main').innerHTML = `<h1>${esc(task)} <span class="muted">try ${esc(tryNumber)}</span></h1><p class="muted">${esc(dag)} · ${esc(run)}</p>
    <div class="toolbar"><label><input type="checkbox" id="follow" checked> follow (live tail)</label><span id="log-status" class="muted"></span></div><pre class="log" id="log"></pre>`;
  const pre = $('#log');
  let offset = 0;
  const mi = mapIndex != null ? '&map_index=' + enc(mapIndex) : '';
  const base = `/dags/${enc(dag)}/dagRuns/${enc(run)}/taskInstances/${enc(task)}/logs/${enc(tryNumber)}`;
  const here = location.hash;
  async function poll() {
    if (location.hash !== here) return;
    try {
      const r = await api(`${base}?offset=${offset}${mi}`);
      if (r.content) {
        pre.appendChild(document.createTextNode(r.content));
        if ($('#follow').checked) pre.scrollTop = pre.scrollHeight;
      }
      offset = r.offset;
      $('#log-status').textContent = r.eof ? `complete (${r.size} bytes)` : `tailing… (${r.size} bytes)`;
      if (!r.eof || r.offset < r.size) tailTimer = setTimeout(poll, r.offset < r.size ? 0 : 1000);
    } catch (e) { $('#log-status').textContent = e.message; }
  }
  poll();
}

/* ----------------------------------------------------------------------------------------- router */

async function route() {
  clearTimeout(tailTimer);
  const p = $('#panel');
  if (p) p.remove();
  try {
    if (!(await ensureSession())) return;
    $('#who').textContent = `${session.username} (${session.role})`;
    $('#logout').hidden = false;
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter((x) => x !== '').map(decodeURIComponent);
    if (parts[0] !== 'dags' || parts.length < 2) { await pageDags(); return; }
    $('#banner').hidden = true;
    const [, dag, view, ...rest] = parts;
    if (view === 'graph') await pageGraph(dag, rest[0]);
    else if (view === 'gantt') await pageGantt(dag, rest[0]);
    else if (view === 'log') await pageLog(dag, rest[0], rest[1], rest[2], rest[3]);
    else await pageGrid(dag);
  } catch (e) {
    if (e.status === 401) showLogin('Your session ended: log in again.');
    else showError(e);
  } finally {
    document.body.dataset.ready = '1';
  }
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  $('#logout').addEventListener('click', async () => {
    try { await api('/auth/logout', {method: 'POST', body: {}}); } catch (e) { /* the session is gone either way */ }
    showLogin();
  });
  route();
});
