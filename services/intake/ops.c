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

/* The counts behind the shares, for the applications accepted in a
 * period ($1, $2) of an authority ($3) or region ($4), or (GROUPS) for
 * every authority, every region and the country at once (GROUPING SETS:
 * the region and authority columns null where rolled up): 1.1 served
 * within the term; 3.2 information available electronically (portal
 * submissions or status looked up online); 2.1, 3.1, 4.1, 5.1 answers
 * of 4 or 5. */
#define INDICATOR_SQL(FILTER, GROUPS)                                    \
    "WITH a AS (SELECT a.*, au.region_id, d.delivered_at"                \
    " FROM application a JOIN authority au ON au.id = a.authority_id"     \
    " LEFT JOIN LATERAL (SELECT delivered_at FROM result_delivery d"     \
    " WHERE d.application_id = a.id) d ON true"                          \
    " WHERE (a.accepted_at AT TIME ZONE 'UTC'"                           \
    " + interval '5 hours')::date BETWEEN $1::date AND $2::date" FILTER  \
    ")," /* looked up on the portal (p.17 audit), read once for all: a   \
          * lookup comes after its application's acceptance, so not     \
          * before the period (a day's margin for the time zone) */     \
    " o AS (SELECT DISTINCT substr(r.resource, 13) AS id FROM audit_read r" \
    " WHERE r.principal = 'portal' AND r.resource LIKE 'application/%'" \
    " AND r.at >= $1::date - 1)"                                         \
    " SELECT a.region_id, a.authority_id,"                               \
    " count(*) FILTER (WHERE delivered_at IS NOT NULL AND"               \
    " (delivered_at AT TIME ZONE 'UTC' + interval '5 hours')::date"      \
    " <= internal_due), count(*) FILTER (WHERE delivered_at IS"          \
    " NOT NULL OR internal_due < (now() AT TIME ZONE 'UTC'"              \
    " + interval '5 hours')::date),"                                     \
    " count(*) FILTER (WHERE channel = 'portal' OR a.id IN"              \
    " (SELECT id FROM o)), count(*),"                                    \
    " count(f.r21) FILTER (WHERE f.r21 >= 4), count(f.r21),"             \
    " count(f.r31) FILTER (WHERE f.r31 >= 4), count(f.r31),"             \
    " count(f.r41) FILTER (WHERE f.r41 >= 4), count(f.r41),"             \
    " count(f.r51) FILTER (WHERE f.r51 >= 4), count(f.r51)"              \
    " FROM a LEFT JOIN feedback f ON f.application_id = a.id " GROUPS
#define SCOPE_FILTER                                                     \
    " AND ($3::text IS NULL OR a.authority_id = $3)"                     \
    " AND ($4::text IS NULL OR au.region_id = $4)"
/* its columns: the scope, then a numerator and a denominator per share
 * (in the order of names), then the number of applications after 3.2's */
enum { IND_REGION, IND_AUTHORITY, IND_COUNTS };
enum { IND_SHARES = 6 };
static const char *const names[IND_SHARES] = {"1.1", "3.2", "2.1", "3.1",
                                              "4.1", "5.1"};
/* each share's columns (numerator, denominator) */
static const int share_cols[IND_SHARES][2] = {{2, 3}, {4, 5}, {6, 7},
                                              {8, 9}, {10, 11}, {12, 13}};

/* The share i of row (percent), or null when nothing to count. */
static json_t *share(const PGresult *r, int row, int i)
{
    double num = atof(PQgetvalue(r, row, share_cols[i][0]));
    double den = atof(PQgetvalue(r, row, share_cols[i][1]));
    return den > 0 ? json_real(100.0 * num / den) : json_null();
}

/* The operator's values of the year (migrations/024) as {indicator:
 * {normative, target}}; NULL on a database error. */
static json_t *settings(PGconn *c, const char *year)
{
    const char *p[1] = {year};
    PGresult *r = PQexecParams(c, "SELECT indicator, normative::float8,"
                               " target::float8, source FROM"
                               " indicator_setting WHERE year = $1::int",
                               1, NULL, p, NULL, NULL, 0);
    if (!pg_check(r)) {
        PQclear(r);
        return NULL;
    }
    json_t *out = json_object();
    for (int i = 0; i < PQntuples(r); i++)
        json_object_set_new(out, PQgetvalue(r, i, 0), json_pack(
            "{s:o, s:o, s:s}", "normative", PQgetisnull(r, i, 1)
                ? json_null() : json_real(atof(PQgetvalue(r, i, 1))),
            "target", PQgetisnull(r, i, 2)
                ? json_null() : json_real(atof(PQgetvalue(r, i, 2))),
            "source", PQgetvalue(r, i, 3)));
    PQclear(r);
    return out;
}

