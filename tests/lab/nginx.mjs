// nginx from Debian in the lab's tests: the update channel's origin, a calendar feed, the URL of a
// provisioning file, a TLS proxy in front of systemd-journal-remote. writeNginxConf() writes
// DIR/nginx.conf for an nginx in the foreground (as root: it reads the test's files), with its
// pid, error log (DIR/nginx-error.log) and temporary folders in DIR, and @http (log format, access
// log, types, servers) inside its http block. Returns the file's path.
import fs from 'node:fs';
import path from 'node:path';

export function writeNginxConf(dir, http) {
  const conf = path.join(dir, 'nginx.conf');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/nginx-${t === 'client_body' ? 'body' : t};`).join('\n');
  fs.writeFileSync(conf, `daemon off;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log info;
events { worker_connections 64; }
http {
${temp}
${http.replace(/^\n+|\n+$/g, '')}
}
`);
  return conf;
}
