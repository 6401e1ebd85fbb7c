-- One row per (tenant, log source, position): a replay that left a second copy of a log range shows up here.
SELECT tenant_id, log_source, log_position, count(*) AS copies, count(DISTINCT filename) AS files
FROM read_parquet($files, hive_partitioning = true, filename = true, hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
GROUP BY ALL
HAVING count(*) > 1;
