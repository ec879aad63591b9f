/** The line's configuration: schema, loader, secrets masking and recipe lookup. */
export { CONFIG_FILE_VARIABLE, ENV_OVERRIDES } from './env.js';
export {
  type ConfigOverrides,
  DEFAULT_CONFIG_FILE,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  type ParseConfigOptions,
  parseConfig,
  readConfig,
  resolveConfigFile,
} from './load.js';
export { type ConfigProblem, formatProblem } from './problems.js';
export { recipeFor } from './recipes.js';
export {
  type Config,
  type ConfigInput,
  configSchema,
  type ModelRecipe,
  type QaPolicy,
  type RecipeSettings,
} from './schema.js';
export { MASK, maskSecrets } from './secrets.js';
export { SETTINGS, type SettingInfo } from './settings.js';
