CREATE TABLE "domain_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"client_id" uuid,
	"type" text NOT NULL,
	"clause" text,
	"details" jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "domain_events_client_at_idx" ON "domain_events" USING btree ("client_id","at");--> statement-breakpoint
CREATE INDEX "domain_events_type_at_idx" ON "domain_events" USING btree ("type","at");