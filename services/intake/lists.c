/* The console's reads (issue 19): who is signed in, the applications of
 * an office, a centre or of everyone, and the inbox of complaints. The
 * lists are keyset paginated (a cursor names the last row shown, so a
 * page costs the same however deep) and every person in a reply is an
 * audited read (p.17). */
#include "intake.h"

#include "audit.h"
#include "calendar.h"
#include "iin.h"
#include "queue_lists.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

/* GET /v1/session — the principal behind the token, for the console's
 * header and menu. */
void lists_session(PGconn *c, const principal_t *who, const http_req_t *req,
                   http_resp_t *resp)
{
    (void)req;
    const char *p[2] = {principal_kind_name(who->kind), who->id};
    PGresult *r = pg_run(c, "session_scope", 2, p);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    char exp[26];
    if (who->expires)
        almaty_timestamp(who->expires, exp);
    json_t *out = json_pack(
        "{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "principal", who->text,
        "kind", p[0], "id", who->id[0] ? who->id : NULL, "employee",
        who->employee[0] ? who->employee : NULL, "region_id",
        PQgetisnull(r, 0, SCOPE_REGION) ? NULL
                                        : PQgetvalue(r, 0, SCOPE_REGION),
        "scope_name",
        PQgetisnull(r, 0, SCOPE_NAME) ? NULL : PQgetvalue(r, 0, SCOPE_NAME),
        "expires_at", who->expires ? exp : NULL);
    for (const char *const *k = (const char *const[]){"id", "employee",
             "region_id", "scope_name", "expires_at", NULL}; *k; k++)
        if (!json_object_get(out, *k))
            json_object_set_new(out, *k, json_null());
    http_reply_json(resp, 200, out);
    PQclear(r);
}

/* A statement put together from the filters a request has: conditions
 * with their values as parameters (never in the text). */
struct query {
    FILE *f;
    char *sql;
    size_t len;
    const char *vals[16];
    int n;
};

/* Appends cond, in which "$?" stands for a's parameter and "$!" for
 * b's (b may be NULL: cond has no "$!"). */
static void where(struct query *q, const char *cond, const char *a,
                  const char *b)
{
    char num[2][16];
    q->vals[q->n++] = a;
    snprintf(num[0], sizeof(num[0]), "$%d", q->n);
    if (b) {
        q->vals[q->n++] = b;
        snprintf(num[1], sizeof(num[1]), "$%d", q->n);
    }
    fputs(" AND ", q->f);
    for (const char *s = cond; *s; s++) {
        if (s[0] == '$' && (s[1] == '?' || (s[1] == '!' && b))) {
            fputs(num[s[1] == '!'], q->f);
            s++;
        } else {
            fputc(*s, q->f);
        }
    }
}

/* Runs q planned for its values (a custom plan): the pool's sessions
 * plan generically (main.c), and a generic plan of a list — its LIMIT
 * and prefix unknown — walked the newest-first index past 87,000 rows of
 * 100,000 to find 50 of a rare surname (bench/console: 445 ms, now a
 * few). Nor in parallel: starting workers cost more than a page. */
static PGresult *run(PGconn *c, const struct query *q)
{
    if (!pg_exec(c, "BEGIN READ ONLY;"
                    " SET LOCAL plan_cache_mode = force_custom_plan;"
                    " SET LOCAL max_parallel_workers_per_gather = 0"))
        return NULL;
    PGresult *r = pg_query(c, q->sql, q->n, q->vals);
    if (!pg_exec(c, r ? "COMMIT" : "ROLLBACK")) {
        PQclear(r);
        r = NULL;
    }
    return r;
}

static void bad_field(http_resp_t *resp, const char *field, const char *msg)
{
    http_reply_error(resp, 400, "invalid_field", msg,
                     json_pack("{s:s}", "field", field));
}

/* A cursor "<a>_<b>": a digits (or a date, dashes allowed) and b a
 * 32-hex id; split in place into out[0], out[1]. */
static bool cursor_split(const char *s, char out[2][40], bool date)
{
    const char *us = s ? strchr(s, '_') : NULL;
    size_t a = us ? (size_t)(us - s) : 0;
    if (!us || a == 0 || a > (date ? 10 : 18) || strlen(us + 1) != 32)
        return false; /* 18 digits: within a bigint */
    for (size_t i = 0; i < a; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (date && s[i] == '-')))
            return false;
    for (const char *h = us + 1; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return false;
    memcpy(out[0], s, a);
    out[0][a] = '\0';
    snprintf(out[1], 40, "%s", us + 1);
    kdate_t d;
    return !date || kdate_parse(out[0], &d);
}

