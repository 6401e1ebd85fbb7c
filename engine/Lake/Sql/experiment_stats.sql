-- Sufficient statistics per variant of one experiment straight from the raw events, by the counting rules of the
-- experiment_users macro (lake_events_macro.sql): the reference the readout's summaries are tested against.
WITH users AS MATERIALIZED (
    SELECT * FROM experiment_users($files, $experiment)
)
SELECT variant_id,
       min(price)                                                    AS price,
       count(*)                                                      AS users,
       count(*) FILTER (WHERE converted)                             AS conversions,
       CAST(sum(revenue) AS DECIMAL(38, 4))                          AS revenue,
       sum(CAST(revenue AS DOUBLE) * CAST(revenue AS DOUBLE))        AS revenue_squares,
       (SELECT count(*) FROM users WHERE NOT single)                 AS multiple_exposure_users
FROM users
WHERE single
GROUP BY variant_id
ORDER BY variant_id;
