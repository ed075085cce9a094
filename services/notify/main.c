/* kezek-notify: turns decisions and queue numbers into signed notices
 * (p.5, p.15) — and portal acceptances into acceptance reports (p.14) —
 * in the personal cabinet, and pushes them: by e-mail when the
 * application gives an address, by SMS through Kannel to the
 * applicant's phone, to the portal's callback; reports each that left
 * with NoticeDelivered (the cabinet's delivery is the notice itself).
 * The consumer (consumer.c) issues the notices, a sender thread per
 * channel (delivery.c: mailer.c, sms_channel.c, portal.c) pushes them,
 * the HTTP API (api.c, paper_api.c) serves the cabinet, the paper
 * channel and Kannel's delivery reports. */
#include "notify.h"

#include "log.h"

#include <curl/curl.h>
#include <sodium.h>

static struct notify notify;

/* The default signing key, the authorities' keys and the templates;
 * false when one cannot be loaded (logged). */
static bool load_documents(struct notify *n)
{
    char err[512];
    if (!authority_keys_init(&n->keys, config_str(n->svc.cfg, "signing_key",
                                                  NULL),
                             config_str(n->svc.cfg, "keys_dir", NULL), err,
                             sizeof(err))) {
        log_error("notify.key", "%s", err);
        return false;
    }
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
        "  smtp_from                         sender address\n"
        "  sms_url                           Kannel's sendsms URL (none:\n"
        "                                    no SMS)\n"
        "  sms_user, sms_password_file       its sendsms-user\n"
        "  sms_from                          sender name (Kezek)\n"
        "  sms_dlr_base                      this service as Kannel\n"
        "                                    reaches it (http://127.0.0.1:\n"
        "                                    <http_port>)\n"
        "  sms_max_segments                  longest SMS, in parts (6)\n"
        "  portal_callback_url               the portal's endpoint (none:\n"
        "                                    the portal polls the cabinet)\n"
        "  portal_callback_secret_file       the shared HMAC secret\n"
        "  portal_callback_timeout_ms        one attempt's limit (10000)\n");
    if (rc)
        return rc > 0 ? 0 : 1;
    if (!load_documents(&notify)) {
        service_fini(svc);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[256];
    notify_mailer_init(&notify.mailer, &notify);
    if (!notify_sms_init(&notify.sms, &notify, err, sizeof(err)) ||
        !notify_portal_init(&notify.portal, &notify, err, sizeof(err))) {
        log_error("notify.config", "%s", err);
        notify_sms_fini(&notify.sms);
        notice_templates_free(&notify.templates);
        curl_global_cleanup();
        service_fini(svc);
        return 1;
    }
    struct notify_batch batch = {0};
    bool batch_ok = notify_batch_init(&batch, &notify);
    struct consumer_cfg cc = {
        .name = "notify", .stmts = notify_stmts,
        .handle = notify_deliver, .flush = notify_batch_flush,
        .prepare = notify_batch_prepare,
        .committed = notify_batch_committed,
        .rolled_back = notify_batch_rolled_back, .ctx = &batch,
    };
    /* the SMS's and the portal's senders beside the e-mail's, which
     * service_run runs */
    struct channel *pushed[2] = {notify.sms.url ? &notify.sms.channel : NULL,
                                 notify.portal.url ? &notify.portal.channel
                                                   : NULL};
    pthread_t th[2];
    bool started[2] = {false, false};
    if (service_http(svc, 8083, 4, notify_stmts, notify_routes,
                     &notify) != 0) {
        rc = -1;
    } else if (batch_ok) {
        for (int i = 0; i < 2; i++)
            started[i] = pushed[i] &&
                         pthread_create(&th[i], NULL, channel_run,
                                        pushed[i]) == 0;
        rc = service_run(svc, &cc, channel_run, &notify.mailer.channel);
    } else {
        rc = -1;
    }
    service_stop = 1;
    for (int i = 0; i < 2; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    notify_batch_fini(&batch);
    notify_sms_fini(&notify.sms);
    sodium_memzero(notify.portal.secret, sizeof(notify.portal.secret));
    notice_templates_free(&notify.templates);
    authority_keys_fini(&notify.keys);
    curl_global_cleanup();
    service_fini(svc);
    return rc == 0 ? 0 : 1;
}
