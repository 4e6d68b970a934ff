/**
 * A small web host built from its facts: nginx serves a site whose files belong to an account of its own, on the
 * address of the interface of the default route; a drop-in raises nginx's file limit, a cron job prunes the site's
 * old logs, and a signed apt repository of the site's own supplies its tools.
 */
import { fileURLToPath } from 'node:url';
import {
  aptRepository,
  cronJob,
  directory,
  file,
  group,
  pkg,
  recipe,
  service,
  symlink,
  systemdUnit,
  Type,
  templateFile,
  user,
  Vars,
} from 'keel';

const ROOT = '/srv/webhost';
const SITE = '/etc/nginx/sites-available/webhost';

export default recipe({
  name: 'webhost',
  facts: true,
  vars: Vars({
    /** The site's apt repository, a flat one (`./`), e.g. `https://apt.example.org/webhost`. */
    toolsRepository: Type.String({ pattern: '^(https?|file):[^\\s]+$' }),
    /** Its armored public key: the repository is trusted with this key only. */
    toolsKey: Type.String({ minLength: 1, maxLength: 65536 }),
    /** Default: 8088. */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  }),
  resources: (host) => {
    const { toolsRepository, toolsKey, port = 8088 } = host.vars;
    const { defaultRoute, interfaces } = host.facts;
    if (!defaultRoute) throw new Error(`${host.name}: no default route to take the site's address from`);
    const uplink = defaultRoute.interface;
    const address = interfaces.find((each) => each.name === uplink)?.addresses.find((each) => each.family === 'inet')?.address;
    if (!address) throw new Error(`${host.name}: ${uplink}, the interface of the default route, has no IPv4 address`);

    const webGroup = group({ name: 'webhost', system: true });
    const account = user(
      { name: 'webhost', system: true, group: 'webhost', home: ROOT, shell: '/usr/sbin/nologin', comment: 'the web site' },
      { requires: webGroup },
    );
    const root = directory({ path: ROOT, owner: 'webhost', group: 'webhost', mode: '0755' }, { requires: account });
    const repository = aptRepository({ name: 'webhost', uris: [toolsRepository], suites: ['./'], key: toolsKey });
    const nginx = pkg({ name: 'nginx' });
    const nginxService = service({ name: 'nginx', running: true, enabled: true }, { requires: nginx });
    return [
      webGroup,
      account,
      root,
      file({ path: `${ROOT}/index.html`, content: `${host.name} at ${address}\n`, owner: 'webhost', group: 'webhost' }, { requires: root }),
      repository,
      pkg({ name: 'webhost-tools' }, { requires: repository }),
      nginx,
      templateFile(
        {
          path: SITE,
          source: fileURLToPath(new URL('site.conf.njk', import.meta.url)),
          vars: { hostName: host.name, uplink, address, port, root: ROOT },
        },
        { requires: nginx, notify: nginxService.on('reload') },
      ),
      symlink({ path: '/etc/nginx/sites-enabled/webhost', target: SITE }, { requires: nginx, notify: nginxService.on('reload') }),
      systemdUnit(
        { name: 'nginx.service', dropIn: '10-webhost', content: '[Service]\nLimitNOFILE=16384\nRestart=on-failure\n' },
        { requires: nginx, notify: nginxService.on('restart') },
      ),
      cronJob({
        name: 'webhost-logs',
        schedule: '17 3 * * *',
        command: "find /var/log/nginx -name 'webhost.*.gz' -mtime +14 -delete",
      }),
      nginxService,
    ];
  },
});
