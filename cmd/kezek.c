/* kezek — the operator's command-line tool (CONTRACT "Operating a
 * deployment"). Reads the same config as the services (--config FILE or
 * KEZEK_CONFIG, KEZEK_* overrides). */
#include "auth.h"
#include "bus.h"
#include "calendar.h"
#include "iin.h"
#include "config.h"
#include "elig.h"
#include "log.h"
#include "notice.h"
#include "pg.h"
#include "queue_life.h"
#include "queue_view.h"
#include "redis.h"
#include "registry_line.h"
#include "verify_log.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static config_t *cfg;

static void usage(void)
{
    fputs(
        "usage: kezek [--config FILE] COMMAND [ARGS]\n\n"
        "  migrate                          apply schema migrations\n"
        "  tokens add PRINCIPAL [--employee NAME] [--expires DATE]\n"
        "                                   new token for office:<id>,\n"
        "                                   centre:<id>, portal or ops;\n"
        "                                   valid through DATE (Asia/Almaty)\n"
        "  tokens revoke TOKEN_ID           revoke a token (every service\n"
        "                                   refuses it within a second)\n"
        "  import-reference [DIR]           load reference/*.jsonl\n"
        "  registry import FILE             load registry JSON lines\n"
        "                                   (all or nothing)\n"
        "  subsistence-minimum set YEAR TENGE [SOURCE]\n"
        "  subsistence-minimum import FILE | list\n"
        "  decisions replay [--from DATE] [--to DATE]\n"
        "                                   re-evaluate stored decisions,\n"
        "                                   report differences only\n"
        "  rebuild-positions [--authority ID] [--verify]\n"
        "                                   rebuild (or check) the Redis\n"
        "                                   queue view from Postgres\n"
        "  indicators set YEAR IND [--normative N] [--target T] --source S\n"
        "  indicators import FILE [--missing-only] | list [YEAR]\n"
        "                                   appendix 4: the operator's\n"
        "                                   normative and target values\n"
        "  queue remove AUTHORITY LIST IIN --reason R --date D\n"
        "                                   take an entry off its list\n"
        "  queue reverify [--authority ID] [--list L] [--as-of DATE]\n"
        "                                   re-run the rules for everyone\n"
        "                                   in the queue; who no longer\n"
        "                                   qualifies goes to the work\n"
        "                                   list (exit 3), never removed\n"
        "  keys generate FILE [--authority ID]\n"
        "                                   new Ed25519 signing key\n"
        "  keys generate-authorities DIR    a key per authority\n"
        "  keys generate-bus DIR NAME...    a CURVE key pair per service\n"
        "                                   (NAME.key 0600, NAME.pub)\n"
        "  email resend NOTICE_ID           requeue an in-doubt/failed\n"
        "                                   e-mail (same Message-ID)\n"
        "  sms resend NOTICE_ID             … SMS (check first that it\n"
        "                                   did not arrive)\n"
        "  portal resend NOTICE_ID          … portal callback (same\n"
        "                                   delivery id)\n"
        "  verify-log --url BASE [--authority ID]... [--notice FILE]\n"
        "             [--token T] [--state FILE] [--keys-url BASE]\n"
        "                                   monitor the queue's transparency\n"
        "                                   logs: heads, leaves, roots,\n"
        "                                   positions; a citizen's notice\n"
        "  verify-document FILE             check a saved cabinet message\n"
        "                                   or a printed document (PDF,\n"
        "                                   PNG, or its QR payload)\n",
        stderr);
}

/* The role the command connects as, unless "pg" names one: the owner
 * of the schema for migrations and writes, kezek_report for what only
 * reads (issue 21: least privilege). */
static const char *db_role = "kezek_owner";

static PGconn *db(void)
{
    char err[512];
    char *ci = pg_conninfo_user(config_str(cfg, "pg", "dbname=kezek"),
                                db_role, err, sizeof(err));
    PGconn *c = ci ? pg_connect_plain(ci, err, sizeof(err)) : NULL;
    free(ci);
    if (!c)
        fprintf(stderr, "kezek: %s\n", err);
    return c;
}

static int cmd_migrate(void)
{
    PGconn *c = db();
    char err[512];
    if (!c)
        return 1;
    bool ok = pg_migrate(c, err, sizeof(err));
    if (!ok)
        fprintf(stderr, "kezek: %s\n", err);
    PQfinish(c);
    return ok ? 0 : 1;
}

