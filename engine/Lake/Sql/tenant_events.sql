SELECT tenant_id, event_date, event_id, type, experiment_id, variant_id, user_id, price, revenue, currency,
       occurred_at, properties, ingested_at
FROM lake_events($files)
WHERE $experiment IS NULL OR experiment_id = $experiment
ORDER BY occurred_at, event_id;
