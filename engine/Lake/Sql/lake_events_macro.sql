-- Every event of the lake under a glob, each event_id once per tenant (replays and client retries both happen):
-- the first one ingested wins.
CREATE OR REPLACE TEMP MACRO lake_events(files) AS TABLE
SELECT *
FROM read_parquet(files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
QUALIFY row_number() OVER (PARTITION BY tenant_id, event_id ORDER BY ingested_at, log_source, log_position) = 1;

-- Every event of one experiment under a glob, as stored (the experiment queries apply the counting rules themselves).
CREATE OR REPLACE TEMP MACRO experiment_events(files, experiment) AS TABLE
SELECT *
FROM read_parquet(files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
WHERE experiment_id = experiment;