static int cmd_tokens(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    PGconn *c = NULL;
    if (strcmp(argv[0], "add") == 0) {
        principal_t p;
        if (!principal_parse(argv[1], &p)) {
            fprintf(stderr, "kezek: principal must be office:<id>, "
                            "centre:<id>, portal or ops\n");
            return 2;
        }
        const char *employee = NULL, *expires = NULL;
        for (int i = 2; i < argc; i += 2) {
            if (i + 1 < argc && strcmp(argv[i], "--employee") == 0) {
                employee = argv[i + 1];
            } else if (i + 1 < argc && strcmp(argv[i], "--expires") == 0) {
                expires = argv[i + 1];
            } else {
                usage();
                return 2;
            }
        }
        if (employee && (strlen(employee) == 0 || strlen(employee) > 120)) {
            fprintf(stderr, "kezek: --employee NAME, 1–120 bytes\n");
            return 2;
        }
        kdate_t until;
        if (expires && !kdate_parse(expires, &until)) {
            fprintf(stderr, "kezek: --expires YYYY-MM-DD (the last day the "
                            "token works, Asia/Almaty)\n");
            return 2;
        }
        char token[96], id[17], hash[65];
        auth_new_token(token, id, hash);
        if (!(c = db()))
            return 1;
        const char *params[5] = {id, p.text, hash, employee, expires};
        /* valid through the whole of that day in Almaty */
        PGresult *r = PQexecParams(c,
            "INSERT INTO api_token (id, principal, token_hash, employee,"
            " expires_at) VALUES ($1, $2, $3, $4,"
            " ($5::date + 1)::timestamp AT TIME ZONE 'Asia/Almaty')",
            5, NULL, params, NULL, NULL, 0);
        bool ok = pg_check(r);
        if (!ok)
            fprintf(stderr, "kezek: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        if (!ok)
            return 1;
        printf("token id %s for %s%s%s (shown once; only its hash is "
               "kept)\n%s\n", id, p.text, expires ? ", valid through " : "",
               expires ? expires : "", token);
        return 0;
    }
    if (strcmp(argv[0], "revoke") == 0) {
        if (!(c = db()))
            return 1;
        const char *params[1] = {argv[1]};
        PGresult *r = PQexecParams(c,
            "UPDATE api_token SET revoked_at = now() WHERE id = $1"
            " AND revoked_at IS NULL", 1, NULL, params, NULL, NULL, 0);
        bool ok = pg_check(r) && strcmp(PQcmdTuples(r), "1") == 0;
        PQclear(r);
        PQfinish(c);
        if (!ok) {
            fprintf(stderr, "kezek: no active token %s\n", argv[1]);
            return 1;
        }
        printf("revoked %s\n", argv[1]);
        return 0;
    }
    usage();
    return 2;
}

/* Loads one JSON-lines file; every line through insert. All or nothing:
 * the first bad line aborts the transaction and is reported. */
static int load_lines(PGconn *c, const char *path,
                      bool (*insert)(PGconn *, json_t *, char *, size_t),
                      long *count)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_t *j;
        char err[256] = "";
        int got = import_line(line, (size_t)n, &j, err, sizeof(err));
        if (got == 0)
            continue;
        if (got < 0 || !insert(c, j, err, sizeof(err))) {
            fprintf(stderr, "%s:%ld: %s\n", path, lineno,
                    err[0] ? err : "not a JSON object");
            json_decref(j);
            rc = 1;
            break;
        }
        json_decref(j);
        (*count)++;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Runs sql with n text parameters; err gets the server's message. */
static bool exec_params(PGconn *c, const char *sql, int n,
                        const char *const *p, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(r);
    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static const char *str(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

/* Stores a record checked by registry_line.c. */
static bool store_row(PGconn *c, struct import_row *row, char *err,
                      size_t len)
{
    bool ok = exec_params(c, row->sql, row->n, row->p, err, len);
    import_row_free(row);
    return ok;
}

static bool ins_reference(PGconn *c, enum reference_kind kind, json_t *j,
                          char *err, size_t len)
{
    struct import_row row;
    return reference_row(kind, j, &row, err, len) &&
           store_row(c, &row, err, len);
}

static bool ins_region(PGconn *c, json_t *j, char *err, size_t len)
{
    return ins_reference(c, REF_REGION, j, err, len);
}

static bool ins_authority(PGconn *c, json_t *j, char *err, size_t len)
{
    return ins_reference(c, REF_AUTHORITY, j, err, len);
}

static bool ins_settlement(PGconn *c, json_t *j, char *err, size_t len)
{
    return ins_reference(c, REF_SETTLEMENT, j, err, len);
}

static bool ins_centre(PGconn *c, json_t *j, char *err, size_t len)
{
    return ins_reference(c, REF_CENTRE, j, err, len);
}

static bool ins_appeal(PGconn *c, json_t *j, char *err, size_t len)
{
    return ins_reference(c, REF_APPEAL, j, err, len);
}

static int cmd_import_reference(const char *dir)
{
    static const struct {
        const char *file;
        bool (*insert)(PGconn *, json_t *, char *, size_t);
    } files[] = {
        {"regions.jsonl", ins_region},
        {"authorities.jsonl", ins_authority},
        {"settlements.jsonl", ins_settlement},
        {"centres.jsonl", ins_centre},
        {"appeal_instances.jsonl", ins_appeal},
    };
    PGconn *c = db();
    if (!c)
        return 1;
    int rc = pg_exec(c, "BEGIN") ? 0 : 1;
    for (size_t i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]);
         i++) {
        char path[1024];
        long n = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
        rc = load_lines(c, path, files[i].insert, &n);
        if (rc == 0)
            printf("%s: %ld records\n", files[i].file, n);
    }
    if (rc == 0 && !pg_exec(c, "COMMIT"))
        rc = 1;
    if (rc != 0) {
        if (!pg_exec(c, "ROLLBACK"))
            fprintf(stderr, "kezek: rollback failed\n");
        fprintf(stderr, "kezek: nothing imported\n");
    }
    PQfinish(c);
    return rc;
}

/* A registry line (CONTRACT "Registry fixtures"), checked by
 * registry_line.c. */
static bool ins_registry(PGconn *c, json_t *j, char *err, size_t len)
{
    struct import_row row;
    return registry_row(j, &row, err, len) && store_row(c, &row, err, len);
}

static int cmd_registry(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "import") != 0) {
        usage();
        return 2;
    }
    PGconn *c = db();
    if (!c)
        return 1;
    long n = 0;
    int rc = pg_exec(c, "BEGIN") ? 0 : 1;
    if (rc == 0)
        rc = load_lines(c, argv[1], ins_registry, &n);
    if (rc == 0 && !pg_exec(c, "COMMIT"))
        rc = 1;
    if (rc) {
        if (!pg_exec(c, "ROLLBACK"))
            fprintf(stderr, "kezek: rollback failed\n");
        fprintf(stderr, "kezek: nothing of %s imported\n", argv[1]);
    } else {
        printf("%s: %ld records\n", argv[1], n);
    }
    PQfinish(c);
    return rc;
}

