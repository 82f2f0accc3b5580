export { createLatchkey, toPublicUser } from './latchkey.js';
export type { HashingStats } from './password.js';
export type {
  AuthReply,
  AuthRequest,
  AuthResult,
  ConnectionInfo,
  Latchkey,
  LatchkeyAdmin,
  OperatorSession,
  RequestHead,
} from './latchkey.js';
export { checkOptions, ConfigError, DEFAULT_CSP, resolveConfig } from './config.js';
export type { OptionsWithoutKeys } from './config.js';
export type {
  HeaderOptions,
  LatchkeyConfig,
  OidcOptions,
  UpstreamOptions,
  LatchkeyOptions,
  MailOptions,
  Mode,
  PasswordOptions,
  RateLimitOptions,
  SessionOptions,
  UnsafeOptions,
} from './config.js';
export { parseDuration, type Duration } from './duration.js';
export {
  DEFAULT_MAIL_TEMPLATES,
  escapeHtml,
  type Mailer,
  type MailMessage,
  type MailTemplate,
  type MailTemplates,
  type MailValues,
} from './mail.js';
export { errorBody, fail, LatchkeyError } from './errors.js';
export {
  AUDIT_EVENTS,
  auditEntry,
  createJsonLineLogger,
  jsonLineLogger,
  type AuditEntry,
  type AuditEventName,
  type AuditOutcome,
  type LogWriters,
  type SecurityEvent,
  type SecurityLogger,
} from './log.js';
export { readCookie, serializeCookie } from './cookies.js';
export { securityHeaders } from './headers.js';
export type {
  LatchkeyStore,
  Limiter,
  LimiterOptions,
  LimiterState,
  RateLimitStore,
  RecordStore,
  SessionRecord,
  SessionRotation,
  SessionStore,
  StoredRecord,
  UserPatch,
  UserRecord,
  UserStore,
} from './stores/types.js';
export * from './wire.js';
export { readJsonBody } from './http/body.js';
export { isLatchkeyResponse, replyResponse } from './http/reply.js';
export { parseBody } from './http/schemas.js';
export { isUnsafeMethod } from './origin.js';
export {
  generateSigningJwk,
  publicJwk,
  type SigningAlgorithm,
  type SigningJwk,
} from './token/keys.js';
export type { TokenOptions } from './config.js';
export {
  assessPassword,
  type StrengthOptions,
  type StrengthProblem,
  type StrengthVerdict,
} from './strength.js';
