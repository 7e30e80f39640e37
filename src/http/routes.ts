import { auditRoutes } from '../modules/audit/routes.ts';
import { billingRoutes } from '../modules/billing/routes.ts';
import { catalogRoutes } from '../modules/catalog/routes.ts';
import { customerRoutes } from '../modules/customers/routes.ts';
import { identityRoutes } from '../modules/identity/routes.ts';
import { paymentRoutes } from '../modules/payments/index.ts';
import { policyRoutes } from '../modules/policy/routes.ts';
import { provisioningRoutes } from '../modules/provisioning/index.ts';
import { authPlugin } from './auth.ts';
import type { RoutePlugin } from './server.ts';
import { tenancyPlugin } from './tenancy.ts';

/**
 * Every module's routes, mounted under `/api/v1` (one plugin per module). The first two
 * are not routes: authentication/authorization and the tenancy guard, installed on the
 * shared `/api/v1` context so they cover every route registered after them. Keep them first.
 */
export const routePlugins: RoutePlugin[] = [authPlugin, tenancyPlugin, identityRoutes, customerRoutes, catalogRoutes, provisioningRoutes, billingRoutes, paymentRoutes, policyRoutes, auditRoutes];
