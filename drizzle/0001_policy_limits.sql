CREATE TABLE "policy_client_settings" (
	"client_id" uuid PRIMARY KEY NOT NULL,
	"max_concurrent_calls" integer,
	"attempts_per_user_per_minute" integer,
	"spend_limit_cents_per_hour" integer,
	"international_calls" boolean,
	"enabled" jsonb,
	"high_risk_prefixes" jsonb,
	"counters_reset_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_decisions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"user_id" uuid,
	"direction" text NOT NULL,
	"dialled" text NOT NULL,
	"destination" text,
	"destination_class" text NOT NULL,
	"per_minute_micros" integer DEFAULT 0 NOT NULL,
	"allowed" boolean NOT NULL,
	"sip_status" integer,
	"clause" text,
	"reason" text,
	"caller_id" text,
	"caller_id_replaced" boolean DEFAULT false NOT NULL,
	"emergency" boolean DEFAULT false NOT NULL,
	"facts" jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "security_alerts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"severity" text DEFAULT 'critical' NOT NULL,
	"kind" text NOT NULL,
	"clause" text NOT NULL,
	"decision_id" uuid,
	"details" jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"note" text
);
--> statement-breakpoint
CREATE INDEX "policy_decisions_client_started_idx" ON "policy_decisions" USING btree ("client_id","started_at");--> statement-breakpoint
CREATE INDEX "policy_decisions_user_started_idx" ON "policy_decisions" USING btree ("user_id","started_at");--> statement-breakpoint
CREATE INDEX "security_alerts_status_idx" ON "security_alerts" USING btree ("status","opened_at");--> statement-breakpoint
CREATE INDEX "security_alerts_client_idx" ON "security_alerts" USING btree ("client_id");