/**
 * Error classes with stable string codes (in the manner of undici). `instanceof` works across
 * duplicate copies of this package (ESM + CJS, or two versions) through a Symbol.for brand.
 */
const brand = Symbol.for('querytrail.error');

export type QuerytrailErrorCode =
  | 'QT_ERR_POLICY_BLOCKED'
  | 'QT_ERR_JOURNAL_UNAVAILABLE'
  | 'QT_ERR_CONFIG'
  | 'QT_ERR_INVALID_ARGUMENT'
  | 'QT_ERR_CLOSED'
  /** Never thrown: the code of a sync-mode record whose statement the connection was handed changed (drivers/pool-handoff.ts). */
  | 'QT_ERR_NOT_SENT_AS_RECORDED';

export class QuerytrailError extends Error {
  readonly code: QuerytrailErrorCode;

  constructor(code: QuerytrailErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuerytrailError';
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

function subclassBrand(name: string): symbol {
  return Symbol.for(`querytrail.error.${name}`);
}

const blockedBrand = subclassBrand('QueryBlockedError');

/** A statement refused by policy before it was sent to the database. */
export class QueryBlockedError extends QuerytrailError {
  readonly ruleId: string | undefined;
  readonly reason: string;

  constructor(reason: string, options?: { ruleId?: string; cause?: unknown }) {
    super('QT_ERR_POLICY_BLOCKED', `querytrail blocked the statement: ${reason}`, options);
    this.name = 'QueryBlockedError';
    this.reason = reason;
    this.ruleId = options?.ruleId;
    Object.defineProperty(this, blockedBrand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[blockedBrand] === true;
  }
}

const journalBrand = subclassBrand('JournalUnavailableError');

/** The evidence could not be stored, so (in sync mode) the statement was not sent. */
export class JournalUnavailableError extends QuerytrailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QT_ERR_JOURNAL_UNAVAILABLE', message, options);
    this.name = 'JournalUnavailableError';
    Object.defineProperty(this, journalBrand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[journalBrand] === true;
  }
}

const configBrand = subclassBrand('ConfigError');

/** Invalid configuration, reported at start with the path of the bad field. */
export class ConfigError extends QuerytrailError {
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('QT_ERR_CONFIG', `${path}: ${message}`, options);
    this.name = 'ConfigError';
    this.path = path;
    Object.defineProperty(this, configBrand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[configBrand] === true;
  }
}
