import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../kernel/errors.ts';

/** RFC 9457 problem details, plus our `code`, `clause` and `field`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  clause: string | null;
  field?: string;
  errors?: { field: string; message: string }[];
  requestId: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_BASE = 'https://easy2phone.be/problems/';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Ajv's path of the failing field, completed with the missing property's name. */
function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  let path = issue.instancePath ?? '';
  const missing = issue.params?.missingProperty;
  if (typeof missing === 'string') path = `${path}/${missing}`;
  const extra = issue.params?.additionalProperty;
  if (typeof extra === 'string') path = `${path}/${extra}`;
  const prefix = context && context !== 'body' ? `${context}:` : '';
  return `${prefix}${path || '/'}`;
}

export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const base = { instance: request.url, requestId: request.id };
  if (error instanceof AppError) {
    return {
      type: `${PROBLEM_BASE}${error.code.toLowerCase().replaceAll('_', '-')}`,
      title: TITLES[error.status] ?? 'Error',
      status: error.status,
      detail: error.message,
      code: error.code,
      clause: error.clause,
      ...(error.field ? { field: error.field } : {}),
      ...base,
    };
  }
  const fe = error as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const errors = fe.validation.map((v) => ({ field: fieldOf(v, fe.validationContext), message: v.message ?? 'invalid' }));
    const first = errors[0] ?? { field: '/', message: 'invalid' };
    return {
      type: `${PROBLEM_BASE}validation-failed`,
      title: TITLES[400]!,
      status: 400,
      detail: `${first.field}: ${first.message}`,
      code: 'VALIDATION_FAILED',
      clause: null,
      field: first.field,
      errors,
      ...base,
    };
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  if (status === 500) {
    return {
      type: `${PROBLEM_BASE}internal-error`,
      title: TITLES[500]!,
      status: 500,
      detail: 'An unexpected error occurred; it has been logged with this request id.',
      code: 'INTERNAL_ERROR',
      clause: null,
      ...base,
    };
  }
  // Fastify's own 4xx (malformed JSON, wrong content type, body too large…).
  const isBodyError = typeof fe.code === 'string' && /^FST_ERR_CTP_/.test(fe.code);
  return {
    type: `${PROBLEM_BASE}${(fe.code ?? 'bad-request').toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: fe.message ?? 'Bad request',
    code: fe.code ?? 'BAD_REQUEST',
    clause: null,
    ...(isBodyError ? { field: '/' } : {}),
    ...base,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.status(problem.status).type('application/problem+json').send(problem);
}
