/* The portal's callback (delivery.h; issue 23): each document placed in
 * the personal cabinet is POSTed to the portal's endpoint as it is
 * signed, so that the portal need not poll the cabinet. The request:
 *
 *   POST <portal_callback_url>
 *   Content-Type: application/json
 *   Date: <RFC 9110 IMF-fixdate, GMT>
 *   X-Kezek-Delivery: <delivery id: the notice id, the same on a retry>
 *   X-Kezek-Signature: sha256=<hex HMAC-SHA256(secret, Date "\n" body)>
 *
 *   {"delivery_id", "application_id", "applicant_iin", "kind",
 *    "document", "signature", "key_id"}
 *
 * The portal checks the signature and that Date is within 5 minutes of
 * its clock, and answers 2xx once it has the document; anything else,
 * or no answer within portal_callback_timeout_ms, is retried with
 * back-off (the same delivery id: the portal keeps the first and
 * acknowledges the others). docs/operations.md "The portal's
 * callback". */
#include "notify.h"

#include "delivery.h"
#include "log.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The body of d's callback (caller frees), NULL when out of memory. */
static char *callback_body(const struct delivery *d)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s}",
                          "delivery_id", d->id, "application_id", d->app,
                          "applicant_iin", d->iin, "kind", d->kind,
                          "document", d->doc, "signature", d->signature,
                          "key_id", d->key_id);
    char *s = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(b);
    return s;
}

void notify_portal_sign(const char *secret, const char *date,
                        const char *body, char out[72])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
                                strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)date,
                                  strlen(date));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body,
                                  strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

static size_t discard(char *p, size_t size, size_t nmemb, void *arg)
{
    (void)p;
    (void)arg;
    return size * nmemb;
}

static enum send_rc portal_send(struct channel *ch, struct delivery *d,
                                char *err, size_t errlen)
{
    const struct notify_portal *p = ch->ctx;
    char *body = callback_body(d);
    CURL *curl = body ? curl_easy_init() : NULL;
    if (!curl) {
        free(body);
        snprintf(err, errlen, "out of memory");
        return SEND_RETRY;
    }
    char date[64], sig[72], h_date[96], h_sig[112], h_id[192];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
             gmtime_r(&now, &tm));
    notify_portal_sign(p->secret, date, body, sig);
    snprintf(d->ref, sizeof(d->ref), "%s", d->id);
    snprintf(h_date, sizeof(h_date), "Date: %s", date);
    snprintf(h_sig, sizeof(h_sig), "X-Kezek-Signature: %s", sig);
    snprintf(h_id, sizeof(h_id), "X-Kezek-Delivery: %s", d->id);
    struct curl_slist *h = NULL, *t;
    const char *hs[4] = {"Content-Type: application/json", h_date, h_sig,
                         h_id};
    bool ok = true;
    for (int i = 0; i < 4 && ok; i++) {
        t = curl_slist_append(h, hs[i]);
        ok = t != NULL;
        h = t ? t : h;
    }
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    long status = 0;
    if (ok) {
        curl_easy_setopt(curl, CURLOPT_URL, p->url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, p->timeout_ms);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    free(body);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "portal: %s", curl_easy_strerror(rc));
        return SEND_RETRY;
    }
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "portal answered %ld", status);
        return SEND_RETRY;
    }
    return SEND_OK;
}

bool notify_portal_init(struct notify_portal *p, struct notify *n,
                        char *err, size_t errlen)
{
    *p = (struct notify_portal){0};
    p->url = config_str(n->svc.cfg, "portal_callback_url", NULL);
    if (!p->url)
        return true; /* the portal polls the cabinet */
    const char *path = config_str(n->svc.cfg, "portal_callback_secret_file",
                                  NULL);
    long timeout;
    if (!service_int(&n->svc, "portal_callback_timeout_ms", 10000, 100,
                     120000, &timeout)) {
        snprintf(err, errlen, "portal_callback_timeout_ms out of range");
        return false;
    }
    p->timeout_ms = timeout;
    FILE *f = path ? fopen(path, "r") : NULL;
    bool read = f && fgets(p->secret, sizeof(p->secret), f);
    if (f)
        fclose(f);
    /* the HMAC key: the secret's first line as written, without its
     * line end */
    p->secret[strcspn(p->secret, "\r\n")] = '\0';
    if (!read || strlen(p->secret) < 32) {
        snprintf(err, errlen, "portal_callback_secret_file: %s", !path
                 ? "not set (portal_callback_url is)"
                 : "unreadable, or shorter than 32 characters");
        sodium_memzero(p->secret, sizeof(p->secret));
        return false;
    }
    /* about a day: 2 s … 1 h apart */
    channel_init(&p->channel, n, "portal", "delivered", 36, p, portal_send);
    log_info("notify.portal", "cabinet documents are POSTed to the portal");
    return true;
}
