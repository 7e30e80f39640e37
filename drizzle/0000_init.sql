CREATE TABLE "client_sites" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"name" text NOT NULL,
	"address" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clients" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"legal_name" text,
	"enterprise_number" text,
	"language" text DEFAULT 'fr' NOT NULL,
	"billing_email" text,
	"address" jsonb,
	"deposit_cents" bigint DEFAULT 0 NOT NULL,
	"service_state" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contract_lines" (
	"id" serial PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"contract_id" uuid NOT NULL,
	"product_code" text NOT NULL,
	"quantity" integer NOT NULL,
	"price_cents" bigint
);
--> statement-breakpoint
CREATE TABLE "contracts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"state" text NOT NULL,
	"minimum_months" integer DEFAULT 60 NOT NULL,
	"enabled" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"signed_at" timestamp with time zone,
	"service_start_date" date,
	"minimum_term_end" date,
	"end_date" date,
	"termination_clause" text,
	"termination_ground" text,
	"terminated_by" text,
	"non_renewal_at" timestamp with time zone,
	"terminated_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_product_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"product_code" text NOT NULL,
	"effective" date NOT NULL,
	"price_cents" bigint NOT NULL,
	"pack_minutes" integer,
	"pack_zones" jsonb,
	"notice_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_products" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"unit" text,
	"warranty_months" integer,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_tariff_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"zone" text NOT NULL,
	"effective" date NOT NULL,
	"per_minute_micros" bigint NOT NULL,
	"prefixes" jsonb NOT NULL,
	"notice_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_tariff_zones" (
	"code" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"role" text NOT NULL,
	"client_id" uuid,
	"password_hash" text,
	"totp_secret" text,
	"totp_enabled" boolean DEFAULT false NOT NULL,
	"totp_last_step" integer,
	"disabled_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"last_login_at" timestamp with time zone,
	CONSTRAINT "accounts_tenant_ck" CHECK (("accounts"."role" IN ('client_admin','client_user')) = ("accounts"."client_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "login_failures" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"ip" text,
	"user_agent" text
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" uuid,
	"actor_label" text NOT NULL,
	"client_id" uuid,
	"action" text NOT NULL,
	"entity" text NOT NULL,
	"entity_id" text,
	"before" jsonb,
	"after" jsonb,
	"clause" text,
	"request_id" text
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"job" text NOT NULL,
	"period" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"last_error" text,
	"cursor" text,
	"runner" text,
	"lease_until" timestamp with time zone,
	CONSTRAINT "job_runs_job_period_pk" PRIMARY KEY("job","period")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "domain_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"client_id" uuid,
	"type" text NOT NULL,
	"clause" text,
	"details" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "phone_numbers" (
	"number" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"state" text NOT NULL,
	"client_id" uuid,
	"user_id" uuid,
	"is_main" boolean DEFAULT false NOT NULL,
	"reserved_at" timestamp with time zone,
	"reservation_expires_on" text,
	"assigned_at" timestamp with time zone,
	"commitment_end" text,
	"release_requested_at" timestamp with time zone,
	"released_at" timestamp with time zone,
	"quarantine_ends_on" text,
	"imported_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provisioned_users" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"extension" text NOT NULL,
	"display_name" text,
	"site" text,
	"sip_username" text NOT NULL,
	"sip_realm" text NOT NULL,
	"ha1_md5" text NOT NULL,
	"ha1_sha256" text NOT NULL,
	"credentials_set_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sip_bindings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"aor" text NOT NULL,
	"contact_uri" text NOT NULL,
	"source_address" text NOT NULL,
	"source_port" integer NOT NULL,
	"source_transport" text NOT NULL,
	"call_id" text NOT NULL,
	"cseq" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"q" double precision DEFAULT 1 NOT NULL,
	"user_agent" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cdrs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"user_id" uuid,
	"call_id" text,
	"direction" text NOT NULL,
	"from_extension" text,
	"dialled" text NOT NULL,
	"destination" text NOT NULL,
	"caller_id" text,
	"caller_id_replaced" boolean DEFAULT false NOT NULL,
	"emergency" boolean DEFAULT false NOT NULL,
	"allowed" boolean NOT NULL,
	"clause" text,
	"sip_status" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"billable_seconds" integer DEFAULT 0 NOT NULL,
	"rated_at" timestamp with time zone,
	"zone" text,
	"pack_seconds" integer,
	"cost_cents" integer,
	"invoice_id" uuid
);
--> statement-breakpoint
CREATE TABLE "sip_auth_failures" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sip_blocks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"client_id" uuid,
	"reason" text,
	"blocked_at" timestamp with time zone NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"lifted_at" timestamp with time zone,
	"lifted_by" text
);
--> statement-breakpoint
CREATE TABLE "billing_invoice_counters" (
	"series" text PRIMARY KEY NOT NULL,
	"last" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_invoice_lines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"invoice_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"type" text NOT NULL,
	"product_code" text,
	"zone" text,
	"quantity" integer NOT NULL,
	"period_start" date,
	"period_end" date,
	"amount_cents" integer NOT NULL,
	"vat_rate" integer NOT NULL,
	"clause" text,
	"description" text
);
--> statement-breakpoint
CREATE TABLE "billing_invoices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"number" text NOT NULL,
	"kind" text NOT NULL,
	"client_id" uuid NOT NULL,
	"run_key" text NOT NULL,
	"issue_date" date NOT NULL,
	"due_date" date NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"period_start" date,
	"period_end" date,
	"total_excl_vat_cents" integer NOT NULL,
	"vat_cents" integer NOT NULL,
	"total_incl_vat_cents" integer NOT NULL,
	"structured_reference" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments_allocations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"invoice_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"amount_cents" integer NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments_dunning_notices" (
	"invoice_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"step" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments_payments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"external_id" text,
	"client_id" uuid,
	"amount_cents" integer NOT NULL,
	"paid_at" timestamp with time zone NOT NULL,
	"reference" text,
	"invoice_number" text,
	"payer_iban" text,
	"matched_by" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments_pending_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"type" text NOT NULL,
	"source_invoice_id" uuid NOT NULL,
	"amount_cents" integer NOT NULL,
	"description" text NOT NULL,
	"clause" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"billed_on" uuid
);
--> statement-breakpoint
CREATE TABLE "payments_suspensions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"clause" text NOT NULL,
	"suspended_at" timestamp with time zone NOT NULL,
	"suspended_on" date NOT NULL,
	"termination_eligible_at" timestamp with time zone,
	"reactivated_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "client_sites" ADD CONSTRAINT "client_sites_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_lines" ADD CONSTRAINT "contract_lines_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contract_lines" ADD CONSTRAINT "contract_lines_contract_id_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "catalog_product_versions" ADD CONSTRAINT "catalog_product_versions_product_code_catalog_products_code_fk" FOREIGN KEY ("product_code") REFERENCES "public"."catalog_products"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "catalog_tariff_versions" ADD CONSTRAINT "catalog_tariff_versions_zone_catalog_tariff_zones_code_fk" FOREIGN KEY ("zone") REFERENCES "public"."catalog_tariff_zones"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "client_sites_client_idx" ON "client_sites" USING btree ("client_id");--> statement-breakpoint
CREATE UNIQUE INDEX "clients_enterprise_number_uq" ON "clients" USING btree ("enterprise_number");--> statement-breakpoint
CREATE INDEX "contract_lines_contract_idx" ON "contract_lines" USING btree ("contract_id");--> statement-breakpoint
CREATE INDEX "contracts_client_idx" ON "contracts" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "contracts_state_idx" ON "contracts" USING btree ("state");--> statement-breakpoint
CREATE INDEX "catalog_product_versions_idx" ON "catalog_product_versions" USING btree ("product_code","effective");--> statement-breakpoint
CREATE INDEX "catalog_tariff_versions_idx" ON "catalog_tariff_versions" USING btree ("zone","effective");--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_email_uq" ON "accounts" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "accounts_client_idx" ON "accounts" USING btree ("client_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_uq" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_account_idx" ON "api_tokens" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "login_failures_key_at_idx" ON "login_failures" USING btree ("key","at");--> statement-breakpoint
CREATE INDEX "sessions_account_idx" ON "sessions" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "audit_log" USING btree ("entity","entity_id");--> statement-breakpoint
CREATE INDEX "audit_log_client_idx" ON "audit_log" USING btree ("client_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","at");--> statement-breakpoint
CREATE INDEX "domain_events_client_at_idx" ON "domain_events" USING btree ("client_id","at");--> statement-breakpoint
CREATE INDEX "domain_events_type_at_idx" ON "domain_events" USING btree ("type","at");--> statement-breakpoint
CREATE INDEX "phone_numbers_client_idx" ON "phone_numbers" USING btree ("client_id","state");--> statement-breakpoint
CREATE INDEX "phone_numbers_state_idx" ON "phone_numbers" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "provisioned_users_extension_uq" ON "provisioned_users" USING btree ("client_id","extension") WHERE deleted_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "provisioned_users_sip_username_uq" ON "provisioned_users" USING btree ("sip_username") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "provisioned_users_client_idx" ON "provisioned_users" USING btree ("client_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sip_bindings_aor_contact_uq" ON "sip_bindings" USING btree ("aor","contact_uri");--> statement-breakpoint
CREATE INDEX "sip_bindings_client_user_idx" ON "sip_bindings" USING btree ("client_id","user_id");--> statement-breakpoint
CREATE INDEX "sip_bindings_expires_idx" ON "sip_bindings" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "cdrs_client_started_idx" ON "cdrs" USING btree ("client_id","started_at");--> statement-breakpoint
CREATE INDEX "cdrs_unrated_idx" ON "cdrs" USING btree ("rated_at");--> statement-breakpoint
CREATE INDEX "cdrs_call_id_idx" ON "cdrs" USING btree ("call_id");--> statement-breakpoint
CREATE INDEX "sip_auth_failures_key_at_idx" ON "sip_auth_failures" USING btree ("kind","key","at");--> statement-breakpoint
CREATE INDEX "sip_blocks_key_idx" ON "sip_blocks" USING btree ("kind","key","until");--> statement-breakpoint
CREATE INDEX "sip_blocks_until_idx" ON "sip_blocks" USING btree ("until");--> statement-breakpoint
CREATE INDEX "billing_invoice_lines_invoice_idx" ON "billing_invoice_lines" USING btree ("invoice_id","position");--> statement-breakpoint
CREATE INDEX "billing_invoice_lines_client_product_idx" ON "billing_invoice_lines" USING btree ("client_id","product_code") WHERE product_code is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "billing_invoices_number_uq" ON "billing_invoices" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_invoices_client_run_uq" ON "billing_invoices" USING btree ("client_id","run_key");--> statement-breakpoint
CREATE INDEX "billing_invoices_client_idx" ON "billing_invoices" USING btree ("client_id","issue_date");--> statement-breakpoint
CREATE INDEX "payments_allocations_invoice_idx" ON "payments_allocations" USING btree ("invoice_id");--> statement-breakpoint
CREATE INDEX "payments_allocations_payment_idx" ON "payments_allocations" USING btree ("payment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_dunning_notices_uq" ON "payments_dunning_notices" USING btree ("invoice_id","step");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_payments_external_uq" ON "payments_payments" USING btree ("external_id");--> statement-breakpoint
CREATE INDEX "payments_payments_client_idx" ON "payments_payments" USING btree ("client_id","paid_at");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_pending_items_uq" ON "payments_pending_items" USING btree ("source_invoice_id","type");--> statement-breakpoint
CREATE INDEX "payments_pending_items_client_idx" ON "payments_pending_items" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "payments_suspensions_client_idx" ON "payments_suspensions" USING btree ("client_id");