-- Assigns of one experiment in the given files, one row per user: the variants seen, the first assign's time and price.
SELECT user_id,
       list(DISTINCT variant_id)    AS variants,
       arg_min(price, occurred_at)  AS price,
       min(occurred_at)             AS first_at
FROM read_parquet($files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
WHERE experiment_id = $experiment AND type = 'assign'
GROUP BY user_id
