// The GRPO run's configuration. The schema table and the jobs derived from it live in src/grpo/config/:
//   enums.ts     the enumerations (one declaration each)
//   fields.ts    what a schema entry says, and its builders
//   schema.ts    the table: type, default, range, group, doc, source, TRL decision of every field;
//                GrpoConfig, DEFAULT_CONFIG, CONFIG_DOCS
//   validate.ts  range, field and cross-field checks, keyed by field
//   json.ts      JSON import
//   trl.ts       export in TRL's names
//   docs.ts      docs/CONFIG.md
// This module re-exports their public names, so importers keep one path.

export * from './config/enums';
export { CONFIG_DOCS, CONFIG_KEYS, DEFAULT_CONFIG, FIELDS as CONFIG_FIELDS, SCHEMA as CONFIG_SCHEMA, cloneConfig, defaultConfig } from './config/schema';
export type { ConfigFieldDoc, ConfigKey, GrpoConfig, RewardFuncConfig } from './config/schema';
export type { FieldEntry, Group as ConfigGroup, Range as ConfigRange, TrlDecision, ValueKind } from './config/fields';
export { checkConfig, configWarnings, modelValidationContext, rangeProblem, summaryValidationContext, validateConfig } from './config/validate';
export type { ConfigProblem, ValidationContext } from './config/validate';
export { parseConfigJson } from './config/json';
export { configToTrlJson, NOT_IN_RLOO_CONFIG } from './config/trl';
export type { TrlExport } from './config/trl';
export { configDocsMarkdown } from './config/docs';
