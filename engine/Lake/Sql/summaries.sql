-- The statements behind an experiment's user summary (ExperimentSummaries), one per "-- name:" section. {name} marks
-- what the engine fills in: its own table names, a nested fragment, or a number it formats; never request input.
-- $files and $experiment are DuckDB parameters. Counting follows the experiment_users macro (lake_events_macro.sql).

-- name: days
-- Per variant and UTC day: users first assigned, first purchases, revenue and the day's share of the sum of squares.
WITH u AS (SELECT user_id, variant_lo AS variant_id, first_at FROM {users} WHERE NOT multiple),
c AS (
    SELECT u.variant_id, c.occurred_at, CAST(c.revenue AS DOUBLE) AS r,
           sum(CAST(c.revenue AS DOUBLE)) OVER (PARTITION BY c.user_id ORDER BY c.occurred_at, c.event_id) AS cum,
           row_number() OVER (PARTITION BY c.user_id ORDER BY c.occurred_at, c.event_id) AS k
    FROM {converts} c JOIN u ON u.user_id = c.user_id AND c.occurred_at >= u.first_at
),
days AS (
    SELECT variant_id, CAST(timezone('UTC', first_at) AS DATE) AS day, count(*) AS users, 0 AS buyers, 0.0 AS revenue, 0.0 AS squares
    FROM u GROUP BY ALL
    UNION ALL
    SELECT variant_id, CAST(timezone('UTC', occurred_at) AS DATE), 0, count(*) FILTER (WHERE k = 1), sum(r), sum((cum * cum) - ((cum - r) * (cum - r)))
    FROM c GROUP BY ALL
)
SELECT variant_id, day, CAST(sum(users) AS BIGINT), CAST(sum(buyers) AS BIGINT), CAST(sum(revenue) AS DOUBLE), CAST(sum(squares) AS DOUBLE)
FROM days GROUP BY ALL ORDER BY day, variant_id