static bool ins_minimum(PGconn *c, json_t *j, char *err, size_t len)
{
    json_t *y = json_object_get(j, "year"), *t = json_object_get(j, "tenge");
    const char *src = str(j, "source");
    if (!json_is_integer(y) || json_integer_value(y) < 1990 ||
        json_integer_value(y) > 2200 || !json_is_integer(t) ||
        json_integer_value(t) <= 0 || !src || !*src) {
        snprintf(err, len, "needs year (1990–2200), tenge (> 0, integer) "
                           "and source");
        return false;
    }
    char ys[16], ts[32];
    snprintf(ys, sizeof(ys), "%lld", (long long)json_integer_value(y));
    snprintf(ts, sizeof(ts), "%lld", (long long)json_integer_value(t));
    const char *p[3] = {ys, ts, src};
    return exec_params(c, "INSERT INTO subsistence_minimum (year, tenge,"
                          " source) VALUES ($1, $2, $3) ON CONFLICT (year)"
                          " DO UPDATE SET tenge = $2, source = $3,"
                          " updated_at = now()", 3, p, err, len);
}

/* subsistence-minimum set YEAR TENGE [SOURCE] | import FILE | list */
static int cmd_minimum(int argc, char **argv)
{
    PGconn *c;
    if (argc >= 3 && strcmp(argv[0], "set") == 0) {
        char *end1, *end2;
        long year = strtol(argv[1], &end1, 10);
        long long tenge = strtoll(argv[2], &end2, 10);
        if (*end1 || *end2) {
            fprintf(stderr, "kezek: YEAR and TENGE are integers\n");
            return 2;
        }
        json_t *j = json_pack("{s:i, s:I, s:s}", "year", (int)year, "tenge",
                              (json_int_t)tenge, "source",
                              argc > 3 ? argv[3] : "set by an operator");
        char err[256];
        if (!(c = db())) {
            json_decref(j);
            return 1;
        }
        bool ok = ins_minimum(c, j, err, sizeof(err));
        json_decref(j);
        PQfinish(c);
        if (!ok) {
            fprintf(stderr, "kezek: %s\n", err);
            return 1;
        }
        printf("subsistence minimum %ld: %lld tenge\n", year, tenge);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[0], "import") == 0) {
        if (!(c = db()))
            return 1;
        long n = 0;
        int rc = pg_exec(c, "BEGIN") ? 0 : 1;
        if (rc == 0)
            rc = load_lines(c, argv[1], ins_minimum, &n);
        if (rc == 0 && !pg_exec(c, "COMMIT"))
            rc = 1;
        if (rc && !pg_exec(c, "ROLLBACK"))
            fprintf(stderr, "kezek: rollback failed\n");
        if (!rc)
            printf("%s: %ld years\n", argv[1], n);
        PQfinish(c);
        return rc;
    }
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        if (!(c = db()))
            return 1;
        PGresult *r = PQexec(c, "SELECT year, tenge, source FROM"
                                " subsistence_minimum ORDER BY year");
        for (int i = 0; pg_check(r) && i < PQntuples(r); i++)
            printf("%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2));
        PQclear(r);
        PQfinish(c);
        return 0;
    }
    usage();
    return 2;
}

/* decisions replay [--from DATE] [--to DATE]: re-evaluates stored
 * decisions from the facts they used, with the rules of this build, and
 * reports each difference. Changes nothing. Exit 3 when any differ. */
