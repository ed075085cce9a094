#include "testkit.h"

#include "iin.h"
#include "notice.h"
#include "auth.h"
#include "bus.h"
#include "outbox.h"
#include "redis.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const tk_svc_names[TK_NSVC] = {"intake", "eligibility", "queue",
                                           "notify"};

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set: run the tests with ./deploy/test",
              name);
    return v;
}

/* A port below the kernel's ephemeral range (32768+), so that no client
 * connection can take it between now and the service's bind. Each test
 * process (Criterion forks one per test) draws from its own block of
 * 20 ports chosen by its pid, handing each port out once: parallel
 * tests and the services of one test never pick the same port. */
static int free_port(void)
{
    static int next;
    for (;;) {
        int block = (int)(getpid() % 600);
        int port = 20000 + ((block * 20 + next++) % 12000);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (ok)
            return port;
    }
}

int tk_free_port(void)
{
    return free_port();
}

long tk_scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
        !PQgetisnull(r, 0, 0))
        v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

void tk_admin(const char *sql)
{
    char ci[600];
    snprintf(ci, sizeof(ci), "%s dbname=postgres", need_env("KEZEK_TEST_PG"));
    PGconn *c = PQconnectdb(ci);
    cr_assert(PQstatus(c) == CONNECTION_OK, "test postgres: %s",
              PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
                  PQresultStatus(r) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

static int next_redis_db(void)
{
    char ci[600];
    snprintf(ci, sizeof(ci), "%s dbname=postgres", need_env("KEZEK_TEST_PG"));
    PGconn *c = PQconnectdb(ci);
    long v = tk_scalar(c, "SELECT nextval('tk_redis_db')");
    PQfinish(c);
    cr_assert(v > 0, "sequence tk_redis_db missing (deploy/test makes it)");
    return (int)(v % 255) + 1;
}

PGconn *tk_db(const tk_env_t *env)
{
    PGconn *c = PQconnectdb(env->conninfo);
    cr_assert(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    return c;
}

void tk_token(const tk_env_t *env, const char *principal, char *out)
{
    char token[96], id[17], hash[65];
    auth_new_token(token, id, hash);
    PGconn *c = tk_db(env);
    const char *p[3] = {id, principal, hash};
    PGresult *r = PQexecParams(c, "INSERT INTO api_token (id, principal,"
                               " token_hash) VALUES ($1, $2, $3)", 3, NULL,
                               p, NULL, NULL, 0);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
    strcpy(out, token);
}

void tk_env_init(tk_env_t *env)
{
    static int counter;
    memset(env, 0, sizeof(*env));
    cr_assert(sodium_init() >= 0);
    pg_common_stmts(spine_stmts); /* outbox_add, relay_pass, … */
    char db[64];
    snprintf(db, sizeof(db), "t_%d_%d_%ld", (int)getpid(), counter++,
             (long)time(NULL) % 100000);
    char sql[200];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE kezek_template",
             db);
    tk_admin(sql);
    snprintf(env->conninfo, sizeof(env->conninfo), "%s dbname=%s",
             need_env("KEZEK_TEST_PG"), db);
    snprintf(env->svc_conninfo, sizeof(env->svc_conninfo), "%s dbname=%s",
             need_env("KEZEK_TEST_PG_SERVICES"), db);
    snprintf(env->redis, sizeof(env->redis), "%s#/%d",
             need_env("KEZEK_TEST_REDIS"), next_redis_db());
    /* the numbers wrap after 255 tests: each starts from an empty db,
     * never from an earlier test's view */
    kredis_t *rd = kredis_new(env->redis);
    redisReply *fl = rd ? kredis_cmd(rd, "FLUSHDB") : NULL;
    cr_assert(fl, "test redis: FLUSHDB failed");
    freeReplyObject(fl);
    kredis_destroy(&rd);
    size_t n = 0;
    for (int i = 0; i < TK_NSVC; i++) {
        env->http_port[i] = free_port();
        env->bus_port[i] = free_port();
        n += (size_t)snprintf(env->bus_endpoints + n,
                              sizeof(env->bus_endpoints) - n,
                              "%s%s@tcp://127.0.0.1:%d", i ? "," : "",
                              tk_svc_names[i], env->bus_port[i]);
    }
    snprintf(env->dir, sizeof(env->dir), "/tmp/kezek-test-XXXXXX");
    cr_assert(mkdtemp(env->dir));
    /* the services' bus is authenticated and encrypted, as deployed */
    char err[256];
    snprintf(env->bus_keys, sizeof(env->bus_keys), "%s/bus", env->dir);
    for (int i = 0; i < TK_NSVC; i++)
        cr_assert(bus_keys_generate(env->bus_keys, tk_svc_names[i], err,
                                    sizeof(err)), "%s", err);
    snprintf(env->keyfile, sizeof(env->keyfile), "%s/notify.key", env->dir);
    char pk[64];
    cr_assert(signer_generate(env->keyfile, "k-test", pk, err, sizeof(err)),
              "%s", err);
    PGconn *c = tk_db(env);
    const char *p[1] = {pk};
    PGresult *r = PQexecParams(c, "INSERT INTO signing_key (key_id,"
                               " public_key) VALUES ('k-test', $1)", 1, NULL,
                               p, NULL, NULL, 0);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
    tk_token(env, "office:a-01-02", env->office);
    tk_token(env, "portal", env->portal);
    env->batch_size = 100;
}

pid_t tk_fork(void)
{
    pid_t parent = getpid(), pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* it died before prctl */
            _exit(1);
    }
    return pid;
}

void tk_start(tk_env_t *env, int i)
{
    char log[300], bin[300];
    snprintf(log, sizeof(log), "%s/%s.log", env->dir, tk_svc_names[i]);
    snprintf(bin, sizeof(bin), "%s/kezek-%s", need_env("KEZEK_BIN_DIR"),
             tk_svc_names[i]);
    pid_t pid = tk_fork(); /* a failed test leaves no service running */
    if (pid == 0) {
        char v[600];
        setenv("KEZEK_PG", env->svc_conninfo, 1);
        setenv("KEZEK_REDIS", env->redis, 1);
        setenv("KEZEK_BUS_ENDPOINTS", env->bus_endpoints, 1);
        setenv("KEZEK_BUS_KEYS_DIR", env->bus_keys, 1);
        snprintf(v, sizeof(v), "tcp://127.0.0.1:%d", env->bus_port[i]);
        setenv("KEZEK_BUS_BIND", v, 1);
        snprintf(v, sizeof(v), "%d", env->http_port[i]);
        setenv("KEZEK_HTTP_PORT", v, 1);
        snprintf(v, sizeof(v), "%d", env->batch_size);
        setenv("KEZEK_BATCH_SIZE", v, 1);
        setenv("KEZEK_SIGNING_KEY", env->keyfile, 1);
        snprintf(v, sizeof(v), "%s/templates", need_env("KEZEK_SOURCE_DIR"));
        setenv("KEZEK_TEMPLATES_DIR", v, 1);
        if (env->smtp_url[0])
            setenv("KEZEK_SMTP_URL", env->smtp_url, 1);
        unsetenv("KEZEK_CONFIG");
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    env->pid[i] = pid;
    for (int k = 0; k < 200; k++) {
        long st = 0;
        json_t *j = tk_http("GET", env->http_port[i], "/healthz", NULL,
                            NULL, NULL, &st);
        json_decref(j);
        if (st == 200)
            return;
        int wst;
        cr_assert(waitpid(pid, &wst, WNOHANG) == 0,
                  "kezek-%s exited at start; see %s", tk_svc_names[i], log);
        usleep(25000);
    }
    cr_assert_fail("kezek-%s did not become healthy", tk_svc_names[i]);
}

int tk_signal(tk_env_t *env, int i, int sig)
{
    if (env->pid[i] <= 0)
        return -1;
    kill(env->pid[i], sig);
    int st = 0;
    if (sig == SIGTERM || sig == SIGKILL) {
        waitpid(env->pid[i], &st, 0);
        env->pid[i] = 0;
    }
    return st;
}

void tk_kannel_start(tk_env_t *env)
{
    char cmd[1200], v[400];
    for (int attempt = 0; attempt < 5 && !env->kannel_base; attempt++) {
        int base = tk_free_port();
        bool free_run = base + 3 < 65000;
        for (int k = 1; k < 4 && free_run; k++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa = {.sin_family = AF_INET,
                                     .sin_port = htons((uint16_t)(base + k))};
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            free_run = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
            close(fd);
        }
        if (!free_run)
            continue;
        snprintf(env->sms_dir, sizeof(env->sms_dir), "%s/sms", env->dir);
        snprintf(cmd, sizeof(cmd), "%s/deploy/kannel start '%s/kannel' %d"
                 " '%s' >>'%s/kannel.out' 2>&1",
                 need_env("KEZEK_SOURCE_DIR"), env->dir, base, env->sms_dir,
                 env->dir);
        if (system(cmd) == 0)
            env->kannel_base = base;
    }
    cr_assert(env->kannel_base, "Kannel did not start; see %s/kannel.out",
              env->dir);
    snprintf(v, sizeof(v), "http://127.0.0.1:%d/cgi-bin/sendsms",
             env->kannel_base + 3);
    setenv("KEZEK_SMS_URL", v, 1);
    snprintf(v, sizeof(v), "%s/kannel/kannel.pass", env->dir);
    setenv("KEZEK_SMS_PASSWORD_FILE", v, 1);
}

void tk_kannel_signal(const tk_env_t *env, const char *name, int sig)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/kannel/%s.pid", env->dir, name);
    FILE *f = fopen(path, "r");
    long pid = 0;
    cr_assert(f && fscanf(f, "%ld", &pid) == 1, "no %s", path);
    fclose(f);
    kill((pid_t)pid, sig);
}

json_t *tk_sms_received(const tk_env_t *env)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls '%s/new' 2>/dev/null | sort",
             env->sms_dir);
    FILE *ls = popen(cmd, "r");
    json_t *all = json_array();
    char name[256];
    while (ls && fgets(name, sizeof(name), ls)) {
        name[strcspn(name, "\n")] = '\0';
        char path[600];
        snprintf(path, sizeof(path), "%s/new/%s", env->sms_dir, name);
        json_t *m = json_load_file(path, 0, NULL);
        if (m)
            json_array_append_new(all, m);
    }
    if (ls)
        pclose(ls);
    return all;
}

