-- Sufficient statistics per variant of one experiment, by the counting rules of DESIGN.md "Statistics contract":
-- each event_id once (lake_events); a user counts in the variant of their first assign (earliest occurred_at,
-- ties by event_id); users assigned to more than one variant are excluded; converts before the first assign are
-- ignored; revenue is the convert's revenue, else its price.
WITH ev AS (
    SELECT * FROM lake_events($files) WHERE experiment_id = $experiment
),
assigns AS (
    SELECT user_id, variant_id, price, occurred_at,
           row_number() OVER (PARTITION BY user_id ORDER BY occurred_at, event_id) AS n
    FROM ev WHERE type = 'assign'
),
exposure AS (
    SELECT user_id, count(DISTINCT variant_id) AS variants FROM assigns GROUP BY user_id
),
firsts AS (
    SELECT a.user_id, a.variant_id, a.price, a.occurred_at AS first_at
    FROM assigns a JOIN exposure x USING (user_id)
    WHERE a.n = 1 AND x.variants = 1
),
buys AS (
    SELECT f.user_id, sum(coalesce(c.revenue, c.price)) AS revenue
    FROM firsts f JOIN ev c ON c.user_id = f.user_id AND c.type = 'convert' AND c.occurred_at >= f.first_at
    GROUP BY f.user_id
),
per_user AS (
    SELECT f.variant_id, f.price, b.user_id IS NOT NULL AS converted, coalesce(b.revenue, 0) AS revenue
    FROM firsts f LEFT JOIN buys b USING (user_id)
)
SELECT variant_id,
       min(price)                                      AS price,
       count(*)                                        AS users,
       count(*) FILTER (WHERE converted)               AS conversions,
       CAST(sum(revenue) AS DECIMAL(38, 4))            AS revenue,
       sum(CAST(revenue AS DOUBLE) * CAST(revenue AS DOUBLE)) AS revenue_squares,
       (SELECT count(*) FROM exposure WHERE variants > 1) AS multiple_exposure_users
FROM per_user
GROUP BY variant_id
ORDER BY variant_id;
