/* Appendix 4 quality indicators (p.18, p.19) and the citizens'
 * feedback they come from, plus the audit query for operators (p.17). */
#include "intake.h"

#include "audit.h"
#include "calendar.h"
#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shares in percent (NULL when nothing to count) for one scope and
 * period: 1.1 served within the term; 3.2 information available
 * electronically (portal submissions or status looked up online);
 * 2.1, 3.1, 4.1, 5.1 answers of 4 or 5. */
#define INDICATOR_SQL                                                    \
    "WITH a AS (SELECT a.*, d.delivered_at FROM application a"           \
    " JOIN authority au ON au.id = a.authority_id"                       \
    " LEFT JOIN LATERAL (SELECT delivered_at FROM result_delivery d"     \
    " WHERE d.application_id = a.id) d ON true"                          \
    " WHERE (a.accepted_at AT TIME ZONE 'UTC'"                           \
    " + interval '5 hours')::date BETWEEN $1::date AND $2::date"         \
    " AND ($3::text IS NULL OR a.authority_id = $3)"                     \
    " AND ($4::text IS NULL OR au.region_id = $4)),"                     \
    " f AS (SELECT f.* FROM feedback f JOIN a ON a.id = f.application_id)," \
    /* looked up on the portal (p.17 audit), read once for all: a lookup \
     * comes after its application's acceptance, so not before the \
     * period (a day's margin for the time zone) */                     \
    " o AS (SELECT DISTINCT substr(r.resource, 13) AS id FROM audit_read r" \
    " WHERE r.principal = 'portal' AND r.resource LIKE 'application/%'" \
    " AND r.at >= $1::date - 1)"                                         \
    " SELECT"                                                            \
    " 100.0 * count(*) FILTER (WHERE delivered_at IS NOT NULL AND"       \
    " (delivered_at AT TIME ZONE 'UTC' + interval '5 hours')::date"      \
    " <= internal_due) / nullif(count(*) FILTER (WHERE delivered_at IS"  \
    " NOT NULL OR internal_due < (now() AT TIME ZONE 'UTC'"              \
    " + interval '5 hours')::date), 0),"                                 \
    " 100.0 * count(*) FILTER (WHERE channel = 'portal' OR a.id IN"      \
    " (SELECT id FROM o)) / nullif(count(*), 0),"                        \
    " (SELECT 100.0 * count(*) FILTER (WHERE r21 >= 4)"                  \
    "  / nullif(count(*), 0) FROM f),"                                   \
    " (SELECT 100.0 * count(*) FILTER (WHERE r31 >= 4)"                  \
    "  / nullif(count(*), 0) FROM f),"                                   \
    " (SELECT 100.0 * count(*) FILTER (WHERE r41 >= 4)"                  \
    "  / nullif(count(r41), 0) FROM f),"                                 \
    " (SELECT 100.0 * count(*) FILTER (WHERE r51 >= 4)"                  \
    "  / nullif(count(*), 0) FROM f),"                                   \
    " count(*) FROM a"

/* INDICATOR_SQL's columns: the six shares in the order of names, then
 * the number of applications. */
enum { IND_SHARES = 6, IND_APPLICATIONS = IND_SHARES };
static const char *const names[IND_SHARES] = {"1.1", "3.2", "2.1", "3.1", "4.1",
                                     "5.1"};
static json_t *targets;

void ops_init(const char *indicators_file)
{
    json_error_t e;
    targets = json_load_file(indicators_file, 0, &e);
    if (!json_is_object(json_object_get(targets, "years")))
        log_warn("ops.indicators", "no normative values (%s): %s",
                 indicators_file, e.text);
}

/* Computes the indicators for a scope; NULL on a database error. */
static json_t *indicators(PGconn *c, const char *from, const char *to,
                          const char *authority, const char *region)
{
    const char *p[4] = {from, to, authority, region};
    PGresult *r = PQexecParams(c, INDICATOR_SQL, 4, NULL, p, NULL, NULL, 0);
    if (!pg_check(r)) {
        PQclear(r);
        return NULL;
    }
    json_t *year = json_object_get(json_object_get(targets, "years"),
                                   (char[5]){from[0], from[1], from[2],
                                             from[3], 0});
    json_t *out = json_object();
    for (int i = 0; i < IND_SHARES; i++) {
        json_t *t = json_object_get(year, names[i]);
        json_t *v = PQgetisnull(r, 0, i)
                        ? json_null()
                        : json_real(atof(PQgetvalue(r, 0, i)));
        json_object_set_new(out, names[i], json_pack(
            "{s:o, s:O, s:O}", "value", v, "normative",
            json_object_get(t, "normative") ?: json_null(), "target",
            json_object_get(t, "target") ?: json_null()));
    }
    json_object_set_new(out, "applications",
                        json_integer(atoll(PQgetvalue(r, 0, IND_APPLICATIONS))));
    PQclear(r);
    return out;
}