void tk_env_fini(tk_env_t *env)
{
    for (int i = 0; i < TK_NSVC; i++) {
        if (env->pid[i] <= 0)
            continue;
        int st = tk_signal(env, i, SIGTERM);
        /* graceful stop: finish the batch, commit, exit 0 (and, under
         * ASan, no leak report) */
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "kezek-%s did not stop cleanly on SIGTERM (status %d)",
                  tk_svc_names[i], st);
    }
    char cmd[800];
    if (env->kannel_base) {
        snprintf(cmd, sizeof(cmd), "%s/deploy/kannel stop '%s/kannel'",
                 need_env("KEZEK_SOURCE_DIR"), env->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not stop Kannel in %s\n", env->dir);
        unsetenv("KEZEK_SMS_URL");
        unsetenv("KEZEK_SMS_PASSWORD_FILE");
    }
    if (!getenv("KEZEK_TEST_KEEP")) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", env->dir);
    }
}

struct buf {
    char *p;
    size_t n;
};

static size_t on_body(char *d, size_t s, size_t n, void *u)
{
    struct buf *b = u;
    char *np = realloc(b->p, b->n + s * n + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, d, s * n);
    b->n += s * n;
    b->p[b->n] = '\0';
    return s * n;
}

char *tk_http_text(const char *method, int port, const char *path,
                   const char *token, const char *extra, const char *body,
                   long *status)
{
    CURL *c = curl_easy_init();
    char url[512], auth[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (body && !(extra && strncasecmp(extra, "Content-Type:", 13) == 0))
        h = curl_slist_append(h, "Content-Type: application/json");
    /* extra: one header, or several separated by newlines */
    char more[1024];
    snprintf(more, sizeof(more), "%s", extra ? extra : "");
    char *save = NULL;
    for (char *line = strtok_r(more, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        h = curl_slist_append(h, line);
    struct buf b = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    /* the path as the test wrote it ("..", ".") — a server must judge it */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    *status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return b.p;
}

json_t *tk_http(const char *method, int port, const char *path,
                const char *token, const char *extra, const char *body,
                long *status)
{
    char *text = tk_http_text(method, port, path, token, extra, body,
                              status);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return j;
}

double tk_metric(const tk_env_t *env, int svc, const char *series)
{
    long st;
    char *text = tk_http_text("GET", env->http_port[svc], "/metrics", NULL,
                              NULL, NULL, &st);
    cr_assert_eq(st, 200, "%s /metrics", tk_svc_names[svc]);
    size_t n = strlen(series);
    double v = -1;
    for (char *line = text; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            v = strtod(line + n + 1, NULL);
            break;
        }
    }
    free(text);
    return v;
}

void tk_iin(int n, char *out)
{
    /* the first check digit iin_valid accepts (some serials have none) */
    for (int serial = n * 10;; serial++) {
        for (int check = 0; check <= 9; check++) {
            char s[32];
            snprintf(s, sizeof(s), "7910283%04d%d", serial % 10000, check);
            if (iin_valid(s, NULL)) {
                memcpy(out, s, 13);
                return;
            }
        }
    }
}

char *tk_application(const char *iin)
{
    char *s = NULL;
    int n = asprintf(&s,
        "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"Testov\","
        "\"given_name\":\"Test\",\"phone\":\"+77010000000\"},"
        "\"settlement_id\":\"s-01-02\",\"authority_id\":\"a-01-02\","
        "\"fund\":\"communal\",\"category\":\"wwii\",\"need_grounds\":[1],"
        "\"documents\":[{\"code\":\"application_form\",\"pages\":1}]}",
        iin);
    cr_assert(n > 0);
    return s;
}

bool tk_submit(const tk_env_t *env, const char *iin, const char *key,
               char *id_out, long *status)
{
    char *body = tk_application(iin);
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
    json_t *j = tk_http("POST", env->http_port[TK_INTAKE],
                        "/v1/applications", env->office, hdr, body, status);
    free(body);
    const char *id = json_string_value(json_object_get(j, "application_id"));
    bool ok = id && (*status == 202 || *status == 200);
    if (ok && id_out)
        strcpy(id_out, id);
    json_decref(j);
    return ok;
}

bool tk_wait_scalar(const tk_env_t *env, const char *sql, long want,
                    int timeout_ms)
{
    PGconn *c = tk_db(env);
    bool ok = false;
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (tk_scalar(c, sql) == want) {
            ok = true;
            break;
        }
        usleep(20000);
    }
    PQfinish(c);
    return ok;
}

void tk_people(const tk_env_t *env, int first, int n,
               const char *settlement)
{
    PGconn *c = tk_db(env);
    cr_assert(PQresultStatus(PQexec(c, "BEGIN")) == PGRES_COMMAND_OK);
    for (int i = first; i < first + n; i++) {
        char iin[13], doc[400];
        tk_iin(i, iin);
        snprintf(doc, sizeof(doc),
                 "{\"iin\":\"%s\",\"surname\":\"Testov\","
                 "\"given_name\":\"Test\",\"birth_date\":\"1979-10-28\","
                 "\"citizen\":true,\"settlement_id\":\"%s\","
                 "\"registered_since\":\"2001-01-01\","
                 "\"disability_group\":null}", iin, settlement);
        const char *p[2] = {iin, doc};
        PGresult *r = PQexecParams(c, "INSERT INTO registry_person (iin, doc)"
                                   " VALUES ($1, $2) ON CONFLICT (iin) DO"
                                   " UPDATE SET doc = $2", 2, NULL, p, NULL,
                                   NULL, 0);
        cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
                  PQresultErrorMessage(r));
        PQclear(r);
        /* the veterans' record of the wwii category tk_application
         * claims (p.6 item 1; issue 22: a category the registry shows) */
        snprintf(doc, sizeof(doc),
                 "{\"iin\":\"%s\",\"status\":\"wwii_participant\","
                 "\"group\":null,\"since\":\"2000-01-01\",\"until\":null}",
                 iin);
        r = PQexecParams(c, "INSERT INTO registry_social_status (iin, doc)"
                         " VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, NULL,
                         p, NULL, NULL, 0);
        cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
                  PQresultErrorMessage(r));
        PQclear(r);
    }
    cr_assert(PQresultStatus(PQexec(c, "COMMIT")) == PGRES_COMMAND_OK);
    PQfinish(c);
}
