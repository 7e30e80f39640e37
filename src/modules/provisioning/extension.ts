import { isExtensionSyntax } from '../../kernel/e164.ts';
import { validationError } from '../../kernel/errors.ts';

/** Extensions: 2 to 6 digits (the dialling plan, kernel/e164.ts), unique among the client's current users. */

export function assertExtension(extension: string, field = '/extension'): string {
  if (!isExtensionSyntax(extension)) throw validationError(field, 'an extension is 2 to 6 digits');
  return extension;
}

/** `count` consecutive extensions from `first` (same width; `101`, `102`…); every one must stay valid. */
export function extensionSequence(first: string, count: number): string[] {
  assertExtension(first, '/firstExtension');
  if (!Number.isSafeInteger(count) || count < 1 || count > 1000) throw validationError('/count', 'count must be 1 to 1000');
  const start = Number(first);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const ext = String(start + i).padStart(first.length, '0');
    if (ext.length > 6) throw validationError('/count', `extension ${ext} would have more than 6 digits`);
    out.push(ext);
  }
  return out;
}

/** Numeric order of extensions (`99` before `100`), for "the highest extensions". */
export const compareExtensions = (a: string, b: string): number => Number(a) - Number(b) || a.localeCompare(b);

/**
 * SIP username (§4.4): `<extension>.<client code>`, the client code being the last 12 hex
 * digits of the client id (the random part of its UUIDv7), e.g. `101.8c2f41a09b3e`.
 * Globally unique among current users (unique index); the realm is `config.sip.domain`.
 */
export const sipUsername = (clientId: string, extension: string): string =>
  `${extension}.${clientId.replace(/-/g, '').slice(-12).toLowerCase()}`;
