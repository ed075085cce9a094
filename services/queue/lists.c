/* A whole queue list in position order (p.5), for the console: a page
 * of it (GET /v1/queue/{authority}/{list}/entries) and all of it as a
 * spreadsheet (…/entries.csv). Read by the office of the authority, its
 * region's supervisor and operators; every person in a reply is an
 * audited read (p.17). */
#include "queue.h"

#include "audit.h"
#include "auth.h"
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define CSV_BATCH 5000

/* Where a page starts: after the entry accepted as seq (-1: the
 * start). The cursor is that seq. */
static bool cursor_parse(const char *s, long long *seq)
{
    char *end;
    if (!s) {
        *seq = -1;
        return true;
    }
    if (*s < '0' || *s > '9' || strlen(s) > 18)
        return false;
    *seq = strtoll(s, &end, 10);
    return *end == '\0';
}

/* The token, the path, who may read the list; a pooled connection, or
 * NULL after replying. */
static PGconn *list_request(struct queue *q, const http_req_t *req,
                            http_resp_t *resp, principal_t *who)
{
    enum auth_rc auth = auth_check(q->svc.pool, req, who);
    const char *authority = req->params[PATH_AUTHORITY];
    if (auth != AUTH_OK) {
        auth_reply(resp, auth);
        return NULL;
    }
    if (!queue_list_known(req->params[PATH_LIST]) ||
        strlen(authority) > 63) {
        http_reply_error(resp, 400, "invalid_field",
                         "list: wwii, vulnerable, public_sector or "
                         "emergency_dwelling",
                         json_pack("{s:s}", "field", "list"));
        return NULL;
    }
    char err[256], region[64] = "";
    PGconn *c = pgpool_acquire(q->svc.pool, err, sizeof(err));
    int known = c && who->kind == PRINCIPAL_SUPERVISOR
                    ? auth_authority_region(c, authority, region)
                    : 1;
    if (!c || known < 0)
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    else if (!principal_reads_authority(who, authority,
                                        known ? region : NULL))
        http_reply_error(resp, 403, "forbidden", "a queue list is read by "
                         "its authority's office, its region's supervisor "
                         "and operators", NULL);
    if (resp->status && c) {
        pgpool_release(q->svc.pool, c);
        c = NULL;
    }
    return c;
}

/* Up to limit active entries after seq, in position order, each with
 * its position counted now (a page follows the list as it is). */
static PGresult *page(PGconn *c, const http_req_t *req, long long seq,
                      int limit)
{
    char from[24], lim[12];
    snprintf(from, sizeof(from), "%lld", seq);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *p[4] = {req->params[PATH_AUTHORITY], req->params[PATH_LIST],
                        from, lim};
    return pg_run(c, "list_page", 4, p);
}

/* GET /v1/queue/{authority}/{list}/entries?limit=&cursor= */
void queue_get_entries(void *ctx, const http_req_t *req, http_resp_t *resp)
{
    struct queue *q = ctx;
    principal_t who;
    long long seq = -1;
    PGconn *c = list_request(q, req, resp, &who);
    if (!c)
        return;
    int limit = http_limit(req, resp, PAGE_DEFAULT, PAGE_MAX);
    if (limit && !cursor_parse(http_query(req, "cursor"), &seq)) {
        http_reply_error(resp, 400, "invalid_field", "cursor: as returned "
                         "in next_cursor", json_pack("{s:s}", "field",
                                                     "cursor"));
    }
    if (resp->status) {
        pgpool_release(q->svc.pool, c);
        return;
    }
    const char *p[2] = {req->params[PATH_AUTHORITY], req->params[PATH_LIST]};
    PGresult *total = pg_run(c, "list_total", 2, p);
    PGresult *r = total ? page(c, req, seq, limit + 1) : NULL;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        int n = PQntuples(r) > limit ? limit : PQntuples(r);
        json_t *entries = json_array();
        for (int i = 0; i < n; i++) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(r, i, LIST_PAGE_ACCEPTED_AT)),
                             at);
            json_array_append_new(entries, json_pack(
                "{s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "number",
                (json_int_t)atoll(PQgetvalue(r, i, LIST_PAGE_NUMBER)),
                "position",
                (json_int_t)atoll(PQgetvalue(r, i, LIST_PAGE_POSITION)),
                "iin", PQgetvalue(r, i, LIST_PAGE_IIN), "application_id",
                PQgetvalue(r, i, LIST_PAGE_APPLICATION_ID), "accepted_at",
                at, "name", PQgetvalue(r, i, LIST_PAGE_NAME), "category",
                PQgetvalue(r, i, LIST_PAGE_CATEGORY)));
        }
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:s, s:I, s:o, s:o}", "authority_id", p[0], "list", p[1],
            "total", (json_int_t)atoll(PQgetvalue(total, 0, 0)), "items",
            entries, "next_cursor",
            PQntuples(r) > limit
                ? json_string(PQgetvalue(r, n - 1, LIST_PAGE_SEQ))
                : json_null()));
        audit_reply_rows(resp, who.text, http_purpose(req, "queue_list"),
                         "queue_list", r, n, LIST_PAGE_IIN);
    }
    PQclear(total);
    PQclear(r);
    pgpool_release(q->svc.pool, c);
}

