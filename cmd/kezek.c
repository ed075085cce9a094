/* kezek — the operator's command-line tool (CONTRACT "Operating a
 * deployment"). Reads the same config as the services (--config FILE or
 * KEZEK_CONFIG, KEZEK_* overrides). */
#include "auth.h"
#include "config.h"
#include "log.h"
#include "notice.h"
#include "pg.h"
#include "queue_view.h"
#include "redis.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static config_t *cfg;

static void usage(void)
{
    fputs(
        "usage: kezek [--config FILE] COMMAND [ARGS]\n\n"
        "  migrate                          apply schema migrations\n"
        "  tokens add PRINCIPAL             new token for office:<id>,\n"
        "                                   centre:<id>, portal or ops\n"
        "  tokens revoke TOKEN_ID           revoke a token\n"
        "  import-reference [DIR]           load reference/*.jsonl\n"
        "  registry import FILE             load registry JSON lines\n"
        "  rebuild-positions [--authority ID] [--verify]\n"
        "                                   rebuild (or check) the Redis\n"
        "                                   queue view from Postgres\n"
        "  keys generate FILE [--authority ID]\n"
        "                                   new Ed25519 signing key\n"
        "  verify-document FILE             check a saved cabinet message\n",
        stderr);
}

static PGconn *db(void)
{
    char err[512];
    PGconn *c = pg_connect_plain(config_str(cfg, "pg", "dbname=kezek"), err,
                                 sizeof(err));
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
        char token[96], id[17], hash[65];
        auth_new_token(token, id, hash);
        if (!(c = db()))
            return 1;
        const char *params[3] = {id, p.text, hash};
        PGresult *r = PQexecParams(c,
            "INSERT INTO api_token (id, principal, token_hash)"
            " VALUES ($1, $2, $3)", 3, NULL, params, NULL, NULL, 0);
        bool ok = pg_check(r);
        if (!ok)
            fprintf(stderr, "kezek: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        if (!ok)
            return 1;
        printf("token id %s for %s (shown once; only its hash is kept)\n"
               "%s\n", id, p.text, token);
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
        if (n > 65536) {
            fprintf(stderr, "%s:%ld: line too long\n", path, lineno);
            rc = 1;
            break;
        }
        if (strspn(line, " \t\r\n") == (size_t)n)
            continue;
        json_error_t je;
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
        char err[256] = "";
        if (!j || !json_is_object(j) || !insert(c, j, err, sizeof(err))) {
            fprintf(stderr, "%s:%ld: %s\n", path, lineno,
                    !j ? je.text : err[0] ? err : "not a JSON object");
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

static bool exec_doc(PGconn *c, const char *sql, const char *a,
                     const char *b, const char *d, json_t *doc, char *err,
                     size_t errlen)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    const char *p[4] = {a, b, d, s};
    PGresult *r = PQexecParams(c, sql, 4, NULL, p, NULL, NULL, 0);
    bool ok = pg_check(r);
    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    free(s);
    return ok;
}

static const char *str(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static bool ins_region(PGconn *c, json_t *j, char *err, size_t len)
{
    if (!str(j, "id") || !str(j, "name"))
        return snprintf(err, len, "region needs id and name") && false;
    return exec_doc(c, "INSERT INTO region (id, name) VALUES ($1, $2)"
                       " ON CONFLICT (id) DO UPDATE SET name = $2"
                       " WHERE $3::text IS NULL AND $4::text IS NOT NULL",
                    str(j, "id"), str(j, "name"), NULL, j, err, len);
}

static bool ins_authority(PGconn *c, json_t *j, char *err, size_t len)
{
    if (!str(j, "id") || !str(j, "region_id") || !str(j, "name"))
        return snprintf(err, len, "authority needs id, region_id, name") &&
               false;
    return exec_doc(c, "INSERT INTO authority (id, region_id, name, doc)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE"
                       " SET region_id = $2, name = $3, doc = $4",
                    str(j, "id"), str(j, "region_id"), str(j, "name"), j,
                    err, len);
}

static bool ins_settlement(PGconn *c, json_t *j, char *err, size_t len)
{
    if (!str(j, "id") || !str(j, "authority_id") || !str(j, "name"))
        return snprintf(err, len, "settlement needs id, authority_id, "
                                  "name") && false;
    return exec_doc(c, "INSERT INTO settlement (id, authority_id, name, doc)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE"
                       " SET authority_id = $2, name = $3, doc = $4",
                    str(j, "id"), str(j, "authority_id"), str(j, "name"), j,
                    err, len);
}

static bool ins_centre(PGconn *c, json_t *j, char *err, size_t len)
{
    if (!str(j, "id"))
        return snprintf(err, len, "centre needs id") && false;
    return exec_doc(c, "INSERT INTO centre (id, region_id, doc)"
                       " VALUES ($1, $2, $4) ON CONFLICT (id) DO UPDATE"
                       " SET region_id = $2, doc = $4"
                       " WHERE $3::text IS NULL",
                    str(j, "id"), str(j, "region_id"), NULL, j, err, len);
}

static bool ins_appeal(PGconn *c, json_t *j, char *err, size_t len)
{
    if (!str(j, "id"))
        return snprintf(err, len, "appeal instance needs id") && false;
    return exec_doc(c, "INSERT INTO appeal_instance (id, region_id, doc)"
                       " VALUES ($1, $2, $4) ON CONFLICT (id) DO UPDATE"
                       " SET region_id = $2, doc = $4"
                       " WHERE $3::text IS NULL",
                    str(j, "id"), str(j, "region_id"), NULL, j, err, len);
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

static bool ins_registry(PGconn *c, json_t *j, char *err, size_t len)
{
    const char *kind = str(j, "kind");
    if (kind && strcmp(kind, "person") == 0) {
        if (!str(j, "iin") || strlen(str(j, "iin")) != 12)
            return snprintf(err, len, "person needs a 12-digit iin") &&
                   false;
        return exec_doc(c, "INSERT INTO registry_person (iin, doc)"
                           " VALUES ($1, $4) ON CONFLICT (iin) DO UPDATE"
                           " SET doc = $4 WHERE $2::text IS NULL"
                           " AND $3::text IS NULL",
                        str(j, "iin"), NULL, NULL, j, err, len);
    }
    snprintf(err, len, "unknown kind (expected person)");
    return false;
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

static int cmd_keys(int argc, char **argv)
{
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
static int cmd_verify(const char *path)
{
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
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **args = argv + i + 1;
    int rc;
    if (strcmp(cmd, "migrate") == 0)
        rc = cmd_migrate();
    else if (strcmp(cmd, "tokens") == 0)
        rc = cmd_tokens(rest, args);
    else if (strcmp(cmd, "import-reference") == 0)
        rc = cmd_import_reference(rest ? args[0] : "reference");
    else if (strcmp(cmd, "registry") == 0)
        rc = cmd_registry(rest, args);
    else if (strcmp(cmd, "rebuild-positions") == 0)
        rc = cmd_rebuild(rest, args);
    else if (strcmp(cmd, "keys") == 0)
        rc = cmd_keys(rest, args);
    else if (strcmp(cmd, "verify-document") == 0 && rest == 1)
        rc = cmd_verify(args[0]);
    else {
        usage();
        rc = 2;
    }
    config_destroy(&cfg);
    return rc;
}
