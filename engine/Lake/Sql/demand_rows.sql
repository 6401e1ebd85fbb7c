-- One row per counted user of one experiment, by the counting rules of DESIGN.md "Statistics contract" (the same
-- rules as experiment_stats.sql): the variant and price of the first assign, when it happened, that assign's
-- properties (the demand model's features), and whether a convert followed it. Users exposed to more than one
-- variant are left out; converts are deduplicated by event_id.
WITH raw AS (
    SELECT event_id, type, user_id, variant_id, price, currency, occurred_at, ingested_at, properties
    FROM experiment_events($files, $experiment)
),
users AS MATERIALIZED (
    SELECT user_id,
           count(DISTINCT variant_id)        AS variants,
           any_value(variant_id)             AS variant_id,
           arg_min(price, occurred_at)       AS price,
           min(occurred_at)                  AS first_at,
           arg_min(properties, occurred_at)  AS properties,
           arg_min(currency, occurred_at)    AS currency
    FROM raw WHERE type = 'assign'
    GROUP BY user_id
),
converts AS (
    SELECT event_id,
           arg_min(user_id, ingested_at)      AS user_id,
           arg_min(occurred_at, ingested_at)  AS occurred_at
    FROM raw WHERE type = 'convert'
    GROUP BY event_id
),
buyers AS (
    SELECT DISTINCT u.user_id
    FROM users u JOIN converts c ON c.user_id = u.user_id AND c.occurred_at >= u.first_at
    WHERE u.variants = 1
)
SELECT u.user_id, u.variant_id, u.price, u.first_at, u.properties, b.user_id IS NOT NULL AS converted, u.currency
FROM users u LEFT JOIN buyers b USING (user_id)
WHERE u.variants = 1
ORDER BY u.user_id;