/* Replies with the first n ≤ limit rows of r as items (row() each) and,
 * when r has one more, the cursor of the last ("<col a>_<col b>");
 * records the read of each person listed, the IIN in column iin (p.17). */
static void reply_page(http_resp_t *resp, const principal_t *who,
                       const http_req_t *req, PGresult *r, int limit,
                       json_t *(*row)(const PGresult *, int),
                       const int cursor[2], int iin, const char *purpose,
                       const char *resource)
{
    int n = PQntuples(r) > limit ? limit : PQntuples(r);
    json_t *rows = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(rows, row(r, i));
    json_t *next = json_null();
    if (PQntuples(r) > limit) {
        char s[80];
        snprintf(s, sizeof(s), "%s_%s", PQgetvalue(r, n - 1, cursor[0]),
                 PQgetvalue(r, n - 1, cursor[1]));
        next = json_string(s);
    }
    http_reply_json(resp, 200, json_pack("{s:o, s:o}", "items", rows,
                                         "next_cursor", next));
    audit_reply_rows(resp, who->text, http_purpose(req, purpose), resource,
                     r, n, iin);
}

enum { AL_ID, AL_RECEIPT, AL_AT_US, AL_AUTHORITY, AL_SETTLEMENT,
       AL_CATEGORY, AL_CHANNEL, AL_STATUS, AL_IIN, AL_SURNAME, AL_GIVEN,
       AL_PATRONYMIC, AL_QUEUE, AL_RESULT_DUE };

/* The scope of who's list and the filters of the request, as
 * conditions of q; false after replying 400/403. */
static bool application_filters(struct query *q, const principal_t *who,
                                const http_req_t *req, http_resp_t *resp,
                                char **nfc_out)
{
    const char *authority = http_query(req, "authority_id");
    const char *status = http_query(req, "status");
    const char *category = http_query(req, "category");
    const char *from = http_query(req, "accepted_from");
    const char *to = http_query(req, "accepted_to");
    const char *s = http_query(req, "q");
    static const char *const statuses[] = {"accepted", "review",
                                           "registered", "refused",
                                           "withdrawn", "removed", NULL};
    bool status_ok = !status || queue_in_set(status, statuses);
    kdate_t d;
    char *nfc = NULL;
    if (s && *s && !text_problem(s, strlen(s), 100, false)) {
        /* a surname as the names are stored (accept.c): its NFC form */
        if (text_name(s, strlen(s), 100, &nfc))
            nfc = strdup(s); /* not a whole name: still a prefix of one */
    }
    *nfc_out = nfc;
    if (who->kind == PRINCIPAL_OFFICE && authority &&
        strcmp(authority, who->id) != 0) {
        http_reply_error(resp, 403, "forbidden", "an office lists only its "
                         "own authority's applications", NULL);
    } else if (who->kind != PRINCIPAL_OFFICE &&
               who->kind != PRINCIPAL_CENTRE && who->kind != PRINCIPAL_OPS) {
        http_reply_error(resp, 403, "forbidden", "applications are listed "
                         "for an office, a centre and operators", NULL);
    } else if (authority && strlen(authority) > 63) {
        bad_field(resp, "authority_id", "authority_id: an authority's id");
    } else if (!status_ok) {
        bad_field(resp, "status", "status: accepted, review, registered, "
                  "refused, withdrawn or removed");
    } else if (category && !queue_list_known(category)) {
        bad_field(resp, "category", "category: wwii, vulnerable, "
                  "public_sector or emergency_dwelling");
    } else if (from && !kdate_parse(from, &d)) {
        bad_field(resp, "accepted_from", "accepted_from: YYYY-MM-DD");
    } else if (to && !kdate_parse(to, &d)) {
        bad_field(resp, "accepted_to", "accepted_to: YYYY-MM-DD");
    } else if (s && (!*s || text_problem(s, strlen(s), 100, false) ||
                     !nfc)) {
        bad_field(resp, "q", "q: an IIN (12 digits) or the beginning of a "
                  "surname, up to 100 bytes");
    } else if (s && strspn(s, "0123456789") == strlen(s) &&
               (strlen(s) != 12 || !iin_valid(s, NULL))) {
        http_reply_error(resp, 400, "invalid_iin", "q: digits are searched "
                         "as an IIN, and this is not a valid one",
                         json_pack("{s:s}", "field", "q"));
    } else {
        if (who->kind == PRINCIPAL_OFFICE)
            where(q, "a.authority_id = $?", who->id, NULL);
        else if (who->kind == PRINCIPAL_CENTRE)
            where(q, "a.principal = $?", who->text, NULL);
        if (authority && who->kind != PRINCIPAL_OFFICE)
            where(q, "a.authority_id = $?", authority, NULL);
        if (status && strcmp(status, "accepted") == 0)
            where(q, "(s.status IS NULL OR s.status = $?)", status, NULL);
        else if (status) /* an inner join's estimate, not coalesce()'s */
            where(q, "s.status = $?", status, NULL);
        if (category)
            where(q, "a.category = $?", category, NULL);
        if (from)
            where(q, "a.accepted_at >= ($?::date::timestamp AT TIME ZONE "
                  "'Asia/Almaty')", from, NULL);
        if (to)
            where(q, "a.accepted_at < (($?::date + 1)::timestamp AT TIME "
                  "ZONE 'Asia/Almaty')", to, NULL);
        if (s && strspn(s, "0123456789") == strlen(s))
            where(q, "a.applicant_iin = $?", s, NULL);
        else if (s) /* a prefix: the range of keys that start with it,
                     * in the NFC the names are stored in */
            where(q, "a.surname_key >= name_key($?) AND a.surname_key < "
                  "name_key($?) || chr(1114111)", nfc, NULL);
        return true;
    }
    return false;
}

