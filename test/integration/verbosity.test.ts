/**
 * `-v` and `-vv` through the real CLI over SSH to a lab host: the commands as sent, per-resource times, raw
 * outputs; a Secret never shows, not even base64-encoded as a file read prints it back. The default output stays.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { keel, recipeProject } from '../support/cli.js';
import { writeLabInventory } from '../support/labInventory.js';

const SECRET = 'tok-3f9a-hunter2';
const SECRET_BASE64 = Buffer.from(`${SECRET}\n`).toString('base64');

let lab: Lab;
let project: string;
let inventory: string;

beforeAll(async () => {
  lab = await startHosts({ lab: 'verbosity', count: 1, kind: 'light' });
  project = recipeProject({
    'token.ts': `
import { file, recipe, SecretString, sysctl, template, Vars } from 'keel';
export default recipe({
  name: 'token',
  vars: Vars({ token: SecretString }),
  resources: ({ vars }) => [
    sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 }),
    file({ path: '/etc/keel-token', content: template('{{ token }}\\n', { token: vars.token }), mode: '0600' }),
  ],
});
`,
  });
  inventory = writeLabInventory(join(project, 'lab.yaml'), lab, { vars: { token: { secret: { env: 'KEEL_TEST_TOKEN' } } } });
});

afterAll(async () => {
  await lab?.down();
});

const run = (args: string[]) => keel([...args, '-i', inventory], { cwd: project, env: { KEEL_TEST_TOKEN: SECRET } });

/** The lines `-v` prints for one section: its name, then its command, `$` on the first line and `>` after. */
function section(lines: string[], name: string): string[] {
  const start = lines.indexOf(`h1:   ${name}`);
  if (start < 0) throw new Error(`no section ${name} in:\n${lines.join('\n')}`);
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('h1:     '));
  return lines.slice(start, end);
}

describe('-v over SSH', () => {
  it('shows the commands of the apply as sent, the Secret as a size, and each resource with its time', () => {
    const apply = run(['apply', 'token.ts', '-v']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const lines = apply.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('h1: invocation 1 sent: 2 sections');
    const read = section(lines, 'read sysctl[net.ipv4.conf.all.arp_ignore]');
    expect(read.slice(0, 2)).toEqual([
      'h1:   read sysctl[net.ipv4.conf.all.arp_ignore]',
      "h1:     $ if [ -e /proc/sys/net/ipv4/conf/all/arp_ignore ]; then printf '%s' live:; cat -- /proc/sys/net/ipv4/conf/all/arp_ignore; else echo missing; exit 0; fi",
    ]);
    expect(read.slice(2).every((line) => line.startsWith('h1:     > '))).toBe(true);
    const write = section(lines, 'apply file[/etc/keel-token] step 1');
    expect(write).toEqual([
      'h1:   apply file[/etc/keel-token] step 1',
      expect.stringMatching(/^h1: {5}\$ __keel_tmp=\/etc\/\.keel\.[0-9a-f]{12}$/),
      `h1:     > if ( umask 177; set -C; exec >"$__keel_tmp" || exit 1; printf '%s' (${SECRET.length + 1} bytes) || { rm -f -- "$__keel_tmp"; exit 1; }`,
      `h1:     > ); then { [ ! -e /etc/keel-token ] || { [ -O /etc/keel-token ] && [ -G /etc/keel-token ] && [ ! -g /etc ]; } || chown "$(stat -L -c %u:%g -- /etc/keel-token)" "$__keel_tmp"; } && mv -f -- "$__keel_tmp" /etc/keel-token || { rm -f -- "$__keel_tmp"; false; }; else false; fi`,
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/^h1: invocation 1 returned in \d+ ms: exit 0$/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^h1: file\[\/etc\/keel-token\] changed: type: "absent" → "file", content: absent → "\[redacted\]", mode: absent → "0600" \(\d+ ms\)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^h1: sysctl\[net\.ipv4\.conf\.all\.arp_ignore\] changed: value: "0" → "1", persisted: absent → "1" \(\d+ ms\)$/,
      ),
    );
    expect(apply.stdout).not.toContain(SECRET);
    expect(apply.stdout).not.toContain(SECRET_BASE64);
  });

  it('-vv adds the raw outputs, and withholds those of the resource that holds the Secret', () => {
    const plan = run(['plan', 'token.ts', '-vv']);
    expect(plan.code).toBe(0);
    const lines = plan.stdout.split('\n');
    const outputs = lines.slice(lines.findIndex((line) => /^h1: invocation 1 returned/.test(line)) + 1);
    expect(outputs.slice(0, 2)).toEqual([
      'h1:   read sysctl[net.ipv4.conf.all.arp_ignore]: exit 0',
      expect.stringMatching(/^h1: {5}stdout\| /),
    ]);
    expect(outputs).toContain('h1:   read file[/etc/keel-token]: exit 0');
    expect(outputs).toContain('h1:     (output withheld: the resource holds a secret)');
    expect(lines).toContainEqual(expect.stringMatching(/^h1: file\[\/etc\/keel-token\] unchanged \(\d+ ms\)$/));
    expect(plan.stdout).not.toContain(SECRET);
    expect(plan.stdout).not.toContain(SECRET_BASE64);
  });

  it('without -v the output stays as it was', () => {
    const plan = run(['plan', 'token.ts']);
    expect(plan).toMatchObject({ code: 0, stderr: '' });
    expect(plan.stdout).toMatch(/^plan: 1 host \(1 ok\); resources: 2 unchanged, 0 to change, 0 failed in [\d.]+ s; exit 0\n$/);
  });
});
