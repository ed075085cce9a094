/* The e-mail channel of kezek-notify (delivery.h): each notice of an
 * application that gave an address, both languages' texts in the body
 * and the signed notice attached, with a deterministic Message-ID — an
 * e-mail interrupted mid-send is found in_doubt at the next start and
 * never sent twice on its own. */
#include "notify.h"

#include "delivery.h"
#include "mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum send_rc mail_channel_send(struct channel *ch,
                                      struct delivery *d, char *err,
                                      size_t errlen)
{
    const struct notify_mailer *m = ch->ctx;
    snprintf(d->ref, sizeof(d->ref), "%s@kezek.kz", d->id);
    json_t *att = json_pack("{s:O, s:s, s:s}", "document", d->doc,
                            "signature", d->signature, "key_id", d->key_id);
    char *attachment = json_dumps(att, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(att);
    const char *kk = json_string_value(json_object_get(d->doc, "text_kk"));
    const char *ru = json_string_value(json_object_get(d->doc, "text_ru"));
    char *text = NULL;
    char subject[256], file[160];
    snprintf(subject, sizeof(subject),
             "Тұрғын үй кезегі / Очередь на жильё: %s", d->kind);
    snprintf(file, sizeof(file), "%s.json", d->id);
    if (!attachment ||
        asprintf(&text, "%s\n\n%s\n", kk ? kk : "", ru ? ru : "") < 0) {
        free(attachment);
        snprintf(err, errlen, "out of memory");
        return SEND_RETRY;
    }
    struct mail msg = {d->email, m->smtp_from, d->ref, subject, text,
                       attachment, file};
    enum mail_rc rc = mail_send(m->smtp_url, &msg, err, errlen);
    free(text);
    free(attachment);
    return rc == MAIL_SENT    ? SEND_OK
           : rc == MAIL_RETRY ? SEND_RETRY
                              : SEND_FAILED;
}

void notify_mailer_init(struct notify_mailer *m, struct notify *n)
{
    m->smtp_url = config_str(n->svc.cfg, "smtp_url", "smtp://127.0.0.1:25");
    m->smtp_from = config_str(n->svc.cfg, "smtp_from", "noreply@kezek.kz");
    /* 12 attempts: 2 s … 68 min apart, about 2.3 hours in all */
    channel_init(&m->channel, n, "email", "sent", 12, m, mail_channel_send);
}
