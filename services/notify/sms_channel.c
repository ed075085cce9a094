/* The SMS channel of kezek-notify (delivery.h; issue 23): a short text
 * of each result notice — the outcome, the number and position or the
 * first reason, where to read the signed notice — in the applicant's
 * language (kk or ru; both when unknown), to a Kazakh mobile number,
 * through Kannel's sendsms interface with a delivery-report URL back to
 * this service (sms_dlr in api.c). Kannel's "accepted" makes it "sent";
 * the report makes it "delivered" or "failed". */
#include "notify.h"

#include "delivery.h"
#include "log.h"
#include "sms.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The language index of the templates: 0 kk, 1 ru. */
enum { LANG_KK, LANG_RU };

/* The values of the SMS templates from the signed document. */
static json_t *sms_vars(const struct notice_templates *t, json_t *doc,
                        int l)
{
    static const char *const langs[2] = {"kk", "ru"};
    json_t *queue = json_object_get(doc, "queue");
    json_t *left = json_object_get(doc, "left");
    json_t *place = queue ? queue : left;
    const char *list = json_string_value(json_object_get(place, "list"));
    const char *list_name = json_string_value(json_object_get(
        json_object_get(t->lists, langs[l]), list ? list : ""));
    char number[24] = "", position[24] = "", reason[96] = "";
    json_t *num = json_object_get(place, "number");
    json_t *pos = json_object_get(place, "position_at_issue");
    if (json_is_integer(num))
        snprintf(number, sizeof(number), "%lld",
                 (long long)json_integer_value(num));
    if (json_is_integer(pos))
        snprintf(position, sizeof(position), "%lld",
                 (long long)json_integer_value(pos));
    json_t *reasons = json_object_get(doc, "reasons");
    const char *removal = json_string_value(json_object_get(doc, "reason"));
    if (json_array_size(reasons) > 0) {
        const char *para = json_string_value(json_object_get(
            json_array_get(reasons, 0), "paragraph"));
        size_t more = json_array_size(reasons) - 1;
        snprintf(reason, sizeof(reason), "%s %s%s", l ? "п." : "т.",
                 para ? para : "", more ? (l ? " и др." : " т.б.") : "");
    } else if (removal) {
        const char *r = json_string_value(json_object_get(json_object_get(
            json_object_get(t->lists, "removal_reasons"), langs[l]),
            removal));
        snprintf(reason, sizeof(reason), "%s", r ? r : removal);
    }
    return json_pack("{s:s, s:s, s:s, s:s}", "list_name",
                     list_name ? list_name : (list ? list : ""), "number",
                     number, "position", position, "reason", reason);
}

/* The SMS text of d in its applicant's language — both, Kazakh first,
 * when unknown (caller frees); NULL when its kind has no SMS. */
static char *sms_text(const struct notice_templates *t,
                      const struct delivery *d)
{
    enum notice_kind k = notice_kind_of(d->kind);
    if (k == NOTICE_KINDS || !t->text[k][LANG_KK])
        return NULL;
    char *text[2] = {NULL, NULL};
    for (int l = 0; l < 2; l++) {
        if ((l == LANG_KK && strcmp(d->lang, "ru") == 0) ||
            (l == LANG_RU && strcmp(d->lang, "kk") == 0))
            continue;
        json_t *v = sms_vars(t, d->doc, l);
        text[l] = notice_render(t->text[k][l], v);
        json_decref(v);
    }
    char *out = NULL;
    if (text[0] && text[1]) {
        if (asprintf(&out, "%s / %s", text[0], text[1]) < 0)
            out = NULL;
    } else {
        out = text[0] ? text[0] : text[1];
        text[0] = text[1] = NULL;
    }
    free(text[0]);
    free(text[1]);
    if (out)
        sms_flatten(out);
    return out;
}

bool notify_sms_has(const struct notify_sms *s, const char *kind)
{
    enum notice_kind k = notice_kind_of(kind);
    return s->url && k != NOTICE_KINDS && s->templates.text[k][LANG_KK];
}

void notify_sms_dlr_token(const struct notify_sms *s, const char *notice,
                          char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, (const unsigned char *)notice,
                           strlen(notice), s->dlr_key);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
}

/* Kannel's answer into a result: 202 "0: Accepted for delivery" or
 * "3: Queued for later delivery" took it; 400 refuses this message
 * (number, text) for good; anything else may pass later. */
static enum send_rc kannel_answer(long status, const char *body, char *err,
                                  size_t errlen)
{
    if (status == 202 && (strncmp(body, "0:", 2) == 0 ||
                          strncmp(body, "3:", 2) == 0))
        return SEND_OK;
    snprintf(err, errlen, "kannel %ld: %.160s", status, body);
    return status == 400 ? SEND_FAILED : SEND_RETRY;
}

struct answer {
    char body[256];
    size_t n;
};

static size_t keep_answer(char *p, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t len = size * nmemb;
    size_t room = sizeof(a->body) - 1 - a->n;
    memcpy(a->body + a->n, p, len < room ? len : room);
    a->n += len < room ? len : room;
    a->body[a->n] = '\0';
    return len;
}

