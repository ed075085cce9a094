-- kezek_intake shows operators the pipeline and a region's supervisor
-- its lists' sizes (services/intake/lists.c lists_pipeline, issue 19):
-- each list's counters, and how many events each consumer dead-lettered
-- (the count reads the consumer column, granted in 017).
GRANT SELECT (authority_id, list, active, last_number) ON queue_list
    TO kezek_intake;