static int cmd_replay(int argc, char **argv)
{
    const char *from = "1900-01-01", *to = "2999-12-31";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    kdate_t d;
    if (argc < 1 || strcmp(argv[0], "replay") != 0 ||
        !kdate_parse(from, &d) || !kdate_parse(to, &d)) {
        usage();
        return 2;
    }
    PGconn *c = db();
    if (!c)
        return 1;
    const char *p[2] = {from, to};
    enum { RP_APP, RP_OUTCOME, RP_REASONS, RP_FACTS, RP_BODY, RP_DATE,
           RP_RULES };
    PGresult *r = PQexecParams(c,
        /* the application as decided: its body (older decisions kept
         * a copy); its columns named by the enum above */
        "SELECT d.application_id, d.outcome, d.reasons, d.facts -> 'facts',"
        " coalesce(d.application, a.body), d.decision_date, d.rules_version"
        " FROM decision d LEFT JOIN application a ON a.id = d.application_id"
        " WHERE d.decision_date BETWEEN $1 AND $2"
        " AND coalesce(d.application, a.body) IS NOT NULL"
        " ORDER BY d.decision_date, d.application_id", 2, NULL, p, NULL, NULL,
        0);
    if (!pg_check(r)) {
        fprintf(stderr, "kezek: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return 1;
    }
    long same = 0, differ = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *facts = json_loads(PQgetvalue(r, i, RP_FACTS), 0, NULL);
        json_t *app = json_loads(PQgetvalue(r, i, RP_BODY), 0, NULL);
        json_t *was = json_loads(PQgetvalue(r, i, RP_REASONS), 0, NULL);
        struct elig_decision e;
        elig_decide(app, facts, PQgetvalue(r, i, RP_DATE), &e);
        json_t *now = json_array();
        for (int k = 0; k < e.nreasons; k++)
            json_array_append_new(now, json_string(e.reasons[k]));
        if (strcmp(elig_outcome_str(e.outcome),
                   PQgetvalue(r, i, RP_OUTCOME)) == 0 &&
            json_equal(was, now)) {
            same++;
        } else {
            differ++;
            char *ws = json_dumps(was, JSON_COMPACT);
            char *ns = json_dumps(now, JSON_COMPACT);
            printf("%s\t%s %s (rules %s)\t-> %s %s (rules %s)\n",
                   PQgetvalue(r, i, RP_APP), PQgetvalue(r, i, RP_OUTCOME), ws,
                   PQgetvalue(r, i, RP_RULES), elig_outcome_str(e.outcome), ns,
                   ELIG_RULES_VERSION);
            free(ws);
            free(ns);
        }
        json_decref(now);
        json_decref(e.used);
        json_decref(facts);
        json_decref(app);
        json_decref(was);
    }
    PQclear(r);
    PQfinish(c);
    printf("replayed %ld decisions: %ld same, %ld differ\n", same + differ,
           same, differ);
    return differ ? 3 : 0;
}

/* The authorities' signing keys of the configuration (the heads of the
 * transparency log a change appends to), loaded once; NULL (said) when
 * they cannot be. */
static struct authority_keys *signing_keys(void)
{
    static struct authority_keys keys;
    static bool loaded;
    char err[512];
    if (!loaded && !authority_keys_init(&keys, config_str(cfg, "signing_key",
                                                          NULL),
                                        config_str(cfg, "keys_dir", NULL),
                                        err, sizeof(err))) {
        fprintf(stderr, "kezek: %s\n", err);
        return NULL;
    }
    loaded = true;
    return &keys;
}

/* queue remove AUTHORITY LIST IIN --reason R --date YYYY-MM-DD: takes
 * an entry off its list, as the office would (domain/queue_life.h). */
static int cmd_queue_remove(int argc, char **argv)
{
    const char *reason = NULL, *on = NULL;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--reason") == 0)
            reason = argv[i + 1];
        else if (strcmp(argv[i], "--date") == 0)
            on = argv[i + 1];
    }
    kdate_t d;
    if (argc < 4 || !queue_list_known(argv[2]) ||
        !queue_removal_reason_known(reason) || !kdate_parse(on, &d) ||
        !iin_valid(argv[3], NULL)) {
        fprintf(stderr, "usage: kezek queue remove AUTHORITY LIST IIN "
                        "--reason housing_provided|moved_away|"
                        "false_documents|died|own_request --date "
                        "YYYY-MM-DD\n");
        return 2;
    }
    struct authority_keys *keys = signing_keys();
    PGconn *c = keys ? db() : NULL;
    if (!c)
        return 1;
    struct life_change ch = {.authority_id = argv[1], .list = argv[2],
                             .iin = argv[3], .on = on, .by = "kezek-tool",
                             .producer = "queue", .reason = reason,
                             .keys = keys};
    struct life_result r;
    enum life_rc rc = life_remove(c, &ch, &r);
    PQfinish(c);
    if (rc == LIFE_NOT_FOUND) {
        fprintf(stderr, "kezek: no active entry of that person in %s/%s\n",
                argv[1], argv[2]);
        return 1;
    }
    if (rc != LIFE_OK) {
        fprintf(stderr, "kezek: %s\n", r.why);
        return 1;
    }
    struct queue_view_entry e = {0};
    snprintf(e.authority_id, sizeof(e.authority_id), "%s", argv[1]);
    snprintf(e.list, sizeof(e.list), "%s", argv[2]);
    snprintf(e.iin, sizeof(e.iin), "%s", argv[3]);
    kredis_t *rv = kredis_new(config_str(cfg, "redis", "127.0.0.1:6379"));
    bool view = queue_view_remove(rv, &e);
    kredis_destroy(&rv);
    printf("removed number %lld (position %lld) as %s; entries behind move "
           "up; the citizen is notified%s\n", r.from.number,
           r.from.position, r.change_id,
           view ? "" : "; Redis unreachable: run rebuild-positions");
    return 0;
}

