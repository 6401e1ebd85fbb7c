-- One row per counted user of one experiment (the experiment_users macro's counting rules), with the first assign's
-- properties and currency: the ML.NET demand model's features.
WITH first_assign AS (
    SELECT user_id,
           arg_min(properties, occurred_at)  AS properties,
           arg_min(currency, occurred_at)    AS currency
    FROM experiment_events($files, $experiment)
    WHERE type = 'assign'
    GROUP BY user_id
)
SELECT u.user_id, u.variant_id, u.price, u.first_at, f.properties, u.converted, f.currency
FROM experiment_users($files, $experiment) u JOIN first_assign f USING (user_id)
WHERE u.single
ORDER BY u.user_id;
