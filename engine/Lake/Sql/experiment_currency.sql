-- The currency of one experiment (one per experiment by the event contract): the first event found names it.
SELECT currency
FROM experiment_events($files, $experiment)
LIMIT 1;