/* queue reverify [--authority ID] [--list L] [--as-of DATE]: re-runs the
 * rules for every active entry; prints the report per authority. Exit
 * 3 when anyone was flagged (they are on their authority's work list). */
static int cmd_queue_reverify(int argc, char **argv)
{
    const char *authority = NULL, *list = NULL, *as_of = NULL;
    char today[11];
    kdate_format(almaty_date(now_us() / 1000000), today);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--authority") == 0 && i + 1 < argc)
            authority = argv[++i];
        else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc)
            list = argv[++i];
        else if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc)
            as_of = argv[++i];
        else
            list = "?";
    }
    kdate_t d;
    if ((list && !queue_list_known(list)) ||
        (as_of && !kdate_parse(as_of, &d))) {
        fprintf(stderr, "usage: kezek queue reverify [--authority ID] "
                        "[--list wwii|vulnerable|public_sector|"
                        "emergency_dwelling] [--as-of YYYY-MM-DD]\n");
        return 2;
    }
    PGconn *c = db();
    if (!c)
        return 1;
    struct reverify_report rep;
    char err[256];
    int64_t t0 = mono_us();
    bool ok = life_reverify(c, authority, list, as_of ? as_of : today,
                            "kezek-tool", 1000, &rep, err, sizeof(err));
    PQfinish(c);
    const char *a;
    json_t *by;
    json_object_foreach(rep.by_authority, a, by) {
        const char *reason;
        json_t *n;
        json_object_foreach(by, reason, n)
            printf("%s\t%s\t%lld\n", a, reason,
                   (long long)json_integer_value(n));
    }
    json_decref(rep.by_authority);
    if (!ok) {
        fprintf(stderr, "kezek: run %lld stopped after %lld entries: %s\n",
                rep.run_id, rep.checked, err);
        return 1;
    }
    printf("run %lld: %lld entries checked in %.1f s, %lld flagged for "
           "their authority's work list (none removed), %lld cleared\n",
           rep.run_id, rep.checked, (double)(mono_us() - t0) / 1e6,
           rep.flagged, rep.cleared);
    return rep.flagged ? 3 : 0;
}

static int cmd_queue(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "remove") == 0)
        return cmd_queue_remove(argc, argv);
    if (argc >= 1 && strcmp(argv[0], "reverify") == 0)
        return cmd_queue_reverify(argc, argv);
    usage();
    return 2;
}

/* One indicator setting of year (a value or NULL each); one already
 * set stays unless overwrite. */
