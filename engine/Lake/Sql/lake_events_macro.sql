-- Every event of the lake under a glob, each event_id once per tenant (replays and client retries both happen):
-- the first one ingested wins.
CREATE OR REPLACE TEMP MACRO lake_events(files) AS TABLE
SELECT *
FROM read_parquet(files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
QUALIFY row_number() OVER (PARTITION BY tenant_id, event_id ORDER BY ingested_at, log_source, log_position) = 1;

-- Every event of one experiment under a glob, as stored.
CREATE OR REPLACE TEMP MACRO experiment_events(files, experiment) AS TABLE
SELECT *
FROM read_parquet(files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
WHERE experiment_id = experiment;

-- The counting rules of the statistics contract (README "Readouts"), written once and used by the readout (raw and summarised),
-- the recommendation and the demand model:
-- (1) assigns, one row per user: the least and greatest variant the user saw (equal when the user saw one variant;
--     min and max keep the row small and let DuckDB spill, unlike a list), the first assign's time and price. A
--     repeated assign (a client retry, a replay) is the same user, variant and time, so it changes none of these and
--     needs no event_id pass.
CREATE OR REPLACE TEMP MACRO experiment_assigns(files, experiment) AS TABLE
SELECT user_id,
       min(variant_id)              AS variant_lo,
       max(variant_id)              AS variant_hi,
       arg_min(price, occurred_at)  AS price,
       min(occurred_at)             AS first_at
FROM experiment_events(files, experiment)
WHERE type = 'assign'
GROUP BY user_id;

-- (2) converts, each event_id once (the first ingested copy): a repeated convert would add revenue. Revenue is the
--     convert's revenue, else its price; units (for the profit goal) its positive `quantity` property, else revenue ÷
--     price (1 at a price of 0).
CREATE OR REPLACE TEMP MACRO experiment_converts(files, experiment) AS TABLE
SELECT event_id,
       arg_min(user_id, ingested_at)                   AS user_id,
       arg_min(occurred_at, ingested_at)               AS occurred_at,
       arg_min(coalesce(revenue, price), ingested_at)  AS revenue,
       arg_min(coalesce(CASE WHEN TRY_CAST(properties['quantity'] AS DOUBLE) > 0 THEN TRY_CAST(properties['quantity'] AS DOUBLE) END,
                        CAST(coalesce(revenue, price) AS DOUBLE) / nullif(CAST(price AS DOUBLE), 0), 1), ingested_at) AS units
FROM experiment_events(files, experiment)
WHERE type = 'convert'
GROUP BY event_id;

-- (3) every user with their outcome: counted in the variant of their first assign when they saw one variant only
--     (single); bought when a convert came at or after that first assign; revenue sums those converts.
CREATE OR REPLACE TEMP MACRO experiment_users(files, experiment) AS TABLE
WITH users AS MATERIALIZED (
    SELECT * FROM experiment_assigns(files, experiment)
),
buys AS (
    SELECT u.user_id, sum(c.revenue) AS revenue
    FROM users u JOIN experiment_converts(files, experiment) c ON c.user_id = u.user_id AND c.occurred_at >= u.first_at
    GROUP BY u.user_id
)
SELECT u.user_id, u.variant_lo = u.variant_hi AS single, u.variant_lo AS variant_id, u.price, u.first_at,
       CAST(coalesce(b.revenue, 0) AS DECIMAL(38, 4)) AS revenue, b.user_id IS NOT NULL AS converted
FROM users u LEFT JOIN buys b USING (user_id);

-- (4) every convert of the tenant (any experiment), each event_id once (the first ingested copy): the pre-period revenue
--     CUPED uses as its covariate (statistics contract v2, item 10). Revenue is the convert's revenue, else its price.
CREATE OR REPLACE TEMP MACRO tenant_converts(files) AS TABLE
SELECT event_id,
       arg_min(user_id, ingested_at)                   AS user_id,
       arg_min(occurred_at, ingested_at)               AS occurred_at,
       arg_min(coalesce(revenue, price), ingested_at)  AS revenue
FROM read_parquet(files, hive_partitioning = true, union_by_name = true,
                  hive_types = {'tenant_id': VARCHAR, 'event_date': DATE})
WHERE type = 'convert'
GROUP BY event_id;