static json_t *application_row(const PGresult *r, int i)
{
    char at[26];
    almaty_timestamp(atoll(PQgetvalue(r, i, AL_AT_US)) / 1000000, at);
    json_t *queue = PQgetisnull(r, i, AL_QUEUE)
                        ? NULL
                        : json_loads(PQgetvalue(r, i, AL_QUEUE), 0, NULL);
    json_t *who = json_pack("{s:s, s:s, s:s, s:s}", "iin",
                            PQgetvalue(r, i, AL_IIN), "surname",
                            PQgetvalue(r, i, AL_SURNAME), "given_name",
                            PQgetvalue(r, i, AL_GIVEN), "patronymic",
                            PQgetvalue(r, i, AL_PATRONYMIC));
    if (PQgetisnull(r, i, AL_PATRONYMIC))
        json_object_set_new(who, "patronymic", json_null());
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, "
                     "s:o}", "application_id", PQgetvalue(r, i, AL_ID),
                     "receipt_number", PQgetvalue(r, i, AL_RECEIPT),
                     "accepted_at", at, "result_due",
                     PQgetvalue(r, i, AL_RESULT_DUE), "authority_id",
                     PQgetvalue(r, i, AL_AUTHORITY), "settlement_id",
                     PQgetvalue(r, i, AL_SETTLEMENT), "category",
                     PQgetvalue(r, i, AL_CATEGORY), "channel",
                     PQgetvalue(r, i, AL_CHANNEL), "status",
                     PQgetvalue(r, i, AL_STATUS), "applicant", who, "queue",
                     queue ? queue : json_null());
}

/* GET /v1/applications?authority_id=&status=&category=&accepted_from=
 * &accepted_to=&q=&limit=&cursor= — newest first. */
