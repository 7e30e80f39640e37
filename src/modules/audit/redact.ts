/**
 * The one place that keeps secrets out of the audit log: any property whose name says
 * it holds a secret is dropped from before/after, at any depth. Dates become ISO strings.
 */
const SECRET_KEY = /(password|passwd|secret|token(?!Id$|Prefix$|Name$)|hash|ha1|otp(?!Enabled$))/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function stripSecrets(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (isSecretKey(k) || v === undefined) continue;
      out[k] = stripSecrets(v);
    }
    return out;
  }
  return value;
}