/* GET /v1/ops/indicators?from=&to=[&authority_id=|&region_id=] */
void ops_get_indicators(PGconn *c, const principal_t *who,
                        const http_req_t *req, http_resp_t *resp)
{
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    const char *authority = http_query(req, "authority_id");
    const char *region = http_query(req, "region_id");
    kdate_t d;
    char in_region[64] = "";
    if (who->kind == PRINCIPAL_SUPERVISOR && !region)
        region = who->id; /* a region's supervisor: its region */
    if (who->kind == PRINCIPAL_SUPERVISOR && authority &&
        auth_authority_region(c, authority, in_region) < 0) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (!(who->kind == PRINCIPAL_OPS ||
                 (who->kind == PRINCIPAL_SUPERVISOR &&
                  strcmp(region, who->id) == 0 &&
                  (!authority || strcmp(in_region, who->id) == 0)))) {
        http_reply_error(resp, 403, "forbidden", "indicators are for "
                         "operators, and a region's for its supervisor",
                         NULL);
    } else if (!from || !to || !kdate_parse(from, &d) ||
               !kdate_parse(to, &d)) {
        http_reply_error(resp, 400, "invalid_field",
                         "from and to: YYYY-MM-DD", NULL);
    } else {
        json_t *v = indicators(c, from, to, authority, region);
        if (!v) {
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
            return;
        }
        http_reply_json(resp, 200, json_pack(
            "{s:s, s:s?, s:s?, s:s, s:s, s:o}", "scope",
            authority ? "authority" : region ? "region" : "national",
            "authority_id", authority, "region_id", region, "from", from,
            "to", to, "indicators", v));
    }
}

/* POST /v1/applications/{id}/feedback — ratings 1–5, once. */
void ops_post_feedback(PGconn *c, const principal_t *who,
                       const http_req_t *req, http_resp_t *resp)
{
    json_t *body = http_json_body(req, resp);
    if (!body)
        return;
    static const char *const keys[4] = {"2.1", "3.1", "4.1", "5.1"};
    char vals[4][4];
    const char *p[6];
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(json_object_get(body, "ratings"),
                                    keys[i]);
        bool optional = i == 2; /* 4.1: only who complained */
        if (!v && optional) {
            p[2 + i] = NULL;
            continue;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > 5)
            ok = false;
        snprintf(vals[i], sizeof(vals[i]), "%d",
                 (int)json_integer_value(v));
        p[2 + i] = vals[i];
    }
    const char *ap[1] = {req->params[0]};
    PGresult *r = ok ? pg_run(c, "app_get", 1, ap) : NULL;
    const char *citizen = http_header(req, "X-Citizen-IIN");
    if (!ok) {
        http_reply_error(resp, 400, "invalid_field",
                         "ratings: 2.1, 3.1, 5.1 (and 4.1 when a complaint "
                         "was made), integers 1–5", NULL);
    } else if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (PQntuples(r) == 0) {
        http_reply_error(resp, 404, "not_found", "no such application",
                         NULL);
    } else if (!((who->kind == PRINCIPAL_PORTAL && citizen &&
                  strcmp(citizen, PQgetvalue(r, 0, APP_IIN)) == 0) ||
                 (who->kind == PRINCIPAL_OFFICE &&
                  strcmp(who->id, PQgetvalue(r, 0, APP_AUTHORITY)) == 0) ||
                 (who->kind == PRINCIPAL_CENTRE &&
                  strcmp(who->text, PQgetvalue(r, 0, APP_PRINCIPAL)) == 0))) {
        http_reply_error(resp, 403, "forbidden",
                         "feedback comes from the applicant", NULL);
    } else {
        p[0] = req->params[0];
        p[1] = PQgetvalue(r, 0, APP_AUTHORITY);
        PGresult *w = pg_run(c, "feedback_put", 6, p);
        if (!w)
            http_reply_error(resp, 503, "unavailable",
                             "database unavailable", NULL);
        else if (strcmp(PQcmdTuples(w), "1") != 0)
            http_reply_error(resp, 409, "feedback_given",
                             "feedback is given once per application",
                             NULL);
        else
            http_reply_json(resp, 201, json_pack("{s:s, s:s}",
                            "application_id", req->params[0], "status",
                            "recorded"));
        PQclear(w);
    }
    PQclear(r);
    json_decref(body);
}

/* GET /v1/ops/audit?iin=…|&from=&to= — who read a person's data. */
void ops_get_audit(PGconn *c, const principal_t *who, const http_req_t *req,
                   http_resp_t *resp)
{
    const char *iin = http_query(req, "iin");
    if (who->kind != PRINCIPAL_OPS) {
        http_reply_error(resp, 403, "forbidden", "the audit is for "
                         "operators", NULL);
        return;
    }
    if (!iin || strlen(iin) != 12) {
        http_reply_error(resp, 400, "invalid_field", "iin is required",
                         NULL);
        return;
    }
    const char *p[1] = {iin};
    PGresult *r = pg_run(c, "audit_by_iin", 1, p);
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return;
    }
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        char at[26];
        almaty_timestamp(atoll(PQgetvalue(r, i, AUDIT_AT)), at);
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s}", "at",
                              at, "principal",
                              PQgetvalue(r, i, AUDIT_PRINCIPAL), "purpose",
                              PQgetvalue(r, i, AUDIT_PURPOSE), "resource",
                              PQgetvalue(r, i, AUDIT_RESOURCE)));
    }
    PQclear(r);
    http_reply_json(resp, 200, json_pack("{s:s, s:o}", "iin", iin, "reads",
                                         rows));
    audit_reply(resp, who->text, http_purpose(req, "audit"), "audit", iin);
}

/* Every minute: the national and regional indicators of the year. */
void ops_gauges(PGconn *c)
{
    kdate_t today = almaty_date(now_us() / 1000000);
    char from[11], to[11];
    kdate_format((kdate_t){today.year, 1, 1}, from);
    kdate_format(today, to);
    json_t *v = indicators(c, from, to, NULL, NULL);
    for (int i = 0; v && i < IND_SHARES; i++) {
        json_t *x = json_object_get(json_object_get(v, names[i]), "value");
        char l[64];
        snprintf(l, sizeof(l), "indicator=\"%s\",scope=\"national\"",
                 names[i]);
        metric_set(metrics_gauge("kezek_quality_indicator_percent",
                   "Appendix 4 indicators, year to date", l),
                   json_is_real(x) ? json_real_value(x) : -1);
    }
    json_decref(v);
}
