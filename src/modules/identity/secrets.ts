import { createHash, randomBytes } from 'node:crypto';
import { randomSecret } from '../../kernel/ids.ts';

/** SHA-256 hex: how session and API tokens are stored (a database leak yields no usable token). */
export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/** The session cookie value: 256 random bits. */
export const newSessionToken = (): string => randomBytes(32).toString('base64url');

export const API_TOKEN_PREFIX = 'e2p_';
const API_TOKEN_BODY = 40; // base62 ≈ 238 bits
export const API_TOKEN_PATTERN = /^e2p_[A-Za-z0-9]{40}$/;
/** Characters kept for display (`e2p_AbCd1234…`), never enough to use the token. */
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 8;

export function newApiToken(): { token: string; prefix: string; hash: string } {
  const token = `${API_TOKEN_PREFIX}${randomSecret(API_TOKEN_BODY)}`;
  return { token, prefix: token.slice(0, DISPLAY_PREFIX_LENGTH), hash: sha256Hex(token) };
}

/** A generated password (first admin, invitations): 24 base62 characters ≈ 143 bits. */
export const generatePassword = (): string => randomSecret(24);
