// Anyroom admin page "Web meetings": the web engine's join recipes
// (GET /api/v1/recipes), an upload (PUT /api/v1/recipes/ID with the file's
// JSON as the body) and removal of an administrator's recipe (DELETE).
// Plain DOM; no inline script (CSP). docs/recipes.md, docs/api.md.
'use strict';

(() => {
  const { $, api } = window.AR;
  const MAX = 64 * 1024;

  function result(text, kind) {
    const p = $('recipe-result');
    p.textContent = text;
    p.className = kind;
  }

  function serves(r) {
    if (r.fallback) return 'any other web link (a person finishes the join)';
    if (r.hosts.length) return `links to ${r.hosts.join(', ')}`;
    return `${r.providers.join(', ')} links`;
  }

  async function load() {
    const r = await api('GET', '/api/v1/recipes');
    if (!r.ok) { result(r.data.error || `The recipes could not be read (error ${r.status}).`, 'error'); return; }
    $('recipe-folder').textContent = r.data.admin_folder || '';
    $('recipes-engine-off').hidden = r.data.web_engine !== false;
    const tbody = $('recipes').querySelector('tbody');
    tbody.textContent = '';
    for (const rec of r.data.recipes || []) {
      const tr = document.createElement('tr');
      tr.dataset.id = rec.id;
      const cells = [rec.id, rec.name, serves(rec)];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      const from = document.createElement('td');
      const span = document.createElement('span');
      span.className = `origin-${rec.origin}`;
      span.textContent = rec.origin === 'admin'
        ? (rec.overrides_built_in ? 'yours (replaces the built-in one)' : 'yours') : 'built in';
      from.appendChild(span);
      tr.appendChild(from);
      const act = document.createElement('td');
      if (rec.origin === 'admin') {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'danger';
        b.textContent = rec.overrides_built_in ? 'Remove (use the built-in one)' : 'Remove';
        b.addEventListener('click', () => remove(rec.id));
        act.appendChild(b);
      }
      tr.appendChild(act);
      tbody.appendChild(tr);
    }
    const errors = r.data.errors || [];
    $('recipe-errors').hidden = errors.length === 0;
    const ul = $('recipe-error-list');
    ul.textContent = '';
    for (const e of errors) {
      const li = document.createElement('li');
      li.textContent = e.error;
      ul.appendChild(li);
    }
  }

  async function remove(id) {
    const r = await api('DELETE', `/api/v1/recipes/${encodeURIComponent(id)}`);
    if (!r.ok) result(`The recipe "${id}" was not removed: ${r.data.error || `error ${r.status}`}`, 'error');
    else result(r.data.built_in_restored ? `Removed "${id}": the built-in recipe is used again from the next join.`
      : `Removed "${id}": its links are no longer joined from the next join.`, 'ok');
    await load();
  }

  // The recipe's id: its "id", else the file name (the server then says what is wrong).
  function idOf(file, text) {
    try {
      const j = JSON.parse(text);
      if (j && typeof j.id === 'string' && j.id) return j.id;
    } catch { /* not JSON: the server names the problem */ }
    return file.name.replace(/\.json$/i, '');
  }

  $('recipe-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = $('recipe-file').files[0];
    if (!file) { result('Choose a recipe file first.', 'error'); return; }
    if (file.size > MAX) { result(`${file.name} is larger than 64 KiB: a recipe is at most 64 KiB.`, 'error'); return; }
    const text = await file.text();
    const id = idOf(file, text);
    const headers = { 'Content-Type': 'application/json' };
    const csrf = window.AR.csrfToken();
    if (csrf) headers['X-CSRF-Token'] = csrf;
    let r;
    try {
      r = await fetch(`/api/v1/recipes/${encodeURIComponent(id)}`, {
        method: 'PUT', headers, body: text, credentials: 'same-origin', cache: 'no-store',
      });
    } catch (err) {
      result(`The upload failed: ${err.message}`, 'error');
      return;
    }
    let data = {};
    try { data = await r.json(); } catch { data = {}; }
    if (!r.ok) {
      result(`${file.name} was refused, nothing was changed: ${data.error || `error ${r.status}`}`, 'error');
    } else {
      const how = data.replaced ? 'replaced' : 'added';
      const over = data.recipe && data.recipe.overrides_built_in ? ' It replaces the built-in recipe.' : '';
      result(`Recipe "${id}" ${how}: the next join uses it.${over}`, 'ok');
      $('recipe-form').reset();
    }
    await load();
  });

  window.AR.pages.push({ load });
})();