static bool indicator_put(PGconn *c, const char *year, const char *ind,
                          const char *normative, const char *target,
                          const char *source, bool overwrite)
{
    const char *p[5] = {year, ind, normative, target, source};
    PGresult *r = PQexecParams(c, overwrite
        ? "INSERT INTO indicator_setting (year, indicator, normative, target,"
          " source, set_by) VALUES ($1::int, $2, $3::numeric, $4::numeric,"
          " $5, 'kezek-tool') ON CONFLICT (year, indicator) DO UPDATE SET"
          " normative = excluded.normative, target = excluded.target,"
          " source = excluded.source, set_by = excluded.set_by,"
          " set_at = now()"
        : "INSERT INTO indicator_setting (year, indicator, normative, target,"
          " source, set_by) VALUES ($1::int, $2, $3::numeric, $4::numeric,"
          " $5, 'kezek-tool') ON CONFLICT (year, indicator) DO NOTHING",
        5, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(r);
    if (!ok)
        fprintf(stderr, "kezek: %s %s: %s", year, ind, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* A percentage as given: 0–100, at most two decimals. */
static bool percent_ok(const char *s)
{
    char *end;
    double v = s ? strtod(s, &end) : -1;
    return s && *s && *end == '\0' && v >= 0 && v <= 100;
}

/* indicators import FILE [--missing-only]: every year of FILE
 * (data/indicators.json's shape) in one transaction; --missing-only
 * keeps what is set already (deploy/up's defaults). */
static int indicators_import(PGconn *c, const char *path, bool overwrite)
{
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    json_t *years = json_object_get(doc, "years");
    const char *source = json_string_value(json_object_get(doc, "source"));
    if (!json_is_object(years)) {
        fprintf(stderr, "kezek: %s: needs {\"years\": {YEAR: {INDICATOR: "
                        "{\"normative\", \"target\"}}}} (%s)\n", path,
                e.text);
        json_decref(doc);
        return 2;
    }
    bool ok = pg_exec(c, "BEGIN");
    int n = 0;
    const char *y, *ind;
    json_t *vals, *v;
    json_object_foreach(years, y, vals) {
        json_object_foreach(vals, ind, v) {
            char nb[32] = "", tb[32] = "";
            json_t *nv = json_object_get(v, "normative");
            json_t *tv = json_object_get(v, "target");
            if (json_is_number(nv))
                snprintf(nb, sizeof(nb), "%g", json_number_value(nv));
            if (json_is_number(tv))
                snprintf(tb, sizeof(tb), "%g", json_number_value(tv));
            ok = ok && indicator_put(c, y, ind, nb[0] ? nb : NULL,
                                     tb[0] ? tb : NULL,
                                     source ? source : path, overwrite);
            n++;
        }
    }
    ok = ok && pg_exec(c, "COMMIT");
    json_decref(doc);
    if (!ok)
        return 1;
    printf("%d indicator settings from %s\n", n, path);
    return 0;
}

/* indicators set YEAR INDICATOR [--normative N] [--target T] --source S
 * | import FILE | list [YEAR]: the operator's normative and target
 * values of appendix 4 (migrations/024). */
static int cmd_indicators(int argc, char **argv)
{
    const char *normative = NULL, *target = NULL, *source = NULL;
    static const char *const names[] = {"1.1", "2.1", "3.1", "3.2", "4.1",
                                        "5.1", NULL};
    bool set = argc >= 3 && strcmp(argv[0], "set") == 0;
    for (int i = 3; set && i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--normative") == 0)
            normative = argv[i + 1];
        else if (strcmp(argv[i], "--target") == 0)
            target = argv[i + 1];
        else if (strcmp(argv[i], "--source") == 0)
            source = argv[i + 1];
        else
            set = false;
    }
    bool known = false;
    for (int i = 0; set && names[i]; i++)
        known = known || strcmp(argv[2], names[i]) == 0;
    char *end;
    long year = set ? strtol(argv[1], &end, 10) : 0;
    if (set && (!known || *end || year < 2000 || year > 2200 || !source ||
                (!normative && !target) ||
                (normative && !percent_ok(normative)) ||
                (target && !percent_ok(target)))) {
        fprintf(stderr, "usage: kezek indicators set YEAR 1.1|2.1|3.1|3.2|"
                        "4.1|5.1 [--normative 0–100] [--target 0–100] "
                        "--source TEXT (whose order or decision)\n");
        return 2;
    }
    bool keep = argc == 3 && strcmp(argv[2], "--missing-only") == 0;
    bool import = (argc == 2 || keep) && strcmp(argv[0], "import") == 0;
    bool list = argc >= 1 && argc <= 2 && strcmp(argv[0], "list") == 0;
    if (!set && !import && !list) {
        usage();
        return 2;
    }
    PGconn *c = db();
    if (!c)
        return 1;
    int rc = 0;
    if (set) {
        rc = indicator_put(c, argv[1], argv[2], normative, target, source,
                           true) ? 0 : 1;
        if (!rc)
            printf("indicator %s of %s set\n", argv[2], argv[1]);
    } else if (import) {
        rc = indicators_import(c, argv[1], !keep);
    } else {
        const char *p[1] = {argc == 2 ? argv[1] : NULL};
        PGresult *r = PQexecParams(c, "SELECT year, indicator,"
            " coalesce(normative::text, '—'), coalesce(target::text, '—'),"
            " source FROM indicator_setting WHERE $1::int IS NULL"
            " OR year = $1::int ORDER BY year, indicator", 1, NULL, p, NULL,
            NULL, 0);
        rc = pg_check(r) ? 0 : 1;
        for (int i = 0; !rc && i < PQntuples(r); i++)
            printf("%s\t%s\tnormative %s\ttarget %s\t%s\n",
                   PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
                   PQgetvalue(r, i, 4));
        if (rc)
            fprintf(stderr, "kezek: %s", PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

/* email|sms|portal resend NOTICE_ID: requeues an in-doubt or failed
 * delivery of that channel (an e-mail with the same Message-ID, a
 * callback with the same delivery id). */
static int cmd_resend(const char *channel, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "resend") != 0) {
        usage();
        return 2;
    }
    PGconn *c = db();
    if (!c)
        return 1;
    const char *p[2] = {argv[1], channel};
    PGresult *r = PQexecParams(c, "UPDATE notice_delivery SET state ="
                               " 'pending', next_attempt_at = now(),"
                               " updated_at = now() WHERE notice_id = $1"
                               " AND channel = $2 AND state IN"
                               " ('in_doubt', 'failed')", 2, NULL, p, NULL,
                               NULL, 0);
    bool ok = pg_check(r) && strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    PQfinish(c);
    if (!ok) {
        fprintf(stderr, "kezek: no in-doubt or failed %s delivery for %s\n",
                channel, argv[1]);
        return 1;
    }
    printf("%s of %s queued again\n", channel, argv[1]);
    return 0;
}

static int cmd_rebuild(int argc, char **argv)
{
    const char *authority = NULL;
    bool verify = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--verify") == 0)
            verify = true;
        else if (strcmp(argv[i], "--authority") == 0 && i + 1 < argc)
            authority = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    PGconn *c = db();
    if (!c)
        return 1;
    kredis_t *r = kredis_new(config_str(cfg, "redis", "127.0.0.1:6379"));
    struct queue_view_report rep;
    bool ok = queue_view_rebuild(c, r, authority, verify, &rep);
    kredis_destroy(&r);
    PQfinish(c);
    if (!ok) {
        fprintf(stderr, "kezek: rebuild failed (Postgres or Redis "
                        "unreachable)\n");
        return 1;
    }
    printf("%s %ld lists, %ld entries; drift in %ld lists\n",
           verify ? "verified" : "rebuilt", rep.lists, rep.entries,
           rep.drift);
    return verify && rep.drift ? 3 : 0;
}

/* One key per authority of the reference data that has none in dir. */
static int keys_for_authorities(const char *dir)
{
    PGconn *c = db();
    if (!c)
        return 1;
    PGresult *r = PQexec(c, "SELECT id FROM authority ORDER BY id");
    int rc = pg_check(r) ? 0 : 1, made = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        char path[1024], key_id[96], pk[64], err[256], hex[13];
        unsigned char rid[6];
        snprintf(path, sizeof(path), "%s/%s.key", dir, PQgetvalue(r, i, 0));
        if (access(path, F_OK) == 0)
            continue;
        randombytes_buf(rid, sizeof(rid));
        sodium_bin2hex(hex, sizeof(hex), rid, sizeof(rid));
        snprintf(key_id, sizeof(key_id), "k-%s-%s", PQgetvalue(r, i, 0),
                 hex);
        const char *p[3] = {key_id, PQgetvalue(r, i, 0), pk};
        if (!signer_generate(path, key_id, pk, err, sizeof(err)) ||
            !exec_params(c, "INSERT INTO signing_key (key_id, authority_id,"
                            " public_key) VALUES ($1, $2, $3)", 3, p, err,
                         sizeof(err))) {
            fprintf(stderr, "kezek: %s\n", err);
            rc = 1;
        }
        made++;
    }
    PQclear(r);
    PQfinish(c);
    if (rc == 0)
        printf("%d new authority keys in %s\n", made, dir);
    return rc;
}

static int cmd_keys(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[0], "generate-authorities") == 0)
        return keys_for_authorities(argv[1]);
    if (argc >= 3 && strcmp(argv[0], "generate-bus") == 0) {
        /* a CURVE key pair per named service (issue 21) */
        char err[256];
        for (int i = 2; i < argc; i++)
            if (!bus_keys_generate(argv[1], argv[i], err, sizeof(err))) {
                fprintf(stderr, "kezek: %s\n", err);
                return 1;
            }
        return 0;
    }
    if (argc < 2 || strcmp(argv[0], "generate") != 0) {
        usage();
        return 2;
    }
    const char *path = argv[1], *authority = NULL;
    if (argc >= 4 && strcmp(argv[2], "--authority") == 0)
        authority = argv[3];
    unsigned char rid[6];
    char key_id[32], hex[13], pk[64], err[256];
    randombytes_buf(rid, sizeof(rid));
    sodium_bin2hex(hex, sizeof(hex), rid, sizeof(rid));
    snprintf(key_id, sizeof(key_id), "k-%s", hex);
    PGconn *c = db();
    if (!c)
        return 1;
    if (!signer_generate(path, key_id, pk, err, sizeof(err))) {
        fprintf(stderr, "kezek: %s\n", err);
        PQfinish(c);
        return 1;
    }
    const char *p[3] = {key_id, authority, pk};
    PGresult *r = PQexecParams(c,
        "INSERT INTO signing_key (key_id, authority_id, public_key)"
        " VALUES ($1, $2, $3)", 3, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(r);
    PQclear(r);
    PQfinish(c);
    if (!ok) {
        fprintf(stderr, "kezek: could not register the public key\n");
        return 1;
    }
    printf("key %s written to %s (mode 0600)\n", key_id, path);
    return 0;
}

/* Checks a saved cabinet message ({"document", "signature", "key_id"})
 * against the public keys of the deployment. */
/* A printed document's QR payload "KEZEK1|<notice id>|<key id>|<sig>":
 * the signature must match the document this deployment holds. */
static int verify_qr(const char *path, const char *payload)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", payload);
    buf[strcspn(buf, "\r\n")] = '\0';
    char *save = NULL, *tag = strtok_r(buf, "|", &save);
    char *id = strtok_r(NULL, "|", &save), *key = strtok_r(NULL, "|", &save);
    char *sig = strtok_r(NULL, "|", &save);
    if (!tag || strcmp(tag, "KEZEK1") != 0 || !id || !key || !sig) {
        fprintf(stderr, "%s: FAIL: not a Kezek QR payload\n", path);
        return 1;
    }
    PGconn *c = db();
    if (!c)
        return 1;
    const char *p[2] = {id, key};
    PGresult *r = PQexecParams(c, "SELECT n.canonical, k.public_key FROM"
                               " notice n JOIN signing_key k ON k.key_id = $2"
                               " WHERE n.id = $1", 2, NULL, p, NULL, NULL, 0);
    int rc = 1;
    json_t *doc = NULL;
    if (!pg_check(r) || PQntuples(r) != 1) {
        fprintf(stderr, "%s: FAIL: no document %s signed with key %s\n",
                path, id, key);
    } else if (!(doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL)) ||
               !notice_verify(doc, sig, PQgetvalue(r, 0, 1))) {
        fprintf(stderr, "%s: FAIL: the signature does not match document "
                        "%s\n", path, id);
    } else {
        printf("%s: OK, document %s signed by %s\n", path, id, key);
        rc = 0;
    }
    json_decref(doc);
    PQclear(r);
    PQfinish(c);
    return rc;
}