/* Computes the indicators for a scope; NULL on a database error. */
static json_t *indicators(PGconn *c, const char *from, const char *to,
                          const char *authority, const char *region)
{
    const char *p[4] = {from, to, authority, region};
    /* the scope's counts: the grouping yields none without
     * applications, the row of zeros after it one */
    PGresult *r = PQexecParams(c, "SELECT * FROM (" INDICATOR_SQL(
                                   SCOPE_FILTER, "GROUP BY a.region_id,"
                                   " a.authority_id") ") x", 4, NULL, p,
                               NULL, NULL, 0);
    char year[5] = {from[0], from[1], from[2], from[3], 0};
    json_t *set = pg_check(r) ? settings(c, year) : NULL;
    if (!set) {
        PQclear(r);
        return NULL;
    }
    /* the scope is one authority, a region or the country: its rows
     * (one per authority) summed */
    double sums[14] = {0};
    for (int i = 0; i < PQntuples(r); i++)
        for (int k = IND_COUNTS; k < 14; k++)
            sums[k] += atof(PQgetvalue(r, i, k));
    json_t *out = json_object();
    for (int i = 0; i < IND_SHARES; i++) {
        json_t *t = json_object_get(set, names[i]);
        double num = sums[share_cols[i][0]], den = sums[share_cols[i][1]];
        json_object_set_new(out, names[i], json_pack(
            "{s:o, s:O, s:O}", "value",
            den > 0 ? json_real(100.0 * num / den) : json_null(),
            "normative", json_object_get(t, "normative") ?: json_null(),
            "target", json_object_get(t, "target") ?: json_null()));
    }
    json_object_set_new(out, "applications",
                        json_integer((json_int_t)sums[5]));
    json_decref(set);
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

/* One scope's gauges: each share of row r (-1 when nothing to count:
 * the series stays, its value says "no data"). */
static void scope_gauges(const PGresult *r, int row, const char *scope,
                         const char *region, const char *authority)
{
    for (int i = 0; i < IND_SHARES; i++) {
        char l[160], rv[40], av[40];
        int n = snprintf(l, sizeof(l), "indicator=\"%s\",scope=\"%s\"",
                         names[i], scope);
        if (region)
            n += snprintf(l + n, sizeof(l) - (size_t)n, ",region=\"%s\"",
                          metrics_label_escape(rv, sizeof(rv), region));
        if (authority)
            snprintf(l + n, sizeof(l) - (size_t)n, ",authority=\"%s\"",
                     metrics_label_escape(av, sizeof(av), authority));
        json_t *v = r ? share(r, row, i) : json_null();
        metric_set(metrics_gauge("kezek_quality_indicator_percent",
                                 "Appendix 4 indicators, year to date", l),
                   json_is_real(v) ? json_real_value(v) : -1);
        json_decref(v);
    }
}

/* Every minute: the indicators of the year to date for the country,
 * each region and each authority — one statement (GROUPING SETS); a
 * bounded set of series: the 16 regions and 190 authorities of the
 * reference data, each present from the start (-1 until it has data);
 * and the year's normative and target values. */
void ops_gauges(PGconn *c)
{
    kdate_t today = almaty_date(now_us() / 1000000);
    char from[11], to[11];
    kdate_format((kdate_t){today.year, 1, 1}, from);
    kdate_format(today, to);
    const char *p[2] = {from, to};
    PGresult *r = PQexecParams(c, INDICATOR_SQL("", "GROUP BY GROUPING SETS"
                               " ((a.region_id, a.authority_id),"
                               " (a.region_id), ())"), 2, NULL, p, NULL,
                               NULL, 0);
    PGresult *scopes = pg_check(r)
        ? PQexec(c, "SELECT region_id, id FROM authority UNION ALL"
                    " SELECT id, NULL FROM region ORDER BY 1, 2 NULLS FIRST")
        : NULL;
    if (!pg_check(scopes)) {
        PQclear(r);
        PQclear(scopes);
        return;
    }
    bool national = false;
    for (int i = 0; i < PQntuples(r); i++)
        national = national || (PQgetisnull(r, i, IND_REGION) &&
                                PQgetisnull(r, i, IND_AUTHORITY));
    if (!national)
        scope_gauges(NULL, 0, "national", NULL, NULL);
    for (int i = 0; i < PQntuples(r); i++) {
        bool reg = !PQgetisnull(r, i, IND_REGION);
        bool auth = !PQgetisnull(r, i, IND_AUTHORITY);
        scope_gauges(r, i, auth ? "authority" : reg ? "region" : "national",
                     reg ? PQgetvalue(r, i, IND_REGION) : NULL,
                     auth ? PQgetvalue(r, i, IND_AUTHORITY) : NULL);
    }
    /* every region and authority of the reference data, 0 included */
    for (int k = 0; k < PQntuples(scopes); k++) {
        const char *reg = PQgetvalue(scopes, k, 0);
        const char *auth = PQgetisnull(scopes, k, 1)
                               ? NULL : PQgetvalue(scopes, k, 1);
        bool seen = false;
        for (int i = 0; !seen && i < PQntuples(r); i++)
            seen = !PQgetisnull(r, i, IND_REGION) &&
                   strcmp(PQgetvalue(r, i, IND_REGION), reg) == 0 &&
                   (auth ? !PQgetisnull(r, i, IND_AUTHORITY) &&
                               strcmp(PQgetvalue(r, i, IND_AUTHORITY),
                                      auth) == 0
                         : PQgetisnull(r, i, IND_AUTHORITY));
        if (!seen)
            scope_gauges(NULL, 0, auth ? "authority" : "region", reg, auth);
    }
    PQclear(r);
    PQclear(scopes);
    json_t *set = settings(c, (char[5]){from[0], from[1], from[2], from[3],
                                        0});
    for (int i = 0; set && i < IND_SHARES; i++) {
        char l[48];
        snprintf(l, sizeof(l), "indicator=\"%s\"", names[i]);
        json_t *t = json_object_get(set, names[i]);
        json_t *nv = json_object_get(t, "normative");
        json_t *tv = json_object_get(t, "target");
        metric_set(metrics_gauge("kezek_quality_indicator_normative_percent",
                                 "Appendix 4: the operator's normative value "
                                 "of the year (kezek indicators set)", l),
                   json_is_real(nv) ? json_real_value(nv) : -1);
        metric_set(metrics_gauge("kezek_quality_indicator_target_percent",
                                 "Appendix 4: the operator's target of the "
                                 "year (kezek indicators set)", l),
                   json_is_real(tv) ? json_real_value(tv) : -1);
    }
    json_decref(set);
}
