// Anyroom admin page "Logs", section "Logs off the box" (docs/fleet.md): the [logs] settings
// of the config API. The PEM files are write-only: the API gives the certificates'
// SHA-256 fingerprints and whether a key is set. Plain DOM; no inline script (CSP).
'use strict';

(() => {
  const { $, api, say } = window.AR;

  function fill(c) {
    const l = c.logs;
    if (!l) return;
    $('logs-remote').value = l.remote || '';
    $('logs-remote-level').value = l['remote-level'] || '';
    for (const id of ['logs-remote-ca', 'logs-remote-cert', 'logs-remote-key']) $(id).value = '';
    $('logs-remote-ca-clear').checked = false;
    $('logs-remote-cert-clear').checked = false;
    $('logs-remote-ca-state').textContent = l['remote-ca-sha256']
      ? `CA certificate set, SHA-256 ${l['remote-ca-sha256']}.` : 'No CA set: the system\'s CAs check the receiver.';
    $('logs-remote-cert-state').textContent = l['remote-cert-sha256']
      ? `Client certificate set, SHA-256 ${l['remote-cert-sha256']}${l['remote-key-set'] ? ', with its key' : ''}.`
      : 'No client certificate is set.';
  }

  $('logs-remote-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const logs = {
      remote: $('logs-remote').value.trim() || null,
      'remote-level': $('logs-remote-level').value || null,
    };
    if ($('logs-remote-ca-clear').checked) logs['remote-ca-pem'] = null;
    else if ($('logs-remote-ca').value.trim()) logs['remote-ca-pem'] = $('logs-remote-ca').value.trim() + '\n';
    if ($('logs-remote-cert-clear').checked) {
      logs['remote-cert-pem'] = null;
      logs['remote-key-pem'] = null;
    } else if ($('logs-remote-cert').value.trim() || $('logs-remote-key').value.trim()) {
      logs['remote-cert-pem'] = $('logs-remote-cert').value.trim() + '\n';
      logs['remote-key-pem'] = $('logs-remote-key').value.trim() + '\n';
    }
    const r = await api('PATCH', '/api/v1/config', { logs });
    if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
    say(logs.remote ? 'Logs are sent to the receiver' : 'Logs stay on the room');
    fill(r.data);
  });

  window.AR.pages.push({ config: fill });
})();
