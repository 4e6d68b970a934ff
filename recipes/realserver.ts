/**
 * An LVS-DR real server, in the order of the walk-through's real-server steps. Each step is persisted, which
 * the walk-through leaves out: sysctls in /etc/sysctl.d, the VIP in a boot unit, nginx enabled.
 * Tags (`--tags`, `--skip-tags`): arp, vip, web, packages; the recipe's own: lvs, and its name.
 */
import { AddressLabel, file, InterfaceName, Ipv4, ifaceAlias, lvsRollout, pkg, recipe, service, sysctl, Type, Vars } from 'keel';

const SYSCTL_FILE = '/etc/sysctl.d/60-lvs-dr.conf';
const ARP = { tags: ['arp'] };

export default recipe({
  name: 'realserver',
  hosts: 'realservers',
  tags: ['lvs'],
  vars: Vars({
    vip: Ipv4,
    lanInterface: InterfaceName,
    /** Default: lo:8. */
    loopbackLabel: Type.Optional(AddressLabel),
    /** The index page. Default: `from <host name>`. */
    page: Type.Optional(Type.String({ maxLength: 65536 })),
  }),
  resources: (host) => {
    const { vip, lanInterface, loopbackLabel = 'lo:8', page = `from ${host.name}` } = host.vars;
    const nginx = pkg({ name: 'nginx' }, { tags: ['web', 'packages'] });
    return [
      // echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_ignore
      sysctl({ key: `net.ipv4.conf.${lanInterface}.arp_ignore`, value: 1, file: SYSCTL_FILE }, ARP),
      // echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce
      sysctl({ key: `net.ipv4.conf.${lanInterface}.arp_announce`, value: 2, file: SYSCTL_FILE }, ARP),
      // echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore
      sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1, file: SYSCTL_FILE }, ARP),
      // echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce
      sysctl({ key: 'net.ipv4.conf.all.arp_announce', value: 2, file: SYSCTL_FILE }, ARP),
      // ifconfig lo:8 192.168.9.100 netmask 255.255.255.255
      ifaceAlias({ device: 'lo', address: vip, prefix: 32, label: loopbackLabel }, { tags: ['vip'] }),
      // yum install httpd -y (nginx listens on the wildcard address, so it answers for the VIP too)
      nginx,
      // echo "from <this host>" > /var/www/html/index.html
      file({ path: '/var/www/html/index.html', content: `${page}\n` }, { requires: nginx, tags: ['web'] }),
      // service httpd start
      service({ name: 'nginx', running: true, enabled: true }, { requires: nginx, tags: ['web'] }),
    ];
  },
  // With --serial: out of the directors' rotation while it changes, back once it serves its page for the VIP.
  rollout: (host) => {
    const { vip, page = `from ${host.name}` } = host.vars;
    return lvsRollout(host, { health: { vip, body: page } });
  },
});
