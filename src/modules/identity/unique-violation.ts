/** True when a database error (either driver, possibly wrapped by Drizzle) is a unique violation. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const err = cur as { code?: unknown; constraint?: unknown; message?: unknown };
    if (err.code === '23505') {
      if (constraint === undefined) return true;
      return err.constraint === constraint || (typeof err.message === 'string' && err.message.includes(constraint));
    }
  }
  return false;
}
