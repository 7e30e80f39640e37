ALTER TABLE "cdrs" ADD COLUMN "hangup_by" text;--> statement-breakpoint
ALTER TABLE "cdrs" ADD COLUMN "end_reason" text;--> statement-breakpoint
ALTER TABLE "cdrs" ADD COLUMN "admission" text;--> statement-breakpoint
ALTER TABLE "cdrs" ADD COLUMN "sip_node" text;--> statement-breakpoint
CREATE INDEX "cdrs_open_idx" ON "cdrs" USING btree ("sip_node") WHERE ended_at is null;