/**
 * The active ARP probe: from one director, on the interface that holds a VIP, ARP requests for that VIP from the
 * address 0.0.0.0 (as duplicate address detection sends them). The director does not answer its own requests, so
 * every MAC that answers is another host that claims the VIP: ARP flux. It is broadcast only on the director's own
 * LAN interface, for a VIP of its own table, so it reaches no host outside that LAN.
 */
import type { Section } from '../engine/batch.js';
import { sh } from '../shell/index.js';

export interface ArpProbe {
  vip: string;
  device: string;
  /** false when the director has no arping. */
  tool: boolean;
  /** The MACs that answered, lower case, each once. */
  answeredBy: string[];
}

/** Thomas Habets' arping (Debian's `arping`) or iputils' (`iputils-arping`), whichever the director has; three requests, 5 s at most. */
export function arpProbeSection(vip: string, device: string): Section {
  return {
    name: `arp ${vip} ${device}`,
    streamed: true,
    command: sh`command -v arping >/dev/null 2>&1 || { echo @no-arping; exit 0; }
if arping --help 2>&1 | grep -q Habets; then timeout 5 arping -0 -i ${device} -c 3 -W 0.5 ${vip} 2>&1; else timeout 5 arping -D -I ${device} -c 3 ${vip} 2>&1; fi
true`,
  };
}

export function parseArpProbe(vip: string, device: string, stdout: string): ArpProbe {
  if (stdout.startsWith('@no-arping')) return { vip, device, tool: false, answeredBy: [] };
  const macs = [...stdout.matchAll(/\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/gi)].map((match) => match[1]!.toLowerCase());
  return {
    vip,
    device,
    tool: true,
    answeredBy: [...new Set(macs)].filter((mac) => mac !== 'ff:ff:ff:ff:ff:ff' && mac !== '00:00:00:00:00:00'),
  };
}
