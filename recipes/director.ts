/**
 * An LVS-DR director, in the order of the walk-through's director steps, with the real servers taken from
 * the inventory group `realservers`. What the walk-through leaves out is marked: ip_vs loaded at boot,
 * send_redirects off, drained real servers really drained (expire_nodest_conn), and the table persisted (ipvsRule keeps it in the distribution's rules file).
 * Tags (`--tags`, `--skip-tags`): vip, forwarding, ipvs, packages; the recipe's own: lvs, and its name.
 */
import {
  AddressLabel,
  InterfaceName,
  Ipv4,
  IpvsScheduler,
  ifaceAlias,
  ipvsRule,
  kernelModule,
  Port,
  pkg,
  recipe,
  sysctl,
  Type,
  Vars,
} from 'keel';

const SYSCTL_FILE = '/etc/sysctl.d/60-lvs-dr.conf';
const FORWARDING = { tags: ['forwarding'] };
const IPVS = { tags: ['ipvs'] };

export default recipe({
  name: 'director',
  hosts: 'directors',
  tags: ['lvs'],
  vars: Vars({
    vip: Ipv4,
    /** Default: 80. */
    port: Type.Optional(Port),
    /** Default: rr. */
    scheduler: Type.Optional(IpvsScheduler),
    lanInterface: InterfaceName,
    /** Default: the LAN interface's name with `:0`. */
    vipLabel: Type.Optional(AddressLabel),
  }),
  resources: (host) => {
    const { vip, port = 80, scheduler = 'rr', lanInterface, vipLabel = `${lanInterface}:0` } = host.vars;
    const ipvsadm = pkg({ name: 'ipvsadm' }, { tags: ['ipvs', 'packages'] });
    const ipVs = kernelModule({ name: 'ip_vs' }, IPVS);
    return [
      // ifconfig eth0:0 192.168.9.100/24
      ifaceAlias({ device: lanInterface, address: vip, prefix: 24, label: vipLabel }, { tags: ['vip'] }),
      // echo 1 > /proc/sys/net/ipv4/ip_forward
      sysctl({ key: 'net.ipv4.ip_forward', value: 1, file: SYSCTL_FILE }, FORWARDING),
      // (not in the walk-through) a forwarding host sends ICMP redirects by default; DR must not
      sysctl({ key: 'net.ipv4.conf.all.send_redirects', value: 0, file: SYSCTL_FILE }, FORWARDING),
      sysctl({ key: `net.ipv4.conf.${lanInterface}.send_redirects`, value: 0, file: SYSCTL_FILE }, FORWARDING),
      // yum install ipvsadm -y
      ipvsadm,
      // (not in the walk-through) ip_vs loaded now and at boot
      ipVs,
      // (not in the walk-through) a packet of a new connection whose real server is at weight 0 is scheduled anew: in DR
      // the director never sees a connection close, so a client port used again would otherwise reach a drained server
      sysctl({ key: 'net.ipv4.vs.expire_nodest_conn', value: 1, file: SYSCTL_FILE }, { requires: ipVs, ...IPVS }),
      // ipvsadm -A -t 192.168.9.100:80 -s rr
      // ipvsadm -a -t 192.168.9.100:80 -r <each real server> -g
      ipvsRule(
        {
          name: 'web',
          protocol: 'tcp',
          address: vip,
          port,
          scheduler,
          realServers: host.hostsOf('realservers').map((realServer) => ({ address: realServer.address, forwarding: 'route', weight: 1 })),
        },
        { requires: [ipvsadm, ipVs], ...IPVS },
      ),
    ];
  },
});