void lists_applications(PGconn *c, const principal_t *who,
                        const http_req_t *req, http_resp_t *resp)
{
    struct query q = {0};
    char cur[2][40], lim[12];
    const char *cursor = http_query(req, "cursor");
    int limit = http_limit(req, resp, PAGE_DEFAULT, PAGE_MAX);
    if (!limit)
        return;
    if (cursor && !cursor_split(cursor, cur, false)) {
        bad_field(resp, "cursor", "cursor: as returned in next_cursor");
        return;
    }
    q.f = open_memstream(&q.sql, &q.len);
    if (!q.f) {
        http_reply_error(resp, 503, "unavailable", "out of memory", NULL);
        return;
    }
    fputs("SELECT a.id, a.receipt_number, (extract(epoch FROM"
          " a.accepted_at) * 1000000)::bigint, a.authority_id,"
          " a.settlement_id, a.category, a.channel, coalesce(s.status,"
          " 'accepted'), a.applicant_iin, a.body #>> '{applicant,surname}',"
          " a.body #>> '{applicant,given_name}',"
          " a.body #>> '{applicant,patronymic}', s.queue, a.result_due"
          " FROM application a LEFT JOIN application_status s"
          " ON s.application_id = a.id WHERE true", q.f);
    char *nfc = NULL;
    bool ok = application_filters(&q, who, req, resp, &nfc);
    if (ok && cursor) {
        where(&q, "(a.accepted_at, a.id) < ('epoch'::timestamptz + "
              "$?::bigint * interval '1 microsecond', $!)", cur[0], cur[1]);
    }
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    if (ok) {
        q.vals[q.n++] = lim;
        fprintf(q.f, " ORDER BY a.accepted_at DESC, a.id DESC LIMIT $%d",
                q.n);
    }
    PGresult *r = NULL;
    if (fclose(q.f) == 0 && ok)
        r = run(c, &q);
    free(q.sql);
    free(nfc);
    if (!ok)
        return;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    reply_page(resp, who, req, r, limit, application_row,
               (const int[2]){AL_AT_US, AL_ID}, AL_IIN, "application_list",
               "applications");
    PQclear(r);
}

enum { CL_ID, CL_NUMBER, CL_STATE, CL_AT, CL_DUE, CL_OVERDUE, CL_AUTHORITY,
       CL_APPLICATION, CL_EMPLOYEE, CL_TEXT, CL_ROUTED_KIND, CL_ROUTED_ID,
       CL_IIN, CL_ANSWER };

static json_t *nullable(const PGresult *r, int i, int col)
{
    return PQgetisnull(r, i, col) ? json_null()
                                  : json_string(PQgetvalue(r, i, col));
}

static json_t *complaint_row(const PGresult *r, int i)
{
    char at[26];
    almaty_timestamp(atoll(PQgetvalue(r, i, CL_AT)), at);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:s, s:{s:s, s:s}, "
        "s:s, s:o}", "complaint_id", PQgetvalue(r, i, CL_ID), "number",
        PQgetvalue(r, i, CL_NUMBER), "state", PQgetvalue(r, i, CL_STATE),
        "accepted_at", at, "answer_due", PQgetvalue(r, i, CL_DUE),
        "overdue", PQgetvalue(r, i, CL_OVERDUE)[0] == 't', "authority_id",
        PQgetvalue(r, i, CL_AUTHORITY), "application_id",
        nullable(r, i, CL_APPLICATION), "about_employee",
        nullable(r, i, CL_EMPLOYEE), "text", PQgetvalue(r, i, CL_TEXT),
        "routed", "kind", PQgetvalue(r, i, CL_ROUTED_KIND), "id",
        PQgetvalue(r, i, CL_ROUTED_ID), "complainant_iin",
        PQgetvalue(r, i, CL_IIN), "answer_text", nullable(r, i, CL_ANSWER));
}

/* GET /v1/complaints?state=&limit=&cursor= — an inbox, soonest answer
 * due first (p.21): an appeal instance's (routed to it), a centre's
 * head's (about its service), an authority's head's (about its
 * employees, p.20), an office's (about its authority), every one for
 * operators. */
