/** keel's public API: what recipes and custom resources import from 'keel'. */
export { Type, type Static, type TSchema } from '@sinclair/typebox';
export { recipe, include, Vars, type Recipe, type HostContext, type HostInfo } from './engine/recipe.js';
export {
  defineResource,
  diffFields,
  fieldChange,
  Unknowable,
  type FieldChange,
  type ReadOutput,
  type ReadSpec,
  type ResourceDefinition,
  type ResourceFactory,
  type ResourceInstance,
  type ResourceOptions,
  type HandlerRef,
} from './engine/resource.js';
export { sh, quote, script, ShellCommand } from './shell/index.js';
export { Secret } from './shell/index.js';
export * from './schema/index.js';
export type * from './engine/events.js';
export { atomicWriteScript as writeFileScript } from './shell/index.js';
export { sysctl } from './resources/sysctl.js';
export { file, template } from './resources/file.js';
export { ifaceAlias } from './resources/ifaceAlias.js';
export { command } from './resources/command.js';
export { pkg } from './resources/package.js';
export { ipvsRule, IpvsScheduler } from './resources/ipvsRule.js';
export { kernelModule } from './resources/kernelModule.js';
export { service } from './resources/service.js';
