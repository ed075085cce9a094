/* kezek-intake: accepting an application (p.13, p.14) — its receipt,
 * its Idempotency-Key, and the group commit of the application with its
 * ApplicationAccepted event. */
#include "intake.h"

#include "calendar.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "refname.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCER "intake"

static metric_t *m_accepted, *m_replayed;

static const char *const doc_names[][2] = {
    {"application_form", "Өтініш / Заявление (қосымша 3)"},
    {"identity_documents", "Жеке басын куәландыратын құжаттар"},
    {"civil_status_certificates", "Азаматтық хал актілері туралы куәліктер"},
    {"property_certificate", "Тұрғын үй туралы анықтама"},
    {"no_communal_dwelling_certificate",
     "Коммуналдық тұрғын үйдің жоқтығы туралы анықтама"},
    {"residence_confirmation", "Тұратын жерін растау"},
    {"court_decision_family", "Сот шешімі (отбасы мүшелері)"},
    {"vulnerable_status_document", "Әлеуметтік осал топқа жататынын растау"},
    {"income_certificate", "Табыс туралы анықтама"},
    {"workplace_certificate", "Жұмыс орнынан анықтама"},
    {"emergency_dwelling_certificate", "Авариялық тұрғын үй туралы анықтама"},
    {"competent_body_certificate", "Уәкілетті органның анықтамасы"},
};

static json_t *build_receipt(const struct application *app,
                             const principal_t *who, const char *number,
                             int64_t now_s, const char *authority_name,
                             const char *centre_name, char *due_s,
                             char *internal_s)
{
    char accepted[26];
    almaty_timestamp(now_s, accepted);
    kdate_t today = almaty_date(now_s);
    kdate_format(result_due(today), due_s);
    kdate_format(who->kind == PRINCIPAL_CENTRE ? centre_internal_due(today)
                                               : result_due(today),
                 internal_s);
    json_t *docs = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(app->body, "documents"), i, d) {
        const char *code = json_string_value(json_object_get(d, "code"));
        for (size_t k = 0; k < sizeof(doc_names) / sizeof(doc_names[0]); k++)
            if (strcmp(code, doc_names[k][0]) == 0)
                json_array_append_new(docs,
                    json_pack("{s:s, s:s}", "code", code, "name",
                              doc_names[k][1]));
    }
    json_t *a = json_object_get(app->body, "applicant");
    json_t *rep = json_object_get(app->body, "representative");
    char name[320], rep_name[320] = "";
    const char *pat = json_string_value(json_object_get(a, "patronymic"));
    snprintf(name, sizeof(name), "%s %s%s%s",
             json_string_value(json_object_get(a, "surname")),
             json_string_value(json_object_get(a, "given_name")),
             pat ? " " : "", pat ? pat : "");
    if (json_is_object(rep))
    {
        const char *rp = json_string_value(json_object_get(rep,
                                                           "patronymic"));
        snprintf(rep_name, sizeof(rep_name), "%s %s%s%s",
                 json_string_value(json_object_get(rep, "surname")),
                 json_string_value(json_object_get(rep, "given_name")),
                 rp ? " " : "", rp ? rp : "");
    }
    /* p.14: the contact phones — the applicant's and the
     * representative's */
    json_t *phones = json_array();
    const char *phone = json_string_value(json_object_get(a, "phone"));
    const char *rep_phone = json_string_value(json_object_get(rep,
                                                              "phone"));
    if (phone)
        json_array_append_new(phones, json_string(phone));
    if (rep_phone)
        json_array_append_new(phones, json_string(rep_phone));
    /* p.15: the result is handed where it was asked for */
    const char *place = who->kind == PRINCIPAL_PORTAL
                            ? "Электрондық үкімет порталындағы жеке кабинет"
                              " / Личный кабинет на портале электронного "
                              "правительства"
                        : who->kind == PRINCIPAL_CENTRE && centre_name
                            ? centre_name
                            : authority_name;
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:s?}", "number",
        number, "accepted_at", accepted, "service",
        "Мемлекеттік тұрғын үй қорынан тұрғын үйге мұқтаж азаматтарды "
        "есепке қою және олардың кезегі / Постановка на учёт и очередность "
        "граждан, нуждающихся в жилище из государственного жилищного "
        "фонда", "documents", docs, "result_due",
        due_s, "result_place", place, "accepted_by",
        who->employee[0] ? who->employee : who->text,
        "applicant_name", name, "representative_name",
        rep_name[0] ? json_string(rep_name) : json_null(), "phones", phones,
        "representative_phone", rep_phone);
}

