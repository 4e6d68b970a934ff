/**
 * An apt source: `/etc/apt/sources.list.d/NAME.sources` (deb822) or `NAME.list` (one line), and the public key
 * it is signed with, `/etc/apt/keyrings/NAME.asc`, referenced by `Signed-By`. The key is given as content, never
 * fetched from a URL: what the host trusts is in the recipe. When either file changes, `apt-get update` runs for
 * this source alone, so a later `package` that requires it finds its packages.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, fieldChange } from '../engine/resource.js';
import { StringEnum } from '../schema/index.js';
import { atomicWriteScript, ensureDirectory, ShellCommand, sh } from '../shell/index.js';

const SOURCES_DIRECTORY = '/etc/apt/sources.list.d';
const KEYRING_DIRECTORY = '/etc/apt/keyrings';
const ARMORED_KEY = /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]*\n-----END PGP PUBLIC KEY BLOCK-----\n?$/;

const Word = (title: string) => Type.String({ pattern: '^(\\./|[A-Za-z0-9][A-Za-z0-9._/~+-]*)$', maxLength: 200, title });

const AptRepositoryParams = Type.Object(
  {
    /** Names the files: `NAME.sources` (or `.list`) and `NAME.asc`. */
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 100, title: 'a lower-case file name without extension' }),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
    uris: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^(https?|file):[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+$', maxLength: 2048, title: 'an http, https or file URI' }),
        {
          minItems: 1,
          uniqueItems: true,
        },
      ),
    ),
    /** `bookworm`, `bookworm-updates`; a flat repository's is `./`. */
    suites: Type.Optional(Type.Array(Word('a suite such as bookworm'), { minItems: 1, uniqueItems: true })),
    /** `main`, `contrib`; none for a flat repository. */
    components: Type.Optional(Type.Array(Word('a component such as main'), { uniqueItems: true })),
    architectures: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 32, title: 'an architecture such as amd64' }), {
        minItems: 1,
        uniqueItems: true,
      }),
    ),
    /** The ASCII-armored public key itself (`gpg --armor --export`), never a URL to fetch it from. */
    key: Type.Optional(Type.String({ maxLength: 1024 * 1024, title: 'an ASCII-armored public key' })),
    /** `deb822` writes NAME.sources; `oneLine` writes NAME.list with one `deb [signed-by=…]` line per URI and suite. */
    format: Type.Optional(StringEnum(['deb822', 'oneLine'], { default: 'deb822' })),
    lockWaitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, default: 60 })),
  },
  { additionalProperties: false },
);

type AptRepositoryParamsType = typeof AptRepositoryParams.static;

export interface AptRepositoryState {
  /** The source file's text; null when it does not exist. */
  source: string | null;
  /** The key file's text; null when it does not exist. */
  key: string | null;
}

function sourcePath(params: AptRepositoryParamsType): string {
  return `${SOURCES_DIRECTORY}/${params.name}.${params.format === 'oneLine' ? 'list' : 'sources'}`;
}

function keyPath(params: AptRepositoryParamsType): string {
  return `${KEYRING_DIRECTORY}/${params.name}.asc`;
}

/** The source file keel writes for the parameters. */
export function sourceText(params: AptRepositoryParamsType): string {
  const uris = params.uris!;
  const suites = params.suites!;
  const components = params.components ?? [];
  const options = [`signed-by=${keyPath(params)}`, ...(params.architectures ? [`arch=${params.architectures.join(',')}`] : [])];
  if (params.format === 'oneLine') {
    return uris.flatMap((uri) => suites.map((suite) => `deb [${options.join(' ')}] ${[uri, suite, ...components].join(' ')}\n`)).join('');
  }
  return [
    'Types: deb',
    `URIs: ${uris.join(' ')}`,
    `Suites: ${suites.join(' ')}`,
    ...(components.length > 0 ? [`Components: ${components.join(' ')}`] : []),
    ...(params.architectures ? [`Architectures: ${params.architectures.join(' ')}`] : []),
    `Signed-By: ${keyPath(params)}`,
    '',
  ].join('\n');
}

/** Two sections, `source` and `key`, each `absent` or `present` followed by the file in base64. */
export function parseAptRepositoryRead(stdout: string): AptRepositoryState {
  const sections = stdout.split(/^--(source|key)--\n/m);
  if (sections[0] !== '' || sections[1] !== 'source' || sections[3] !== 'key' || sections.length !== 5)
    throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  const file = (section: string): string | null => {
    const [head, ...body] = section.split('\n');
    if (head === 'absent') return null;
    if (head !== 'present') throw new Error(`unexpected file section: ${JSON.stringify(section.slice(0, 80))}`);
    return Buffer.from(body.join(''), 'base64').toString('utf8');
  };
  return { source: file(sections[2]!), key: file(sections[4]!) };
}

function readFile(path: string): ShellCommand {
  return sh`if [ -f ${path} ]; then echo present; base64 ${path}; else echo absent; fi`;
}

export const aptRepository = defineResource({
  type: 'aptRepository',
  schema: AptRepositoryParams,
  check(params) {
    if (params.state === 'absent') return [];
    const issues = (['uris', 'suites', 'key'] as const)
      .filter((field) => params[field] === undefined)
      .map((field) => ({ path: [field], message: 'is required unless state is "absent"' }));
    if (params.key !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(params.key.trim()))
      issues.push({ path: ['key'], message: 'is a URL; give the armored key itself (its content), which keel will not fetch' });
    else if (params.key !== undefined && !ARMORED_KEY.test(params.key))
      issues.push({ path: ['key'], message: 'must be an ASCII-armored public key (-----BEGIN PGP PUBLIC KEY BLOCK----- …)' });
    return issues;
  },
  key: (params) => params.name,
  read(params) {
    return {
      command: sh`echo --source--; ${readFile(sourcePath(params))}; echo --key--; ${readFile(keyPath(params))}`,
      parse: ({ stdout }) => parseAptRepositoryRead(stdout),
    };
  },
  desired: (params) => (params.state === 'absent' ? { source: null, key: null } : { source: sourceText(params), key: params.key! }),
  diff(params, current) {
    const wanted = params.state === 'absent' ? { source: null, key: null } : { source: sourceText(params), key: params.key! };
    return (['source', 'key'] as const)
      .filter((field) => current[field] !== wanted[field])
      .map((field) => fieldChange(field, current[field], wanted[field]));
  },
  apply(params) {
    if (params.state === 'absent') return [sh`rm -f -- ${sourcePath(params)} ${keyPath(params)}`];
    const source = sourcePath(params);
    return [
      ensureDirectory(KEYRING_DIRECTORY),
      atomicWriteScript(keyPath(params), params.key!, { mode: 0o644, owner: '0', group: '0' }),
      atomicWriteScript(source, sourceText(params), { mode: 0o644, owner: '0', group: '0' }),
      // Only this source, without List-Cleanup (which would delete every other source's lists); a signature
      // apt cannot verify is only a warning, so that it keeps the old lists: --error-on=any makes it fail. A failed
      // update takes the source out again, so the host never runs on it unrefreshed and the next apply retries.
      new ShellCommand(
        `${sh`apt-get update -q --error-on=any -o DPkg::Lock::Timeout=${params.lockWaitSeconds ?? 60} -o Dir::Etc::sourcelist=${source} -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0`.text} || { status=$?; ${sh`rm -f -- ${source}`.text}; exit $status; }`,
      ),
    ];
  },
});
