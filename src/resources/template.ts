/**
 * A file rendered from a nunjucks (Jinja2-compatible) template on the controller and its vars. The rendered
 * text is managed exactly like `file` content: read, diff (unified), atomic write and verification are file's.
 * A variable the vars do not define is an error naming the template file and line, raised when the recipe
 * declares the resource, before any host is contacted.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, type ReadSpec, type ResourceFactory } from '../engine/resource.js';
import { AbsolutePath, FileAttributes, StringEnum } from '../schema/index.js';
import { Secret, type ShellCommand } from '../shell/index.js';

const TemplateParams = Type.Object(
  {
    /** Where the rendered file goes on the host. */
    path: AbsolutePath,
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
    /** The template on the controller; relative to the working directory. `{% include %}` resolves beside it. */
    source: Type.Optional(Type.String({ pattern: '^[^\\x00-\\x1f\\x7f]+$', maxLength: 4096, title: 'a template file path' })),
    /** The template's variables; a `Secret` among them that the template uses makes the whole file secret. */
    vars: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }), Type.Unknown(), { additionalProperties: false }),
    ),
    ...FileAttributes,
  },
  { additionalProperties: false },
);

type TemplateParamsType = Static<typeof TemplateParams>;
/** The parameters of the file resource that the rendered text is handed to. */
type FileParams = Static<TObject<typeof FileAttributes>> & { path: string; state?: 'present' | 'absent'; content?: string | Secret };

/** What the template takes from the file resource: how a file is read, compared and written. */
export interface FileBehaviour<State, Field extends string> {
  read(params: FileParams): ReadSpec<State>;
  desired?(params: FileParams): Partial<State>;
  diff?(params: FileParams, current: State): FieldChange<Field>[];
  apply(params: FileParams, current: State, changes: readonly FieldChange<Field>[]): ShellCommand[];
}

/** Stands in for every secret in a second rendering: where the two renderings differ, a secret was used. */
const SECRET_STAND_IN = '\u0000keel-secret\u0000';

function mapSecrets(value: unknown, replace: (secret: Secret) => string): unknown {
  if (value instanceof Secret) return replace(value);
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, replace));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapSecrets(item, replace)]));
  }
  return value;
}

/** Renders the template file: plain text, or a `Secret` when the output depends on one. */
export function renderTemplate(source: string, vars: Record<string, unknown>): string | Secret {
  // Required on the first render: a recipe without templates never loads nunjucks.
  const nunjucks = createRequire(import.meta.url)('nunjucks') as typeof import('nunjucks');
  const path = resolve(source);
  const environment = new nunjucks.Environment(new nunjucks.FileSystemLoader(dirname(path)), {
    autoescape: false,
    throwOnUndefined: true,
  });
  const compiled = new nunjucks.Template(readFileSync(path, 'utf8'), environment, path);
  const render = (context: unknown): string => compiled.render(context as object);
  const revealed = render(mapSecrets(vars, (secret) => secret.reveal()));
  const standIn = render(mapSecrets(vars, () => SECRET_STAND_IN));
  return revealed === standIn ? revealed : new Secret(revealed);
}

const rendered = new WeakMap<TemplateParamsType, FileParams>();

/** The file resource's parameters for this template, rendered once per declaration. */
function asFile(params: TemplateParamsType): FileParams {
  const known = rendered.get(params);
  if (known) return known;
  const { source, vars, ...rest } = params;
  const fileParams: FileParams =
    params.state === 'absent' ? { path: params.path, state: 'absent' } : { ...rest, content: renderTemplate(source!, vars ?? {}) };
  rendered.set(params, fileParams);
  return fileParams;
}

/**
 * The template resource type, built on the file resource's behaviour. Resources do not import one another, so
 * the package entry joins the two: `templateResource(file.definition)`.
 */
export function templateResource<State, Field extends string>(
  fileResource: FileBehaviour<State, Field>,
): ResourceFactory<typeof TemplateParams, State, Field> {
  return defineResource<typeof TemplateParams, State, Field>({
    type: 'template',
    schema: TemplateParams,
    check(params) {
      if (params.state === 'absent') return [];
      if (params.source === undefined) return [{ path: ['source'], message: 'is required unless state is "absent"' }];
      try {
        asFile(params);
        return [];
      } catch (error) {
        return [{ path: ['source'], message: `${params.source} does not render: ${(error as Error).message.replace(/\s+/g, ' ').trim()}` }];
      }
    },
    key: (params) => params.path,
    read: (params) => fileResource.read(asFile(params)),
    ...(fileResource.desired ? { desired: (params: TemplateParamsType) => fileResource.desired!(asFile(params)) } : {}),
    ...(fileResource.diff ? { diff: (params: TemplateParamsType, current: State) => fileResource.diff!(asFile(params), current) } : {}),
    apply: (params, current, changes) => fileResource.apply(asFile(params), current, changes),
  });
}
