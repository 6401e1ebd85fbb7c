-- Events per day of one tenant in a date range (each event_id once), for usage and billing.
SELECT event_date, count(*) AS events
FROM lake_events($files)
WHERE event_date BETWEEN $from AND $to
GROUP BY event_date
ORDER BY event_date;
