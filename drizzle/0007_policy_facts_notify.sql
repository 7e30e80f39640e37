-- Issue #7: the call policy keeps each client's facts in memory on every SIP node; every
-- writer of those facts tells the nodes what to forget (src/db/changes.ts, channel
-- e2p_changes, topic `client`, key = the client id; `client:*` = every client, for the
-- platform's high-risk list). Triggers, so that no writer can forget; NOTIFY is delivered
-- at commit (nothing on rollback) and identical notices of one transaction are merged.
CREATE OR REPLACE FUNCTION e2p_notify_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  col text := TG_ARGV[0];
  k text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    k := to_jsonb(OLD) ->> col;
    IF k IS NOT NULL THEN PERFORM pg_notify('e2p_changes', 'client:' || k); END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    k := to_jsonb(NEW) ->> col;
    IF k IS NOT NULL THEN PERFORM pg_notify('e2p_changes', 'client:' || k); END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER clients_policy_notify AFTER INSERT OR UPDATE OR DELETE ON clients FOR EACH ROW EXECUTE FUNCTION e2p_notify_client_change('id');
--> statement-breakpoint
CREATE TRIGGER contracts_policy_notify AFTER INSERT OR UPDATE OR DELETE ON contracts FOR EACH ROW EXECUTE FUNCTION e2p_notify_client_change('client_id');
--> statement-breakpoint
CREATE TRIGGER policy_client_settings_notify AFTER INSERT OR UPDATE OR DELETE ON policy_client_settings FOR EACH ROW EXECUTE FUNCTION e2p_notify_client_change('client_id');
--> statement-breakpoint
CREATE TRIGGER phone_numbers_policy_notify AFTER INSERT OR UPDATE OR DELETE ON phone_numbers FOR EACH ROW EXECUTE FUNCTION e2p_notify_client_change('client_id');
--> statement-breakpoint
CREATE TRIGGER provisioned_users_policy_notify AFTER INSERT OR UPDATE OR DELETE ON provisioned_users FOR EACH ROW EXECUTE FUNCTION e2p_notify_client_change('client_id');
--> statement-breakpoint
CREATE OR REPLACE FUNCTION e2p_notify_high_risk_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END) = 'policy.highRiskPrefixes'
     OR (TG_OP = 'UPDATE' AND OLD.key = 'policy.highRiskPrefixes') THEN
    PERFORM pg_notify('e2p_changes', 'client:*');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER settings_high_risk_notify AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH ROW EXECUTE FUNCTION e2p_notify_high_risk_change();
