/**
 * The benchmark's recipe: the part of recipes/realserver.ts that keel and Ansible (bench/playbook.yml) can both do
 * on sshd-only lab hosts. The VIP is not persisted: those hosts have no init system to restore it at boot.
 * bench/run.ts sets the vars for both tools.
 */
import { AbsolutePath, file, InterfaceName, Ipv4, ifaceAlias, recipe, sysctl, Type, Vars } from 'keel';

export default recipe({
  name: 'bench-realserver',
  vars: Vars({ vip: Ipv4, lanInterface: InterfaceName, sysctlFile: Type.String(), markerFile: AbsolutePath }),
  resources: (host) => {
    const { vip, lanInterface, sysctlFile, markerFile } = host.vars;
    return [
      sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1, file: sysctlFile }),
      sysctl({ key: 'net.ipv4.conf.all.arp_announce', value: 2, file: sysctlFile }),
      sysctl({ key: `net.ipv4.conf.${lanInterface}.arp_ignore`, value: 1, file: sysctlFile }),
      sysctl({ key: `net.ipv4.conf.${lanInterface}.arp_announce`, value: 2, file: sysctlFile }),
      ifaceAlias({ device: 'lo', address: vip, prefix: 32, label: 'lo:8', persist: false }),
      file({ path: markerFile, content: `vip ${vip}\nhost ${host.name}\n`, mode: '0644' }),
    ];
  },
});