-- name: periods
-- Per allocation period (by each user's first assign, {period} maps first_at to 0, 1, …) and variant: users, buyers,
-- and the sum and sum of squares of per-user revenue capped at {cap} (ten-thousandths; NULL: no cap).
WITH cap AS (SELECT {cap} / 10000.0 AS cap),
counted AS (
    SELECT {period} AS period, variant_lo AS variant_id, price, converted,
           least(CAST(revenue AS DOUBLE), coalesce(cap.cap, 'Infinity'::DOUBLE)) AS y
    FROM {source}, cap WHERE NOT multiple
)
SELECT period, variant_id, min(price), count(*), count(*) FILTER (WHERE converted), sum(y), sum(y * y)
FROM counted GROUP BY period, variant_id ORDER BY period, variant_id

-- name: prior_build
CREATE OR REPLACE TABLE {prior} AS SELECT * FROM tenant_converts($files)

-- name: prior_fold_subset
-- The tenant's converts of every user with any row in the new files $files: all a fold of them needs.
-- And {subset}_new: the tenant's converts in the new files themselves.
CREATE OR REPLACE TABLE {subset} AS
SELECT p.* FROM {prior} p
WHERE p.user_id IN (SELECT user_id FROM read_parquet($files, union_by_name = true));
CREATE OR REPLACE TABLE {subset}_new AS SELECT * FROM tenant_converts($files)

-- name: prior_new
CREATE OR REPLACE TEMP TABLE new_tenant_converts AS SELECT * FROM tenant_converts($files)

-- name: prior_add_new
INSERT INTO {prior} SELECT * FROM new_tenant_converts n
WHERE NOT EXISTS (SELECT 1 FROM {prior} p WHERE p.event_id = n.event_id)

-- name: rebuild_converts
CREATE OR REPLACE TABLE {converts} AS SELECT * FROM experiment_converts($files, $experiment)

-- name: rebuild_assigns
CREATE OR REPLACE TEMP TABLE rebuild_assigns AS SELECT * FROM experiment_assigns($files, $experiment)

-- name: rebuild_outcomes
-- Only the users who bought after their first assign or have pre-period revenue: joins whose hash is built on the converts.
CREATE OR REPLACE TEMP TABLE rebuild_outcomes AS
WITH b AS (
    SELECT c.user_id, sum(c.revenue) AS revenue, sum(c.units) AS units
    FROM {converts} c JOIN rebuild_assigns a ON c.user_id = a.user_id
    WHERE c.occurred_at >= a.first_at
    GROUP BY c.user_id
),
p AS ({pre_units})
SELECT user_id, b.revenue, b.units, p.pre_units FROM b FULL JOIN p USING (user_id)

-- name: rebuild_users
CREATE OR REPLACE TABLE {users} AS
SELECT a.user_id, a.variant_lo, a.variant_hi, a.variant_lo <> a.variant_hi AS multiple, a.price, a.first_at,
       CAST(coalesce(o.revenue, 0) AS DECIMAL(38, 4)) AS revenue, o.revenue IS NOT NULL AS converted,
       CAST(coalesce(o.pre_units, 0) AS BIGINT) AS pre_units, CAST(coalesce(o.units, 0) AS DOUBLE) AS units
FROM rebuild_assigns a LEFT JOIN rebuild_outcomes o USING (user_id)

-- name: rebuild_done
DROP TABLE IF EXISTS rebuild_assigns; DROP TABLE IF EXISTS rebuild_outcomes

-- name: pre_units
-- Per user of {users}, the revenue of the tenant's converts in {prior} in the lookback window before the first assign,
-- in ten-thousandths (amounts have four decimals, so a double times 10^4 rounds to them exactly below 9 * 10^11). The
-- window is a filter after the join on user_id, not a join condition: DuckDB then hashes on user_id alone (3x faster).
SELECT p.user_id, CAST(round(CAST(sum(p.revenue) AS DOUBLE) * 10000) AS BIGINT) AS pre_units
FROM {prior} p JOIN {users} u ON p.user_id = u.user_id
WHERE epoch_us(u.first_at) - epoch_us(p.occurred_at) BETWEEN 1 AND {lookback_us}
GROUP BY p.user_id

-- name: touched_prior
-- A semi join: the hash is built on the few touched ids (which may repeat), the summary's users table scanned once.
CREATE OR REPLACE TEMP TABLE touched_prior AS SELECT u.user_id, u.first_at FROM {users} u SEMI JOIN ({touched}) t USING (user_id)

-- name: recompute_prior
CREATE OR REPLACE TEMP TABLE recomputed_prior AS
SELECT t.user_id, coalesce(pre.pre_units, 0) AS pre_units
FROM touched_prior t LEFT JOIN ({pre_units}) pre USING (user_id)

-- name: change_pre_units
UPDATE {users} SET pre_units = r.pre_units
FROM recomputed_prior r WHERE {users}.user_id = r.user_id AND {users}.pre_units <> r.pre_units

-- name: fold_converts
CREATE OR REPLACE TEMP TABLE new_converts AS SELECT * FROM experiment_converts($files, $experiment)

-- name: fold_users
CREATE OR REPLACE TEMP TABLE new_users AS SELECT * FROM experiment_assigns($files, $experiment)

-- name: fold_experiments
SELECT DISTINCT experiment_id FROM read_parquet($files, union_by_name = true)

-- name: fold_own
-- Whether the new files hold any assign or convert of this experiment (else only its users' pre-period sums can change).
SELECT EXISTS (SELECT 1 FROM new_converts) OR EXISTS (SELECT 1 FROM new_users)

-- name: fold_add_converts
INSERT INTO {converts} SELECT * FROM new_converts n WHERE NOT EXISTS (SELECT 1 FROM {converts} c WHERE c.event_id = n.event_id)

-- name: fold_merge_users
UPDATE {users} SET
    variant_lo = least({users}.variant_lo, n.variant_lo),
    variant_hi = greatest({users}.variant_hi, n.variant_hi),
    multiple = least({users}.variant_lo, n.variant_lo) <> greatest({users}.variant_hi, n.variant_hi),
    price = CASE WHEN n.first_at < {users}.first_at THEN n.price ELSE {users}.price END,
    first_at = least({users}.first_at, n.first_at)
FROM new_users n WHERE {users}.user_id = n.user_id

-- name: fold_add_users
INSERT INTO {users}
SELECT user_id, variant_lo, variant_hi, variant_lo <> variant_hi, price, first_at, CAST(0 AS DECIMAL(38, 4)), false, 0, CAST(0 AS DOUBLE)
FROM new_users n WHERE NOT EXISTS (SELECT 1 FROM {users} u WHERE u.user_id = n.user_id)

-- name: fold_touched
SELECT user_id FROM new_users UNION SELECT user_id FROM new_converts

-- name: fold_touched_prior
-- A new assign can move the window of a user with converts anywhere in the tenant; a new convert changes its user's sum.
-- {new_prior} holds the tenant's converts in the new files (made once for every experiment folding them); touched_prior
-- keeps those who are the summary's users.
SELECT user_id FROM new_users UNION ALL SELECT user_id FROM {new_prior}

-- name: fold_touched_prior_only
-- The same when the new files hold nothing of this experiment (no new_users).
SELECT user_id FROM {new_prior}

-- name: recompute
CREATE OR REPLACE TEMP TABLE recomputed AS
SELECT u.user_id, sum(c.revenue) AS revenue, count(c.event_id) AS buys, sum(c.units) AS units
FROM {users} u JOIN ({touched}) t USING (user_id)
LEFT JOIN {converts} c ON c.user_id = u.user_id AND c.occurred_at >= u.first_at
GROUP BY u.user_id

-- name: recompute_set
UPDATE {users} SET revenue = coalesce(r.revenue, 0), converted = r.buys > 0, units = coalesce(r.units, 0)
FROM recomputed r WHERE {users}.user_id = r.user_id

-- name: moments
WITH cap AS (SELECT {cap} AS cap),
counted AS (
    SELECT variant_lo AS variant_id, pre_units AS x,
           least(CAST(round(CAST(revenue AS DOUBLE) * 10000) AS BIGINT), coalesce(cap.cap, 9223372036854775807)) AS y
    FROM {users}, cap WHERE NOT multiple
)
SELECT variant_id, count(*), sum(y), sum(CAST(y AS HUGEINT) * y),
       sum(x) FILTER (WHERE x > 0), sum(CAST(x AS HUGEINT) * x) FILTER (WHERE x > 0), sum(CAST(x AS HUGEINT) * y) FILTER (WHERE x > 0),
       count(*) FILTER (WHERE x > 0), (SELECT cap FROM cap)
FROM counted GROUP BY variant_id ORDER BY variant_id

-- name: cap_units
(SELECT CAST(round(quantile_cont(CAST(revenue AS DOUBLE), {quantile}) * 10000) AS BIGINT) FROM {users} WHERE NOT multiple AND revenue > 0)

-- name: window_users
(SELECT u.user_id, u.variant_lo, u.variant_hi, u.multiple, u.price, u.first_at, u.pre_units,
        CAST(coalesce(w.revenue, 0) AS DECIMAL(38, 4)) AS revenue, w.user_id IS NOT NULL AS converted, coalesce(w.units, 0) AS units
 FROM {users} u
 LEFT JOIN (
     SELECT c.user_id, sum(c.revenue) AS revenue, sum(c.units) AS units
     FROM {converts} c JOIN {users} x ON x.user_id = c.user_id
         AND c.occurred_at >= x.first_at AND c.occurred_at < x.first_at + INTERVAL {days} DAY
     GROUP BY c.user_id) w ON w.user_id = u.user_id
 {mature})

-- name: window_mature
WHERE u.first_at + INTERVAL {days} DAY <= (SELECT greatest(max(first_at), (SELECT max(occurred_at) FROM {converts})) FROM {users})

-- name: buyers
WITH cap AS (SELECT {cap} / 10000.0 AS cap),
buyers AS (
    SELECT variant_lo AS variant_id, price, CAST(revenue AS DOUBLE) AS raw, least(CAST(revenue AS DOUBLE), coalesce(cap.cap, 'Infinity'::DOUBLE)) AS y, units
    FROM {source}, cap WHERE NOT multiple AND converted
),
scaled AS (SELECT variant_id, price, y, CASE WHEN raw > y AND raw > 0 THEN units * y / raw ELSE units END AS u FROM buyers)
SELECT variant_id, min(price), count(*), sum(y), sum(y * y), sum(u), sum(u * u), sum(y * u)
FROM scaled GROUP BY variant_id ORDER BY variant_id

-- name: stats
SELECT variant_lo, min(price), count(*), count(*) FILTER (WHERE converted),
       CAST(sum(revenue) AS DECIMAL(38, 4)), sum(CAST(revenue AS DOUBLE) * CAST(revenue AS DOUBLE)),
       (SELECT count(*) FROM {users} WHERE multiple)
FROM {users} WHERE NOT multiple
GROUP BY variant_lo ORDER BY variant_lo

-- name: multiple_users
SELECT count(*) FROM {users} WHERE multiple

-- name: first_assign
SELECT min(first_at) FROM {summary_users}
