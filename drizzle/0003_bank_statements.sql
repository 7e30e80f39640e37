CREATE TABLE "payments_bank_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"statement_row_id" uuid NOT NULL,
	"account" text NOT NULL,
	"entry_id" text NOT NULL,
	"direction" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"booking_date" date NOT NULL,
	"value_date" date NOT NULL,
	"structured_reference" text,
	"free_text" text,
	"payer_iban" text,
	"payer_name" text,
	"bank_reference" text,
	"payment_id" uuid
);
--> statement-breakpoint
CREATE TABLE "payments_bank_statements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"statement_id" text NOT NULL,
	"format" text NOT NULL,
	"account" text NOT NULL,
	"statement_date" date NOT NULL,
	"file_sha256" text NOT NULL,
	"entries" integer NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	"imported_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments_deposit_movements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"amount_cents" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"payment_id" uuid,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "payments_guarantees" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"invoice_id" uuid NOT NULL,
	"amount_cents" integer NOT NULL,
	"reference" text,
	"registered_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "payments_payments" ADD COLUMN "free_text" text;--> statement-breakpoint
ALTER TABLE "payments_payments" ADD COLUMN "bank_entry_id" uuid;--> statement-breakpoint
ALTER TABLE "payments_suspensions" ADD COLUMN "kind" text DEFAULT 'dunning' NOT NULL;--> statement-breakpoint
ALTER TABLE "payments_suspensions" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "payments_suspensions" ADD COLUMN "actor" text;--> statement-breakpoint
ALTER TABLE "payments_suspensions" ADD COLUMN "reactivation_reason" text;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_bank_entries_uq" ON "payments_bank_entries" USING btree ("account","entry_id");--> statement-breakpoint
CREATE INDEX "payments_bank_entries_statement_idx" ON "payments_bank_entries" USING btree ("statement_row_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_bank_statements_uq" ON "payments_bank_statements" USING btree ("statement_id");--> statement-breakpoint
CREATE INDEX "payments_deposit_movements_client_idx" ON "payments_deposit_movements" USING btree ("client_id","at");--> statement-breakpoint
CREATE INDEX "payments_guarantees_client_idx" ON "payments_guarantees" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "payments_guarantees_invoice_idx" ON "payments_guarantees" USING btree ("invoice_id");--> statement-breakpoint
CREATE INDEX "payments_payments_iban_idx" ON "payments_payments" USING btree ("payer_iban");