/**
 * A recipe built on another: the LVS-DR real server, plus loose reverse-path filtering (a multi-homed real
 * server must not drop replies whose route leaves by another interface) and a login banner.
 */
import { include, lineInFile, recipe, sysctl } from 'keel';
import realserver from '../../../recipes/realserver.js';

export default recipe({
  name: 'hardened-realserver',
  hosts: realserver.hosts,
  vars: realserver.vars,
  resources: (host) => [
    ...include(realserver, host),
    sysctl({ key: 'net.ipv4.conf.all.rp_filter', value: 2, file: '/etc/sysctl.d/60-lvs-dr.conf' }),
    lineInFile({ path: '/etc/motd', line: `${host.name}: a real server of the LVS cluster at ${host.vars.vip}, managed by keel.` }),
  ],
});