/* A field for a spreadsheet: quoted when it holds the separator, a
 * quote or a line break; a leading = + - @ (a formula to Excel and
 * LibreOffice) is neutralised with an apostrophe. */
static void csv_field(FILE *f, const char *s, bool last)
{
    bool formula = strchr("=+-@\t\r", s[0]) && s[0];
    if (formula || strpbrk(s, ";\"\r\n")) {
        fputc('"', f);
        if (formula)
            fputc('\'', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ";", f);
}

/* The header row, in the language asked for (lang=kk|ru; ru by
 * default: the spreadsheet's reader, not the API, chooses). */
static const char *const csv_head[2][5] = {
    {"Кезек нөмірі", "Орны", "Өтініш қабылданған уақыт", "Аты-жөні",
     "Санат"},
    {"Номер в очереди", "Позиция", "Заявление принято", "ФИО",
     "Категория"},
};

/* GET /v1/queue/{authority}/{list}/entries.csv — the whole list, UTF-8
 * with a byte order mark (so that Excel reads it as UTF-8), ';'
 * separated (the list separator of kk and ru locales). */
void queue_get_entries_csv(void *ctx, const http_req_t *req,
                            http_resp_t *resp)
{
    struct queue *q = ctx;
    principal_t who;
    const char *lang = http_query(req, "lang");
    PGconn *c = list_request(q, req, resp, &who);
    if (!c)
        return;
    if (lang && strcmp(lang, "kk") != 0 && strcmp(lang, "ru") != 0) {
        http_reply_error(resp, 400, "invalid_field", "lang: kk or ru",
                         json_pack("{s:s}", "field", "lang"));
        pgpool_release(q->svc.pool, c);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *const *head = csv_head[lang && strcmp(lang, "kk") == 0 ? 0
                                                                        : 1];
    bool ok = f != NULL;
    if (f) {
        fputs("\xEF\xBB\xBF", f);
        for (int i = 0; i < 5; i++)
            csv_field(f, head[i], i == 4);
    }
    long long seq = -1;
    for (int n = CSV_BATCH; ok && n == CSV_BATCH;) {
        PGresult *r = page(c, req, seq, CSV_BATCH);
        n = r ? PQntuples(r) : 0;
        if (r)
            audit_reply_rows(resp, who.text, http_purpose(req, "queue_list"),
                             "queue_list_csv", r, n, LIST_PAGE_IIN);
        ok = r && resp->status != 503;
        if (!ok)
            n = 0;
        for (int i = 0; i < n; i++) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(r, i, LIST_PAGE_ACCEPTED_AT)),
                             at);
            at[10] = ' ';
            at[19] = '\0'; /* "2026-11-25 10:15:00", local time */
            const char *row[5] = {PQgetvalue(r, i, LIST_PAGE_NUMBER),
                                  PQgetvalue(r, i, LIST_PAGE_POSITION), at,
                                  PQgetvalue(r, i, LIST_PAGE_NAME),
                                  PQgetvalue(r, i, LIST_PAGE_CATEGORY)};
            for (int k = 0; k < 5; k++)
                csv_field(f, row[k], k == 4);
        }
        if (n > 0)
            seq = atoll(PQgetvalue(r, n - 1, LIST_PAGE_SEQ));
        PQclear(r);
    }
    if (f && fclose(f) != 0)
        ok = false;
    if (ok) {
        http_reply_bytes(resp, 200, "text/csv; charset=utf-8", buf, len);
        snprintf(resp->header_name, sizeof(resp->header_name),
                 "Content-Disposition");
        snprintf(resp->header_value, sizeof(resp->header_value),
                 "attachment; filename=\"queue-%s-%s.csv\"",
                 req->params[PATH_AUTHORITY], req->params[PATH_LIST]);
    } else {
        free(buf);
        if (!resp->status)
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
    }
    pgpool_release(q->svc.pool, c);
}
