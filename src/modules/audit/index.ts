/** The audit module's public service API. */
export { recordAudit, type AuditEntry, type AuditActor } from './record-audit.ts';
export { listAudit, AUDIT_PAGE_MAX, type AuditFilters, type AuditPage, type AuditView } from './list-audit.ts';
export { stripSecrets } from './redact.ts';
export { auditRoutes } from './routes.ts';
