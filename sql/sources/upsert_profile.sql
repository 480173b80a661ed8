-- upsert_profile: the latest resolution of one inference profile (its model, tenant and
-- workflow, or why it is unresolved); first_seen stays the first.
-- params: $1 = profile, $2 = model, $3 = tenant, $4 = workflow, $5 = source, $6 = status, $7 = error, $8 = first_seen, $9 = checked_at (TIMESTAMP)
-- grain: one inference_profiles row
INSERT INTO inference_profiles
    (profile, model, tenant, workflow, source, status, error, first_seen, checked_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (profile) DO UPDATE SET
    model = excluded.model, tenant = excluded.tenant, workflow = excluded.workflow,
    source = excluded.source, status = excluded.status, error = excluded.error,
    checked_at = excluded.checked_at
