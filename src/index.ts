/** keel's public API: what recipes and custom resources import from 'keel'. */
export { type Static, type TSchema, Type } from '@sinclair/typebox';
export type * from './engine/events.js';
export { type HostContext, type HostInfo, include, type Recipe, recipe, Vars } from './engine/recipe.js';
export {
  defineResource,
  diffFields,
  type FieldChange,
  fieldChange,
  type HandlerRef,
  type ReadOutput,
  type ReadSpec,
  type ResourceDefinition,
  type ResourceFactory,
  type ResourceInstance,
  type ResourceOptions,
  type Settle,
  Unknowable,
} from './engine/resource.js';
export type { Facts } from './facts/model.js';
export { aptRepository } from './resources/aptRepository.js';
export { command } from './resources/command.js';
export { CronSchedule, cronJob } from './resources/cronJob.js';
export { directory } from './resources/directory.js';
export { file, template } from './resources/file.js';
export { group } from './resources/group.js';
export { ifaceAlias } from './resources/ifaceAlias.js';
export { IpvsScheduler, ipvsRule } from './resources/ipvsRule.js';
export { kernelModule } from './resources/kernelModule.js';
export { lineInFile } from './resources/lineInFile.js';
export { pkg } from './resources/package.js';
export { service } from './resources/service.js';
export { symlink } from './resources/symlink.js';
export { sysctl } from './resources/sysctl.js';
export { systemdUnit } from './resources/systemdUnit.js';
export { user } from './resources/user.js';
export { type LvsHealthCheck, type LvsRolloutOptions, lvsRollout } from './rollout/lvs.js';

import { file as fileResource } from './resources/file.js';
import { templateResource } from './resources/template.js';

export { renderTemplate } from './resources/template.js';
/** `template[PATH]`: a file rendered from a nunjucks (Jinja2) template; see docs/resources.md. */
export const templateFile = templateResource(fileResource.definition);
export * from './schema/index.js';
export { atomicWriteScript as writeFileScript, quote, Secret, SecretInterpolationError, ShellCommand, script, sh } from './shell/index.js';
