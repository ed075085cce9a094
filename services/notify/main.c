/* kezek-notify: turns decisions and queue numbers into signed notices
 * (p.5, p.15) — and portal acceptances into acceptance reports (p.14) —
 * in the personal cabinet and, when the application gives one, by
 * e-mail; reports each e-mail that left with NoticeDelivered (the
 * cabinet's delivery is the notice itself). The consumer (consumer.c)
 * issues the notices, the sender thread (mailer.c) sends the e-mails,
 * the HTTP API (api.c, paper_api.c) serves the cabinet and the paper
 * channel. */
#include "notify.h"

#include "log.h"

#include <curl/curl.h>
#include <sodium.h>

static struct notify notify = {.keys.lock = PTHREAD_MUTEX_INITIALIZER};

/* The default signing key, the authorities' keys and the templates;
 * false when one cannot be loaded (logged). */
static bool load_documents(struct notify *n)
{
    const char *key_path = config_str(n->svc.cfg, "signing_key", NULL);
    char err[512];
    if (!key_path || !signer_load(&n->keys.fallback, key_path, err,
                                  sizeof(err))) {
        log_error("notify.key", "%s", key_path ? err
                  : "signing_key is not set (kezek keys generate)");
        return false;
    }
    n->keys.dir = config_str(n->svc.cfg, "keys_dir", NULL);
    if (!notice_templates_load(&n->templates, config_str(n->svc.cfg,
                               "templates_dir", "templates"), err,
                               sizeof(err))) {
        log_error("notify.templates", "%s", err);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    service_t *svc = &notify.svc;
    int rc = service_init(svc, "notify", argc, argv,
        "Issues signed notices to the personal cabinet and by e-mail and\n"
        "reports NoticeDelivered.\n"
        "  signing_key / KEZEK_SIGNING_KEY   default key file (kezek keys\n"
        "                                    generate)\n"
        "  keys_dir / KEZEK_KEYS_DIR         <authority_id>.key per\n"
        "                                    authority (optional)\n"
        "  templates_dir                     notice templates (templates)\n"
        "  smtp_url / KEZEK_SMTP_URL         relay, smtp://host:port\n"
        "  smtp_from                         sender address\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    if (!load_documents(&notify)) {
        service_fini(svc);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct notify_batch batch = {0};
    struct notify_mailer mailer;
    bool batch_ok = notify_batch_init(&batch, &notify);
    notify_mailer_init(&mailer, &notify);
    struct consumer_cfg cc = {
        .name = "notify", .stmts = notify_stmts,
        .handle = notify_deliver, .flush = notify_batch_flush,
        .committed = notify_batch_committed,
        .rolled_back = notify_batch_rolled_back, .ctx = &batch,
    };
    if (service_http(svc, 8083, 4, notify_stmts, notify_routes,
                     &notify) != 0)
        rc = -1;
    else
        rc = batch_ok ? service_run(svc, &cc, notify_sender, &mailer) : -1;
    notify_batch_fini(&batch);
    notice_templates_free(&notify.templates);
    sodium_memzero(&notify.keys.fallback, sizeof(notify.keys.fallback));
    sodium_memzero(notify.keys.entry, sizeof(notify.keys.entry));
    curl_global_cleanup();
    service_fini(svc);
    return rc == 0 ? 0 : 1;
}
