-- Change notices for the per-node SIP credential cache (src/modules/provisioning/sip-directory.ts):
-- every write to provisioned_users, whoever makes it, tells every node at commit which SIP
-- username to forget (src/db/changes.ts: channel e2p_changes, payload 'sip_user:<username>').
CREATE OR REPLACE FUNCTION e2p_notify_sip_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('e2p_changes', 'sip_user:' || OLD.sip_username);
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.sip_username IS DISTINCT FROM OLD.sip_username) THEN
    PERFORM pg_notify('e2p_changes', 'sip_user:' || NEW.sip_username);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER provisioned_users_sip_user_changes
  AFTER INSERT OR UPDATE OR DELETE ON provisioned_users
  FOR EACH ROW EXECUTE FUNCTION e2p_notify_sip_user();