/* receipt: the receipt's JSON text as stored (printed once per
 * application, not parsed and printed again per reply); id is hex */
static void reply_accepted(http_resp_t *resp, int status, const char *id,
                           const char *receipt)
{
    char *body = NULL;
    if (asprintf(&body, "{\"application_id\":\"%s\",\"status\":"
                        "\"accepted\",\"receipt\":%s}", id, receipt) < 0)
        body = NULL;
    if (body)
        http_reply_text(resp, status, "application/json", body);
    else
        http_reply_error(resp, 503, "unavailable", "out of memory", NULL);
}

/* 1: replied from the stored key; 0: key unused; -1: database error. */
static int replay_key(PGconn *c, const principal_t *who, const char *key,
                      const char *sha, http_resp_t *resp)
{
    const char *p[2] = {who->text, key};
    PGresult *r = pg_run(c, "idem_get", 2, p);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1;
    if (rc && strcmp(PQgetvalue(r, 0, IDEM_SHA), sha) != 0) {
        http_reply_error(resp, 409, "idempotency_conflict",
                         "this Idempotency-Key was used with another body",
                         NULL);
    } else if (rc) {
        reply_accepted(resp, 200, PQgetvalue(r, 0, IDEM_APP_ID),
                       PQgetvalue(r, 0, IDEM_RECEIPT));
        metric_inc(m_replayed);
    }
    PQclear(r);
    return rc;
}

/* Receipt numbers come from the sequence in blocks, so that a request
 * does not spend a round trip on one (unique, increasing per block; a
 * block left unused at exit is a gap, as a rollback makes). */
#define RECEIPT_BLOCK 32
static pthread_mutex_t receipt_lock = PTHREAD_MUTEX_INITIALIZER;
static long long receipt_block[RECEIPT_BLOCK];
static int receipt_left;

static bool receipt_number(PGconn *c, long long *out)
{
    pthread_mutex_lock(&receipt_lock);
    if (receipt_left == 0) {
        PGresult *r = pg_run(c, "receipt_block", 0, NULL);
        int n = r ? PQntuples(r) : 0;
        for (int i = 0; i < n && i < RECEIPT_BLOCK; i++)
            receipt_block[RECEIPT_BLOCK - 1 - i] =
                atoll(PQgetvalue(r, n - 1 - i, 0));
        receipt_left = n < RECEIPT_BLOCK ? n : RECEIPT_BLOCK;
        PQclear(r);
    }
    bool ok = receipt_left > 0;
    if (ok)
        *out = receipt_block[RECEIPT_BLOCK - receipt_left--];
    pthread_mutex_unlock(&receipt_lock);
    return ok;
}

/* Stores the key, the application and its event in one statement and
 * one commit, shared with the requests arriving meanwhile (committer.c).
 * 1 when stored (resp set: 202), 0 when the key was there first (nothing
 * written: the caller replays it), -1 when nothing could be stored (resp
 * set: 503). body_s: the body as printed for its hash (sha). */
