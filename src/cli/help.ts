/** The help text every run command shares: examples and the exit codes. */
export const EXIT_CODES = `
Exit codes (OR-ed together when several apply):
  0    ok: applied, or in sync
  1    usage, inventory or recipe error, or another run holds the lock (no host was contacted)
  2    drift found / changes pending, an owed handler too (plan, check)
  4    a resource failed (could not be read, changed or verified), or --max-fail left hosts not attempted
  8    a host was unreachable
  130  interrupted (Ctrl-C): no new change started after it; the summary counts what was not attempted`;

export const EXAMPLES = `
Examples:
  keel plan  recipes/director.ts recipes/realserver.ts -i inventory/lab.yaml
  keel apply recipes/realserver.ts -i inventory/lab.yaml --limit rs1,rs2
  keel check recipes/*.ts -i inventory/prod.yaml --json report.json
  keel check recipes/realserver.ts -i inventory/site.yaml --connection local --limit "$(hostname)"
  keel plan  recipes/director.ts -i inventory/lab.yaml -e vip=192.168.9.101 -e @overrides.yaml
  keel apply recipes/*.ts -i inventory/lab.yaml --tags vip,arp --skip-tags packages -v
  keel run   -i inventory/lab.yaml -l realservers -- systemctl is-active nginx
  keel check recipes/*.ts -i inventory/prod.yaml --shard 2/4 --json shard-2.json`;
