import { createPlatform } from '../app.ts';
import type { Config } from '../config.ts';
import { validationError } from '../kernel/errors.ts';
import { isStaffRole } from '../modules/identity/principal.ts';
import { createAccount } from '../modules/identity/create-account.ts';

/** `easy2phone admin create`: a staff account, created by the operator's shell (audited as system). */
export async function runAdminCreate(config: Config, opts: { email: string; role: string; name: string; password?: string }): Promise<void> {
  const role = opts.role;
  if (!isStaffRole(role)) throw validationError('--role', `must be one of admin, billing, support, noc; got "${role}"`);
  const platform = await createPlatform(config);
  try {
    const result = await createAccount(platform.ctx, { principal: 'system', email: opts.email, name: opts.name, role, password: opts.password });
    const password = result.initialPassword ? ` with password ${result.initialPassword} (shown once)` : '';
    process.stdout.write(`created ${role} account ${result.account.email}${password}\n`);
  } finally {
    await platform.close();
  }
}
