ALTER TABLE "billing_invoice_lines" ADD COLUMN "credited_line_id" uuid;--> statement-breakpoint
ALTER TABLE "billing_invoices" ADD COLUMN "credited_invoice_id" uuid;--> statement-breakpoint
ALTER TABLE "billing_invoices" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "billing_invoices" ADD COLUMN "parties" jsonb;--> statement-breakpoint
CREATE INDEX "billing_invoices_credited_idx" ON "billing_invoices" USING btree ("credited_invoice_id") WHERE credited_invoice_id is not null;