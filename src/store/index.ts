/** The store's public surface: durable documents, append-only logs and the audit trail. */
export { DurableJsonAdapter, serializeDocument } from './adapter.js';
export {
  AppendLog,
  type AppendLogOptions,
  type AppendLogRecord,
  type AppendLogRepair,
  DEFAULT_MAX_SEGMENT_BYTES,
} from './append-log.js';
export {
  type AuditBadEntry,
  type AuditEntry,
  type AuditQuery,
  type AuditRecordInput,
  AuditTrail,
  type AuditTrailOptions,
  type AuditVerifyResult,
  GENESIS_HASH,
  hashAuditEntry,
} from './audit.js';
export { canonicalJson } from './canonical-json.js';
export { type Doc, DocumentStore, type DocumentStoreOptions } from './documents.js';
export { fsyncDir, mkdirDurable, readFileIfExists, removeFileDurable, writeFileDurable } from './durable.js';
export { DATA_FORMAT, IDENTITY_FILE, StoreIdentity, type StoreIdentityDoc } from './identity.js';
export {
  MIGRATIONS,
  type Migration,
  type MigrationHook,
  type MigrationResult,
  type MigrationStep,
  migrateStore,
  storeFormat,
} from './migrations.js';
export { checkName, fromSafeName, safeName } from './names.js';