static int store(PGconn *c, const principal_t *who, const char *key,
                 const char *sha, const char *body_s,
                 struct application *app, http_resp_t *resp)
{
    char authority_name[512], centre_name[512] = "";
    long long seqno;
    if (refname_get(c, "authority_name", app->authority_id, authority_name,
                    sizeof(authority_name)) <= 0 ||
        (who->kind == PRINCIPAL_CENTRE &&
         refname_get(c, "centre_name", who->id, centre_name,
                     sizeof(centre_name)) < 0) ||
        !receipt_number(c, &seqno))
        goto unavailable;
    int64_t now = now_us();
    kdate_t today = almaty_date(now / 1000000);
    char id[33], number[96], due[11], internal[11], at[32];
    event_new_id(id);
    snprintf(number, sizeof(number), "%04d-%s-%08lld", today.year,
             app->authority_id, seqno);
    json_t *receipt = build_receipt(app, who, number, now / 1000000,
                                    authority_name,
                                    centre_name[0] ? centre_name : NULL,
                                    due, internal);
    char *receipt_s = json_dumps(receipt, JSON_COMPACT);
    json_decref(receipt);
    if (!receipt_s)
        goto unavailable;
    const char *channel = who->kind == PRINCIPAL_OFFICE   ? "office"
                          : who->kind == PRINCIPAL_CENTRE ? "centre"
                                                          : "portal";
    snprintf(at, sizeof(at), "%.6f", (double)now / 1e6);
    Kezek__ApplicationAccepted ev = KEZEK__APPLICATION_ACCEPTED__INIT;
    ev.application_id = id;
    ev.authority_id = app->authority_id;
    ev.settlement_id = (char *)app->settlement_id;
    ev.category = (char *)app->category;
    ev.channel = (char *)channel;
    ev.accepted_at_us = now;
    ev.result_due = due;
    ev.application_json = (char *)body_s;
    /* the receipt stays in application.receipt: nobody downstream needs
     * it at once (notify prints it from there when asked, p.14) */
    ev.principal = (char *)who->text;
    ev.applicant_iin = (char *)app->iin;
    struct outbox_row o;
    char *hex = NULL;
    int rc = -1;
    if (outbox_row_init(&o, PRODUCER, KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED,
                        id, &ev.base)) {
        struct store_req req = {.vals = {
            [STORE_ID] = id, [STORE_NUMBER] = number,
            [STORE_AUTHORITY] = app->authority_id,
            [STORE_SETTLEMENT] = app->settlement_id,
            [STORE_CHANNEL] = channel, [STORE_PRINCIPAL] = who->text,
            [STORE_CATEGORY] = app->category, [STORE_IIN] = app->iin,
            [STORE_ACCEPTED_AT] = at, [STORE_RESULT_DUE] = due,
            [STORE_INTERNAL_DUE] = internal, [STORE_BODY] = body_s,
            [STORE_RECEIPT] = receipt_s, [STORE_KEY] = key,
            [STORE_SHA] = sha}};
        if (outbox_row_texts(&o, req.vals + STORE_EVENT, &hex))
            rc = committer_store(c, &req);
    }
    free(hex);
    outbox_row_free(&o);
    if (rc == 1) {
        reply_accepted(resp, 202, id, receipt_s);
        metric_inc(m_accepted);
        log_info("application.accepted", "application %s accepted", id);
    }
    free(receipt_s);
    if (rc >= 0)
        return rc;
unavailable:
    http_reply_error(resp, 503, "unavailable",
                     "the application could not be stored; nothing "
                     "was accepted, retry with the same key", NULL);
    return -1;
}

char *intake_canonical(json_t *body, char sha[65], http_resp_t *resp)
{
    char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (!canon) {
        http_reply_error(resp, 503, "unavailable", "out of memory", NULL);
        return NULL;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
    sodium_bin2hex(sha, 65, h, sizeof(h));
    return canon;
}

void intake_post_application(void *ctx, const http_req_t *req,
                             http_resp_t *resp)
{
    service_t *svc = ctx;
    principal_t who;
    PGconn *c = intake_begin(svc, req, resp, &who);
    if (!c)
        return;
    json_t *body = NULL;
    char *canon = NULL;
    if (who.kind != PRINCIPAL_OFFICE && who.kind != PRINCIPAL_CENTRE &&
        who.kind != PRINCIPAL_PORTAL) {
        http_reply_error(resp, 403, "forbidden", "applications are "
                         "submitted at an office, a centre or on the "
                         "portal (p.13)", NULL);
        goto out;
    }
    const char *key = http_idempotency_key(req, resp);
    if (!key)
        goto out;
    body = http_json_body(req, resp);
    if (!body)
        goto out;
    /* "the same body": the same JSON, whatever its spacing, key order or
     * the Unicode form of its names */
    intake_normalise_names(body);
    char sha[65];
    /* printed once: hashed, stored and carried by the event */
    canon = intake_canonical(body, sha, resp);
    if (!canon)
        goto out;
    /* the common case first: a new key stores in one round trip; the
     * key found in place (a retry, or a concurrent twin) is replayed */
    struct application app;
    if (!intake_validate(c, &who, body, &app, resp)) {
        /* a retry of an accepted request is answered as one, even if
         * the reference data changed meanwhile */
        http_resp_t replay = {0};
        if (replay_key(c, &who, key, sha, &replay) == 1) {
            free(resp->body);
            *resp = replay;
        } else {
            free(replay.body);
        }
        goto out;
    }
    int rc = store(c, &who, key, sha, canon, &app, resp);
    if (rc == 0 && replay_key(c, &who, key, sha, resp) != 1)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
out:
    free(canon);
    json_decref(body);
    pgpool_release(svc->pool, c);
}

void intake_accept_init(void)
{
    m_accepted = metrics_counter("kezek_applications_accepted_total",
                                 "Applications accepted (202)", NULL);
    m_replayed = metrics_counter("kezek_idempotent_replays_total",
                                 "Repeated submissions answered from the "
                                 "stored Idempotency-Key", NULL);
}
