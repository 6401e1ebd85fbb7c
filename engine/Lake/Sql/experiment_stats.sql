-- Sufficient statistics per variant of one experiment, by the counting rules of DESIGN.md "Statistics contract":
-- a user counts in the variant of their first assign; users assigned to more than one variant are excluded;
-- converts before the first assign are ignored; revenue is the convert's revenue, else its price.
-- Each event_id counts once: converts are deduplicated by event_id (the first ingested copy wins), since a repeated
-- convert would add revenue. Assigns are aggregated per user directly: a repeated assign (a client retry, a replay)
-- is the same user, variant and time, so it changes none of the per-user figures, and skipping a pass over every
-- assign keeps the readout within its time budget. Hash aggregates only, no sort-based windows.
WITH raw AS (
    SELECT event_id, type, user_id, variant_id, price, revenue, occurred_at, ingested_at
    FROM experiment_events($files, $experiment)
),
users AS MATERIALIZED (
    -- A user with one variant has it on every assign, so any_value is the variant of their first assign.
    SELECT user_id,
           count(DISTINCT variant_id)   AS variants,
           any_value(variant_id)        AS variant_id,
           arg_min(price, occurred_at)  AS price,
           min(occurred_at)             AS first_at
    FROM raw WHERE type = 'assign'
    GROUP BY user_id
),
converts AS (
    SELECT event_id,
           arg_min(user_id, ingested_at)                   AS user_id,
           arg_min(occurred_at, ingested_at)               AS occurred_at,
           arg_min(coalesce(revenue, price), ingested_at)  AS revenue
    FROM raw WHERE type = 'convert'
    GROUP BY event_id
),
buys AS (
    SELECT u.user_id, sum(c.revenue) AS revenue
    FROM users u JOIN converts c ON c.user_id = u.user_id AND c.occurred_at >= u.first_at
    WHERE u.variants = 1
    GROUP BY u.user_id
)
SELECT u.variant_id,
       min(u.price)                                              AS price,
       count(*)                                                  AS users,
       count(b.user_id)                                          AS conversions,
       CAST(sum(coalesce(b.revenue, 0)) AS DECIMAL(38, 4))       AS revenue,
       sum(CAST(coalesce(b.revenue, 0) AS DOUBLE) * CAST(coalesce(b.revenue, 0) AS DOUBLE)) AS revenue_squares,
       (SELECT count(*) FROM users WHERE variants > 1)           AS multiple_exposure_users
FROM users u LEFT JOIN buys b USING (user_id)
WHERE u.variants = 1
GROUP BY u.variant_id
ORDER BY u.variant_id;
