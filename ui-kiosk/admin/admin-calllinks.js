// Anyroom admin page "Calls": call links (docs/room-calls.md): make one (its token and QR code
// are shown once), list them, revoke one. Plain DOM; no inline script (CSP).
'use strict';

(() => {
  const { $, api, say } = window.AR;

  async function load() {
    const r = await api('GET', '/api/v1/call-links');
    if (!r.ok) return;
    const tbody = $('calllinks').querySelector('tbody');
    tbody.replaceChildren();
    for (const l of r.data.call_links || []) {
      const tr = document.createElement('tr');
      for (const text of [l.name, String(l.uses), l.expires, l.auto_answer ? 'yes' : 'no']) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const act = document.createElement('td');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'Revoke';
      b.dataset.calllink = l.id;
      b.addEventListener('click', async () => {
        const d = await api('DELETE', `/api/v1/call-links/${encodeURIComponent(l.id)}`);
        say(d.ok ? `Call link for ${l.name} revoked` : d.data.error, d.ok ? 'ok' : 'error');
        $('new-calllink').hidden = true;
        load();
      });
      act.append(b);
      tr.append(act);
      tbody.append(tr);
    }
  }

  $('calllink-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      name: $('calllink-name').value,
      uses: Number($('calllink-uses').value) || 1,
      expires_in_s: (Number($('calllink-hours').value) || 24) * 3600,
      auto_answer: $('calllink-auto').checked,
    };
    const r = await api('POST', '/api/v1/call-links', body);
    if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
    const qr = $('new-calllink-qr');
    qr.replaceChildren();
    // The room's own SVG, parsed as XML (never as HTML).
    const svg = new DOMParser().parseFromString(r.data.qr_svg || '', 'image/svg+xml').documentElement;
    if (svg && svg.nodeName === 'svg') qr.append(document.importNode(svg, true));
    const ul = $('new-calllink-links');
    ul.replaceChildren();
    for (const link of r.data.links || []) {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = link;
      li.append(code);
      ul.append(li);
    }
    $('new-calllink').hidden = false;
    $('calllink-form').reset();
    say(`Call link for ${r.data.name} made`);
    load();
  });

  window.AR.pages.push({ load });
})();
