/* The portal's callback (issue 23; p.15: the result in the personal
 * cabinet, pushed to the portal): every document of the cabinet is
 * POSTed, signed (HMAC-SHA256 over Date and body with the shared
 * secret), to a receiver written as docs/operations.md tells the portal
 * to write one (tests/portal/receiver.py) — which fails, then holds a
 * request past the sender's timeout, then accepts: each document is
 * kept exactly once, none lost; a kill -9 of notify mid-callback leaves
 * it in doubt until kezek portal resend, and it is still kept once. */
#include "testkit.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static tk_env_t env;
static pid_t receiver;
static char log_path[400];

static void receiver_start(void)
{
    char secret[400], port_s[16], script[400], url[80];
    int port = tk_free_port();
    snprintf(secret, sizeof(secret), "%s/portal.secret", env.dir);
    snprintf(log_path, sizeof(log_path), "%s/portal.log", env.dir);
    FILE *f = fopen(secret, "w");
    cr_assert(f);
    fputs("a shared secret of the portal and kezek, 64 bytes long..\n", f);
    fclose(f);
    snprintf(port_s, sizeof(port_s), "%d", port);
    snprintf(script, sizeof(script), "%s/tests/portal/receiver.py",
             getenv("KEZEK_SOURCE_DIR"));
    receiver = tk_fork();
    if (receiver == 0) {
        execl("/usr/bin/python3", "python3", script, port_s, secret,
              log_path, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (up)
            break;
        usleep(50000);
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/kezek/callback", port);
    setenv("KEZEK_PORTAL_CALLBACK_URL", url, 1);
    setenv("KEZEK_PORTAL_CALLBACK_SECRET_FILE", secret, 1);
    setenv("KEZEK_PORTAL_CALLBACK_TIMEOUT_MS", "1000", 1);
}

static void setup(void)
{
    tk_env_init(&env);
    receiver_start();
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    tk_people(&env, 1, 10, "s-01-02");
}

static void teardown(void)
{
    kill(receiver, SIGTERM);
    waitpid(receiver, NULL, 0);
    unsetenv("KEZEK_PORTAL_CALLBACK_URL");
    unsetenv("KEZEK_PORTAL_CALLBACK_SECRET_FILE");
    unsetenv("KEZEK_PORTAL_CALLBACK_TIMEOUT_MS");
    tk_env_fini(&env);
}

/* How many of the receiver's log lines for delivery id have outcome
 * (NULL: any). */
static int logged(const char *id, const char *outcome)
{
    FILE *f = fopen(log_path, "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *d = json_string_value(json_object_get(j, "delivery_id"));
        const char *o = json_string_value(json_object_get(j, "outcome"));
        n += d && strcmp(d, id) == 0 && (!outcome || strcmp(o, outcome) == 0);
        json_decref(j);
    }
    if (f)
        fclose(f);
    return n;
}

static int kept(const char *id)
{
    return logged(id, "kept") + logged(id, "kept_slow");
}

static void submit(int n, char *id)
{
    char iin[13], key[32];
    long st;
    tk_iin(n, iin);
    snprintf(key, sizeof(key), "portal-%d", n);
    cr_assert(tk_submit(&env, iin, key, id, &st), "submit %d: %ld", n, st);
}

/* Failure, a timeout, then acceptance: each registration notice is kept
 * once, its delivery ends delivered; no signature was refused. */
Test(portal, each_document_kept_once_through_failure_and_timeout,
     .init = setup, .fini = teardown, .timeout = 120)
{
    char ids[3][40];
    for (int i = 0; i < 3; i++)
        submit(i + 1, ids[i]);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'portal' AND state ="
                             " 'delivered'", 3, 60000));
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, "SELECT d.notice_id, d.attempts FROM"
                            " notice_delivery d WHERE d.channel = 'portal'");
    cr_assert_eq(PQntuples(r), 3, "one callback per document");
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0);
        cr_assert_eq(kept(id), 1, "%s kept once", id);
        cr_assert_eq(logged(id, "failed"), 1);
        cr_assert_geq(atoi(PQgetvalue(r, i, 1)), 3, "failed, timed out, "
                      "then accepted");
    }
    PQclear(r);
    FILE *f = fopen(log_path, "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f))
        cr_assert_null(strstr(line, "bad_signature"), "%s", line);
    if (f)
        fclose(f);
    PQfinish(c);
}

/* kill -9 while the receiver holds a callback: in doubt, not resent by
 * itself; kezek portal resend sends it again — the receiver, keeping by
 * delivery id, has it once. */
Test(portal, kill_9_mid_callback_in_doubt_then_resent_once,
     .init = setup, .fini = teardown, .timeout = 120)
{
    char id[40], sql[300];
    submit(5, id);
    /* the second attempt is the one the receiver holds for 3 s */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notice_delivery"
             " WHERE channel = 'portal' AND state = 'sending'"
             " AND attempts = 2");
    cr_assert(tk_wait_scalar(&env, sql, 1, 30000), "held by the receiver");
    tk_signal(&env, TK_NOTIFY, SIGKILL);
    tk_start(&env, TK_NOTIFY);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'portal' AND state ="
                             " 'in_doubt'", 1, 10000));
    sleep(3); /* never resent by itself */
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM notice_delivery WHERE"
                              " channel = 'portal' AND state = 'in_doubt'"),
                 1);
    PGresult *r = PQexec(c, "SELECT notice_id FROM notice_delivery"
                            " WHERE channel = 'portal'");
    char notice[128];
    snprintf(notice, sizeof(notice), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    char cmd[600];
    setenv("KEZEK_PG", env.svc_conninfo, 1);
    snprintf(cmd, sizeof(cmd), "%s/kezek portal resend %s >/dev/null",
             getenv("KEZEK_BIN_DIR"), notice);
    cr_assert_eq(system(cmd), 0);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'portal' AND state ="
                             " 'delivered'", 1, 30000));
    cr_assert_eq(kept(notice), 1, "kept once");
    cr_assert_geq(logged(notice, "duplicate"), 1, "the resend was a repeat");
    PQfinish(c);
}
