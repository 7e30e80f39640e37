import { randomSecret } from '../../kernel/ids.ts';
import { ha1 } from '../../sip/digest.ts';

/** §4.4/§6.2: generated SIP passwords, ≥ 20 random characters (kernel randomSecret: no modulo bias). */
export const SIP_PASSWORD_LENGTH = 24;

export interface GeneratedCredentials {
  password: string;
  ha1Md5: string;
  ha1Sha256: string;
}

/** A new password and its digest hashes; only the hashes are stored. */
export function generateCredentials(username: string, realm: string): GeneratedCredentials {
  const password = randomSecret(SIP_PASSWORD_LENGTH);
  return { password, ha1Md5: ha1('MD5', username, realm, password), ha1Sha256: ha1('SHA-256', username, realm, password) };
}
