/** Bad parameters of the account, directory, link, line and cron resources stop a run before any host is contacted, naming the recipe line. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keel, recipeProject } from '../support/cli.js';
import { type WatchedPort, watchPort } from '../support/watchedPort.js';

let watched: WatchedPort;
let port: number;
let project: string;

const recipeWith = (resource: string): string => `import { cronJob, directory, group, lineInFile, recipe, symlink, user, Vars } from 'keel';
export default recipe({
  name: 'bad',
  vars: Vars({}),
  resources: () => [
    ${resource},
  ],
});
`;

const BAD: [string, string, string][] = [
  [
    'cron.ts',
    "cronJob({ name: 'backup', schedule: '30 2 * *', command: 'true' })",
    'invalid cronJob parameters: schedule must be a cron schedule',
  ],
  [
    'regexp.ts',
    "lineInFile({ path: '/etc/motd', line: 'x', regexp: '(' })",
    'invalid lineInFile parameters: regexp is not a valid regular expression',
  ],
  ['user.ts', "user({ name: 'deploy', groups: ['adm', 'a,b'] })", 'invalid user parameters: groups[1] must be a user or group name'],
  ['group.ts', "group({ name: '-r' })", 'invalid group parameters: name must be a user or group name'],
  ['directory.ts', "directory({ path: '/srv/www', mode: 'u+rwx' })", 'invalid directory parameters: mode must be an octal file mode'],
  ['symlink.ts', "symlink({ path: 'relative', target: '/srv' })", 'invalid symlink parameters: path must be an absolute path'],
];

beforeAll(async () => {
  watched = await watchPort();
  port = watched.port;
  project = recipeProject(Object.fromEntries(BAD.map(([file, resource]) => [file, recipeWith(resource)])));
  writeFileSync(join(project, 'hosts.yaml'), `hosts:\n  web1:\n    address: 127.0.0.1\n    port: ${port}\n`);
});

afterAll(() => watched.close());

describe('bad resource parameters', () => {
  it.each(BAD)('%s: exit 1, the recipe line and what the parameter must be, no connection', async (file, _resource, message) => {
    const result = keel(['plan', file, '-i', 'hosts.yaml'], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:6: ${message}`);
    expect(await watched.connections()).toBe(0);
  });
});