static int cmd_verify(const char *path)
{
    char head[600] = "";
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t n = fread(head, 1, sizeof(head) - 1, f);
    head[n] = '\0';
    fclose(f);
    if (strncmp(head, "KEZEK1|", 7) == 0)
        return verify_qr(path, head);
    if (strncmp(head, "%PDF", 4) == 0 || strncmp(head, "\x89PNG", 4) == 0) {
        /* a printed document: read its QR code (poppler, zbar) */
        char dir[] = "/tmp/kezek-verify-XXXXXX", cmd[2048];
        if (!mkdtemp(dir))
            return 1;
        if (head[0] == '%')
            snprintf(cmd, sizeof(cmd), "pdftoppm -r 150 -png -singlefile"
                     " '%s' %s/page && zbarimg --nodbus --raw -q"
                     " %s/page.png", path, dir, dir);
        else
            snprintf(cmd, sizeof(cmd), "zbarimg --nodbus --raw -q '%s'",
                     path);
        FILE *q = strchr(path, '\'') ? NULL : popen(cmd, "r");
        char payload[600] = "";
        size_t got = q ? fread(payload, 1, sizeof(payload) - 1, q) : 0;
        payload[got] = '\0';
        if (q)
            pclose(q);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "kezek: could not remove %s\n", dir);
        if (strncmp(payload, "KEZEK1|", 7) != 0) {
            fprintf(stderr, "%s: FAIL: no Kezek QR code found\n", path);
            return 1;
        }
        return verify_qr(path, payload);
    }
    json_error_t je;
    json_t *m = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!m) {
        fprintf(stderr, "%s: not JSON: %s\n", path, je.text);
        return 1;
    }
    json_t *doc = json_object_get(m, "document");
    const char *sig = str(m, "signature"), *key_id = str(m, "key_id");
    int rc = 1;
    if (!json_is_object(doc) || !sig || !key_id) {
        fprintf(stderr, "%s: needs document, signature and key_id\n", path);
        goto out;
    }
    PGconn *c = db();
    if (!c)
        goto out;
    const char *p[1] = {key_id};
    PGresult *r = PQexecParams(c, "SELECT public_key FROM signing_key"
                                  " WHERE key_id = $1", 1, NULL, p, NULL,
                               NULL, 0);
    if (!pg_check(r) || PQntuples(r) != 1) {
        fprintf(stderr, "%s: FAIL: unknown key %s\n", path, key_id);
    } else if (!notice_verify(doc, sig, PQgetvalue(r, 0, 0))) {
        fprintf(stderr, "%s: FAIL: the signature does not match the "
                        "document (altered, or signed by another key)\n",
                path);
    } else {
        printf("%s: OK, signed by %s\n", path, key_id);
        rc = 0;
    }
    PQclear(r);
    PQfinish(c);
