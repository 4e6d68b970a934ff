/** Holding dpkg's lock inside a lab host, the way another package manager run would. */
import type { Lab } from '../../lab/hosts.js';

/**
 * Holds dpkg's frontend lock the way apt and dpkg take it, with fcntl (flock(1) takes a different kind of lock,
 * which apt does not see), for `seconds`. Perl is essential on Debian, so it is on every host. Returns the holder's pid.
 */
export async function holdDpkgLock(lab: Lab, host: string, seconds: number): Promise<number> {
  const holder = `use Fcntl; $| = 1; open(my $lock, "+<", "/var/lib/dpkg/lock-frontend") or die $!; my $range = pack("s s x4 q q l x4", F_WRLCK, 0, 0, 0, 0); fcntl($lock, F_SETLKW, $range) or die $!; print "held\\n"; sleep ${seconds}`;
  const started = await lab.exec(host, `perl -e '${holder}' > /run/lock-holder.out 2>&1 & echo $!`);
  const held = await lab.exec(host, 'for i in $(seq 50); do grep -q held /run/lock-holder.out && exit 0; sleep 0.1; done; exit 1');
  if (started.code !== 0 || held.code !== 0) throw new Error(`cannot hold the dpkg lock on ${host}: ${started.stderr}`);
  return Number(started.stdout);
}
