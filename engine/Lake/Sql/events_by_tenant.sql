SELECT tenant_id,
       count(*)                                   AS events,
       count(*) FILTER (WHERE type = 'assign')    AS assigns,
       count(*) FILTER (WHERE type = 'convert')   AS converts,
       count(DISTINCT experiment_id)              AS experiments,
       min(event_date)                            AS first_date,
       max(event_date)                            AS last_date
FROM lake_events($files)
GROUP BY tenant_id
ORDER BY tenant_id;
