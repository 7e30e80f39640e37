/**
 * One catalogue of application errors. Every refusal decided by a rule of the
 * contract carries the clause it applies (`clause: "8.5"`); the HTTP layer maps
 * them to RFC 9457 problem+json, the CLI and the scenario runner print them.
 */
export type ErrorKind =
  | 'validation' // 400: bad input, names the field
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'rule' // 422: a contract rule refused the action (clause set)
  | 'too_many_requests'; // 429

const STATUS: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rule: 422,
  too_many_requests: 429,
};

export interface AppErrorOptions {
  /** Stable machine code, e.g. `USER_REDUCTION_LIMIT`. */
  code: string;
  message: string;
  /** The contract clause that decided, e.g. "8.5"; null when no clause applies. */
  clause?: string | null;
  /** The input field at fault (JSON pointer-ish path, e.g. `/enterpriseNumber`). */
  field?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly clause: string | null;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, opts: AppErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.code = opts.code;
    this.clause = opts.clause ?? null;
    this.field = opts.field;
    this.details = opts.details;
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

/** A refusal decided by a contract rule (HTTP 422). */
export class RuleViolation extends AppError {
  constructor(code: string, clause: string | null, message: string, details?: Record<string, unknown>) {
    super('rule', { code, clause, message, ...(details ? { details } : {}) });
    this.name = 'RuleViolation';
  }
}

export const validationError = (field: string, message: string, code = 'VALIDATION_FAILED'): AppError =>
  new AppError('validation', { code, field, message });

export const notFound = (entity: string, id?: string): AppError =>
  new AppError('not_found', { code: 'NOT_FOUND', message: id ? `${entity} ${id} not found` : `${entity} not found` });

export const forbidden = (message = 'You are not allowed to do this'): AppError =>
  new AppError('forbidden', { code: 'FORBIDDEN', message });

export const unauthenticated = (message = 'Authentication required', code = 'UNAUTHENTICATED'): AppError =>
  new AppError('unauthenticated', { code, message });

export const conflict = (code: string, message: string, clause: string | null = null): AppError =>
  new AppError('conflict', { code, message, clause });

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
