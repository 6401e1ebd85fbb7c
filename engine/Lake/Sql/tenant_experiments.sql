-- The experiments of one tenant with events in a date range, with their events, assigns and converts there.
SELECT experiment_id, count(*) AS events, count(*) FILTER (type = 'assign') AS assigns, count(*) FILTER (type = 'convert') AS converts
FROM lake_events($files)
WHERE event_date BETWEEN $from AND $to
GROUP BY experiment_id
ORDER BY experiment_id;
