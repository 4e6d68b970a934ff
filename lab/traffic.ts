/** What a client of the LVS lab sees: who answers its requests to the VIP, and who answers ARP for it. */
import { sh } from '../src/shell/index.js';
import type { LvsLab } from './lvsLab.js';

export interface Traffic {
  /** The host named by each answer (`from rs1` → `rs1`), `-` for no answer. */
  answers: string[];
  /** MAC addresses that answered the client's ARP requests for the VIP. */
  arpResponders: string[];
  /** The MAC the client's neighbour table holds for the VIP after the requests. */
  neighbour: string;
}

/** `requests` separate connections (a new curl each), then the neighbour entry, then arping. */
export async function observeTraffic(
  lab: LvsLab,
  options: { client: string; vip: string; requests: number; lanInterface?: string },
): Promise<Traffic> {
  const { client, vip, requests } = options;
  const lan = options.lanInterface ?? 'eth0';
  const answers = await lab.output(client, sh`for i in $(seq ${requests}); do curl -s --max-time 3 http://${vip}/ || echo -; done`.text);
  const neighbour = await lab.output(client, sh`ip neigh show ${vip} dev ${lan}`.text);
  // arping exits non-zero when nobody answers, which is an observation too.
  const arping = await lab.exec(client, sh`arping -c 3 -w 5 -I ${lan} ${vip}`.text);
  return {
    answers: answers
      .trim()
      .split('\n')
      .map((line) => /^from (\S+)$/.exec(line.trim())?.[1] ?? '-'),
    arpResponders: [...new Set([...arping.stdout.matchAll(/bytes from ([0-9a-f:]{17})/g)].map((match) => match[1]!))],
    neighbour: /lladdr ([0-9a-f:]{17})/.exec(neighbour)?.[1] ?? '',
  };
}

/** Round robin over two or more servers: every answer came, and no server answered twice in a row. */
export function alternates(answers: string[], servers: string[]): boolean {
  return (
    answers.every((answer, index) => servers.includes(answer) && (index === 0 || answer !== answers[index - 1])) &&
    servers.every((server) => answers.includes(server))
  );
}

export async function interfaceMac(lab: LvsLab, host: string, lanInterface = 'eth0'): Promise<string> {
  return (await lab.output(host, sh`cat /sys/class/net/${lanInterface}/address`.text)).trim();
}

export interface LoadResult {
  requests: number;
  failures: number;
}

export interface Load {
  /** Lets the loop finish (after at least its minimum of requests) and returns what it counted. */
  stop(): Promise<LoadResult>;
}

/**
 * A bounded client load loop through the VIP: one request after another (a new connection each, each with a short
 * timeout) until `stop()`, but at least `minRequests` and at most `maxRequests`. A request fails unless it is
 * answered 200.
 */
export function startLoad(
  lab: LvsLab,
  options: { client: string; vip: string; minRequests: number; maxRequests: number; timeoutSeconds?: number },
): Load {
  const stopFile = '/run/keel-load.stop';
  const loop = sh`rm -f ${stopFile}; ok=0; failed=0; i=0
while [ $i -lt ${options.maxRequests} ] && { [ $i -lt ${options.minRequests} ] || [ ! -e ${stopFile} ]; }; do
  i=$((i + 1))
  if [ "$(curl -s -o /dev/null --max-time ${options.timeoutSeconds ?? 1} -w '%{http_code}' http://${options.vip}/)" = 200 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
done
echo "$i $failed"`;
  const running = lab.output(options.client, loop.text);
  return {
    async stop() {
      await lab.output(options.client, sh`touch ${stopFile}`.text);
      const [requests, failures] = (await running).trim().split(' ').map(Number);
      return { requests: requests!, failures: failures! };
    },
  };
}
