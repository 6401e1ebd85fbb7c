-- Converts of one experiment in the given files, each event_id once (the first ingested copy).
SELECT event_id,
       arg_min(user_id, ingested_at)                   AS user_id,
       arg_min(occurred_at, ingested_at)               AS occurred_at,
       arg_min(coalesce(revenue, price), ingested_at)  AS revenue
FROM read_parquet($files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
WHERE experiment_id = $experiment AND type = 'convert'
GROUP BY event_id
