/**
 * A recipe that branches on its host's facts: the web server's package by package manager, and ARP settings on the
 * interface of the default route instead of a var.
 */
import { pkg, recipe, sysctl } from 'keel';

export default recipe({
  name: 'web',
  facts: true,
  resources: (host) => {
    const { packageManager, defaultRoute } = host.facts;
    if (packageManager !== 'apt' && packageManager !== 'dnf')
      throw new Error(`${host.name}: no apt or dnf here (package manager: ${packageManager})`);
    if (!defaultRoute) throw new Error(`${host.name}: no default route to take the interface from`);
    const uplink = defaultRoute.interface;
    return [
      pkg({ name: packageManager === 'apt' ? 'apache2' : 'httpd' }),
      sysctl({ key: `net.ipv4.conf.${uplink}.arp_ignore`, value: 1 }),
      sysctl({ key: `net.ipv4.conf.${uplink}.arp_announce`, value: 2 }),
    ];
  },
});