void lists_complaints(PGconn *c, const principal_t *who,
                      const http_req_t *req, http_resp_t *resp)
{
    struct query q = {0};
    char cur[2][40], lim[12];
    const char *cursor = http_query(req, "cursor");
    const char *state = http_query(req, "state");
    int limit = http_limit(req, resp, PAGE_DEFAULT, PAGE_MAX);
    if (!limit)
        return;
    if (who->kind != PRINCIPAL_APPEAL && who->kind != PRINCIPAL_CENTRE &&
        who->kind != PRINCIPAL_HEAD && who->kind != PRINCIPAL_OFFICE &&
        who->kind != PRINCIPAL_OPS) {
        http_reply_error(resp, 403, "forbidden", "an inbox of complaints "
                         "is kept by an appeal instance, a centre, the head "
                         "of an authority, an office and operators", NULL);
        return;
    }
    if (state && strcmp(state, "received") && strcmp(state, "in_review") &&
        strcmp(state, "answered")) {
        bad_field(resp, "state", "state: received, in_review or answered");
        return;
    }
    if (cursor && !cursor_split(cursor, cur, true)) {
        bad_field(resp, "cursor", "cursor: as returned in next_cursor");
        return;
    }
    q.f = open_memstream(&q.sql, &q.len);
    if (!q.f) {
        http_reply_error(resp, 503, "unavailable", "out of memory", NULL);
        return;
    }
    fputs("SELECT id, number, state, extract(epoch FROM accepted_at)"
          "::bigint, answer_due, state <> 'answered' AND answer_due <"
          " (now() AT TIME ZONE 'Asia/Almaty')::date, authority_id,"
          " application_id, about_employee, text, routed_kind, routed_id,"
          " complainant_iin, answer_text FROM complaint WHERE true", q.f);
    if (who->kind == PRINCIPAL_APPEAL)
        where(&q, "routed_kind = 'appeal_instance' AND routed_id = $?", who->id, NULL);
    else if (who->kind == PRINCIPAL_CENTRE)
        where(&q, "routed_kind = 'centre' AND routed_id = $?", who->id, NULL);
    else if (who->kind == PRINCIPAL_HEAD) /* p.20: about its employees */
        where(&q, "routed_kind = 'head' AND routed_id = $?", who->id, NULL);
    else if (who->kind == PRINCIPAL_OFFICE)
        where(&q, "authority_id = $?", who->id, NULL);
    if (state)
        where(&q, "state = $?", state, NULL);
    if (cursor) {
        where(&q, "(answer_due, id) > ($?::date, $!)", cur[0], cur[1]);
    }
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    q.vals[q.n++] = lim;
    fprintf(q.f, " ORDER BY answer_due, id LIMIT $%d", q.n);
    PGresult *r = fclose(q.f) == 0 ? run(c, &q) : NULL;
    free(q.sql);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    reply_page(resp, who, req, r, limit, complaint_row,
               (const int[2]){CL_DUE, CL_ID}, CL_IIN, "complaint_inbox",
               "complaints");
    PQclear(r);
}

void lists_pipeline(PGconn *c, const principal_t *who,
                    const http_req_t *req, http_resp_t *resp)
{
    (void)req;
    bool ops = who->kind == PRINCIPAL_OPS;
    if (!ops && who->kind != PRINCIPAL_SUPERVISOR) {
        http_reply_error(resp, 403, "forbidden", "the pipeline is for "
                         "operators, a region's lists for its supervisor",
                         NULL);
        return;
    }
    const char *p[1] = {ops ? NULL : who->id};
    PGresult *con = ops ? pg_run(c, "pipeline_consumers", 0, NULL) : NULL;
    PGresult *lst = !ops || con ? pg_run(c, "pipeline_lists", 1, p) : NULL;
    if (!lst) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else {
        json_t *consumers = json_array(), *lists = json_array();
        for (int i = 0; con && i < PQntuples(con); i++) {
            char at[26];
            almaty_timestamp(atoll(PQgetvalue(con, i, PIPE_UPDATED)), at);
            json_array_append_new(consumers, json_pack(
                "{s:s, s:I, s:I, s:s, s:I}", "consumer",
                PQgetvalue(con, i, PIPE_CONSUMER), "offset",
                (json_int_t)atoll(PQgetvalue(con, i, PIPE_OFFSET)), "lag",
                (json_int_t)atoll(PQgetvalue(con, i, PIPE_LAG)),
                "updated_at", at, "dead_letters",
                (json_int_t)atoll(PQgetvalue(con, i, PIPE_DEAD))));
        }
        for (int i = 0; i < PQntuples(lst); i++)
            json_array_append_new(lists, json_pack(
                "{s:s, s:s, s:I, s:I}", "authority_id",
                PQgetvalue(lst, i, PLIST_AUTHORITY), "list",
                PQgetvalue(lst, i, PLIST_LIST), "active",
                (json_int_t)atoll(PQgetvalue(lst, i, PLIST_ACTIVE)),
                "last_number",
                (json_int_t)atoll(PQgetvalue(lst, i, PLIST_LAST))));
        if (!ops) { /* the pipeline is the operators' */
            json_decref(consumers);
            consumers = json_null();
        }
        http_reply_json(resp, 200, json_pack("{s:o, s:o}", "consumers",
                                             consumers, "lists", lists));
    }
    PQclear(con);
    PQclear(lst);
}