/* The sendsms URL of d's text to phone (caller frees), or NULL. */
static char *sendsms_url(CURL *curl, const struct notify_sms *s,
                         const struct delivery *d, const char *phone,
                         const char *text, enum sms_coding coding)
{
    char token[65], dlr[512];
    notify_sms_dlr_token(s, d->id, token);
    char *id = curl_easy_escape(curl, d->id, 0);
    snprintf(dlr, sizeof(dlr), "%s/v1/sms/dlr?notice=%s&token=%s&status=%%d",
             s->dlr_base, id ? id : "", token);
    curl_free(id);
    char *e_user = curl_easy_escape(curl, s->user, 0);
    char *e_pass = curl_easy_escape(curl, s->password, 0);
    char *e_from = curl_easy_escape(curl, s->from, 0);
    char *e_text = curl_easy_escape(curl, text, 0);
    char *e_dlr = curl_easy_escape(curl, dlr, 0);
    char *url = NULL;
    if (e_user && e_pass && e_from && e_text && e_dlr &&
        asprintf(&url, "%s?username=%s&password=%s&from=%s&to=%s&text=%s"
                 "&charset=UTF-8&coding=%d&dlr-mask=%d&dlr-url=%s", s->url,
                 e_user, e_pass, e_from, phone, e_text,
                 coding == SMS_UCS2 ? 2 : 0, 1 | 2 | 8 | 16, e_dlr) < 0)
        url = NULL;
    curl_free(e_user);
    curl_free(e_pass);
    curl_free(e_from);
    curl_free(e_text);
    curl_free(e_dlr);
    return url;
}

static enum send_rc sms_send(struct channel *ch, struct delivery *d,
                             char *err, size_t errlen)
{
    const struct notify_sms *s = ch->ctx;
    char phone[12];
    struct sms_length len;
    if (!sms_phone_kz(d->phone, phone)) {
        snprintf(err, errlen, "not a mobile number of Kazakhstan");
        return SEND_FAILED;
    }
    char *text = sms_text(&s->templates, d);
    if (!text || !sms_measure(text, &len)) {
        free(text);
        snprintf(err, errlen, "no SMS text for %s", d->kind);
        return SEND_FAILED;
    }
    d->segments = len.segments;
    d->coding = len.coding == SMS_UCS2 ? "ucs2" : "gsm7";
    if (len.segments > s->max_segments) {
        free(text);
        snprintf(err, errlen, "%d segments, more than sms_max_segments %d",
                 len.segments, s->max_segments);
        return SEND_FAILED;
    }
    snprintf(d->ref, sizeof(d->ref), "%s", d->id);
    CURL *curl = curl_easy_init();
    char *url = curl ? sendsms_url(curl, s, d, phone, text, len.coding)
                     : NULL;
    free(text);
    if (!url) {
        if (curl)
            curl_easy_cleanup(curl);
        snprintf(err, errlen, "out of memory");
        return SEND_RETRY;
    }
    struct answer a = {.n = 0};
    a.body[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    /* the URL holds the password: never logged */
    sodium_memzero(url, strlen(url));
    free(url);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "kannel: %s", curl_easy_strerror(rc));
        return SEND_RETRY;
    }
    return kannel_answer(status, a.body, err, errlen);
}

bool notify_sms_init(struct notify_sms *s, struct notify *n, char *err,
                     size_t errlen)
{
    config_t *cfg = n->svc.cfg;
    *s = (struct notify_sms){.max_segments = 6};
    s->url = config_str(cfg, "sms_url", NULL);
    if (!s->url)
        return true; /* no SMS */
    s->user = config_str(cfg, "sms_user", "kezek");
    s->from = config_str(cfg, "sms_from", "Kezek");
    const char *pass = config_str(cfg, "sms_password_file", NULL);
    long port = 8083, segments = 6;
    if (!service_int(&n->svc, "http_port", 8083, 1, 65535, &port) ||
        !service_int(&n->svc, "sms_max_segments", 6, 1, 10, &segments)) {
        snprintf(err, errlen, "http_port or sms_max_segments out of range");
        return false;
    }
    s->max_segments = (int)segments;
    snprintf(s->dlr_default, sizeof(s->dlr_default), "http://127.0.0.1:%ld",
             port);
    s->dlr_base = config_str(cfg, "sms_dlr_base", s->dlr_default);
    FILE *f = pass ? fopen(pass, "r") : NULL;
    if (!f || !fgets(s->password, sizeof(s->password), f)) {
        if (f)
            fclose(f);
        snprintf(err, errlen, "sms_password_file: %s",
                 pass ? "unreadable" : "not set (sms_url is)");
        return false;
    }
    fclose(f);
    s->password[strcspn(s->password, "\r\n")] = '\0';
    /* the delivery reports' tokens are keyed by the password: only who
     * may send through Kannel can forge one */
    crypto_hash_sha256(s->dlr_key, (const unsigned char *)s->password,
                       strlen(s->password));
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/sms",
             config_str(cfg, "templates_dir", "templates"));
    if (!notice_templates_load_some(&s->templates, dir, err, errlen))
        return false;
    channel_init(&s->channel, n, "sms", "sent", 12, s, sms_send);
    log_info("notify.sms", "SMS through %s", s->url);
    return true;
}

void notify_sms_fini(struct notify_sms *s)
{
    notice_templates_free(&s->templates);
    sodium_memzero(s->password, sizeof(s->password));
    sodium_memzero(s->dlr_key, sizeof(s->dlr_key));
}
