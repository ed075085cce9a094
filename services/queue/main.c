/* kezek-queue: gives each registration the next number of its list
 * (p.5), keeps positions in Redis and answers position look-ups. The
 * batch that numbers is consumer.c, the endpoints api.c, the watcher of
 * the view watch.c. */
#include "queue.h"

#include "log.h"

static void register_metrics(struct queue *q)
{
    q->m_numbers = metrics_counter("kezek_queue_numbers_assigned_total",
                                   "Queue numbers given (p.5)", NULL);
    q->m_view_fail = metrics_counter("kezek_queue_view_write_failures_total",
        "Redis writes that failed after commit (view rebuilt later)", NULL);
    q->m_fallback = metrics_counter("kezek_queue_lookup_fallbacks_total",
        "Position look-ups answered from Postgres", NULL);
    q->m_removals = metrics_counter("kezek_queue_removals_total",
        "Entries removed from their list (p.5 lifecycle)", NULL);
    q->m_tlog_leaves = metrics_counter("kezek_queue_tlog_leaves_total",
        "Leaves appended to the transparency logs by the consumer", NULL);
    q->m_tlog_s = metrics_histogram("kezek_queue_tlog_append_seconds",
        "The consumer's own time per batch appending to the transparency "
        "logs (locking the trees, hashing, signing, sending the writes)",
        NULL, NULL, 0);
    q->m_drift = metrics_gauge("kezek_queue_view_drift_lists",
        "Lists whose Redis view differed from Postgres at the last verify",
        NULL);
}

/* The view is rebuilt at start, before anything reads it; it stays
 * dirty (the watcher rebuilds it) when that fails. */
static void rebuild_at_start(struct queue *q, kredis_t *redis_writer)
{
    char err[256];
    PGconn *c = pg_connect(q->svc.conninfo, NULL, err, sizeof(err));
    if (c && kredis_ctx(redis_writer) && queue_rebuild_view(c, redis_writer))
        q->view_dirty = false;
    if (c)
        PQfinish(c);
}

int main(int argc, char **argv)
{
    struct queue q = {.view_dirty = true};
    int rc = service_init(&q.svc, "queue", argc, argv,
        "Numbers registrations per authority and list, keeps the Redis\n"
        "view of positions and answers position look-ups; removals,\n"
        "changes of list, transfers and the re-verification.\n"
        "  verify_seconds                  how often the Redis view is\n"
        "                                  checked against Postgres (300)\n"
        "  reverify_every_days             the re-verification of everyone\n"
        "                                  in the queue (365; 0: never)\n"
        "  wait_window_years               the expected wait's window (3)\n"
        "  signing_key, keys_dir           the authorities' keys: the heads\n"
        "                                  of the transparency log\n"
        "  tlog_resign_seconds             a log's head is signed again\n"
        "                                  when older (50; 1–50)\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    register_metrics(&q);
    char err[512];
    if (!service_int(&q.svc, "wait_window_years", 3, 1, 20, &q.wait_years) ||
        !service_int(&q.svc, "tlog_resign_seconds", 50, 1, 50,
                     &q.tlog_resign_s))
        goto fail;
    if (!authority_keys_init(&q.keys, config_str(q.svc.cfg, "signing_key",
                                                 NULL),
                             config_str(q.svc.cfg, "keys_dir", NULL), err,
                             sizeof(err))) {
        log_error("queue.key", "%s", err);
        goto fail;
    }
    kredis_t *redis_writer = kredis_new(q.svc.redis_addr);
    q.svc.ready = queue_redis_ready;
    if (service_http(&q.svc, 8082, 4, queue_stmts, queue_routes, &q) != 0) {
        kredis_destroy(&redis_writer);
        goto fail;
    }
    rebuild_at_start(&q, redis_writer);
    struct queue_batch *batch = queue_batch_new(&q, redis_writer);
    struct consumer_cfg cc = {
        .name = "queue", .stmts = queue_stmts,
        .handle = queue_batch_assign, .prepare = queue_batch_prepare,
        .flush = queue_batch_flush, .committed = queue_batch_committed,
        .rolled_back = queue_batch_rolled_back, .ctx = batch,
    };
    rc = batch ? service_run(&q.svc, &cc, queue_watch, &q) : -1;
    queue_batch_destroy(&batch);
    kredis_destroy(&redis_writer);
    authority_keys_fini(&q.keys);
    service_fini(&q.svc);
    return rc == 0 ? 0 : 1;
fail:
    authority_keys_fini(&q.keys);
    service_fini(&q.svc);
    return 1;
}