out:
    json_decref(m);
    return rc;
}

int main(int argc, char **argv)
{
    int i = 1;
    const char *path = getenv("KEZEK_CONFIG");
    if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
        path = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0) {
        usage();
        return i >= argc ? 2 : 0;
    }
    char err[512];
    cfg = config_load(path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "kezek: %s\n", err);
        return 1;
    }
    log_init("kezek", LOG_WARN);
    if (sodium_init() < 0)
        return 1;
    const char *rpass = config_str(cfg, "redis_password_file", NULL);
    if (rpass && !kredis_password_file(rpass, err, sizeof(err))) {
        fprintf(stderr, "kezek: redis_password_file: %s\n", err);
        return 1;
    }
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **args = argv + i + 1;
    int rc;
    /* reports, checks and the Redis view only read Postgres */
    if (strcmp(cmd, "decisions") == 0 ||
        strcmp(cmd, "rebuild-positions") == 0 ||
        strcmp(cmd, "verify-document") == 0 ||
        (strcmp(cmd, "subsistence-minimum") == 0 && rest >= 1 &&
         strcmp(args[0], "list") == 0))
        db_role = "kezek_report";
    if (strcmp(cmd, "migrate") == 0)
        rc = cmd_migrate();
    else if (strcmp(cmd, "tokens") == 0)
        rc = cmd_tokens(rest, args);
    else if (strcmp(cmd, "import-reference") == 0)
        rc = cmd_import_reference(rest ? args[0] : "reference");
    else if (strcmp(cmd, "registry") == 0)
        rc = cmd_registry(rest, args);
    else if (strcmp(cmd, "subsistence-minimum") == 0)
        rc = cmd_minimum(rest, args);
    else if (strcmp(cmd, "decisions") == 0)
        rc = cmd_replay(rest, args);
    else if (strcmp(cmd, "indicators") == 0)
        rc = cmd_indicators(rest, args);
    else if (strcmp(cmd, "email") == 0 || strcmp(cmd, "sms") == 0 ||
             strcmp(cmd, "portal") == 0)
        rc = cmd_resend(cmd, rest, args);
    else if (strcmp(cmd, "queue") == 0)
        rc = cmd_queue(rest, args);
    else if (strcmp(cmd, "rebuild-positions") == 0)
        rc = cmd_rebuild(rest, args);
    else if (strcmp(cmd, "keys") == 0)
        rc = cmd_keys(rest, args);
    else if (strcmp(cmd, "verify-log") == 0)
        rc = cmd_verify_log(rest, args);
    else if (strcmp(cmd, "verify-document") == 0 && rest == 1)
        rc = cmd_verify(args[0]);
    else {
        usage();
        rc = 2;
    }
    config_destroy(&cfg);
    return rc;
}
