/* E-mail delivery (p.15): the signed notice reaches a real SMTP sink
 * (aiosmtpd storing a Maildir) once, with both languages and the signed
 * document attached; a sink that is down is retried; kill -9 of notify
 * mid-delivery never yields two messages with one Message-ID. */
#include "notice.h"
#include "testkit.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

static tk_env_t env;
static pid_t sink;
static int sink_port;
static char maildir[400];

static void sink_start(void)
{
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", sink_port);
    sink = fork();
    cr_assert(sink >= 0);
    if (sink == 0) {
        execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l",
              listen, "-c", "aiosmtpd.handlers.Mailbox", maildir,
              (char *)NULL);
        _exit(127);
    }
    /* wait until it listens */
    for (int i = 0; i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)sink_port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (ok)
            return;
        usleep(50000);
    }
    cr_assert_fail("the SMTP sink did not start");
}

static void sink_stop(void)
{
    kill(sink, SIGTERM);
    waitpid(sink, NULL, 0);
}

static void setup(void)
{
    tk_env_init(&env);
    snprintf(maildir, sizeof(maildir), "%s/mail", env.dir);
    sink_port = tk_free_port();
    snprintf(env.smtp_url, sizeof(env.smtp_url), "smtp://127.0.0.1:%d",
             sink_port);
    tk_people(&env, 1, 40, "s-01-02");
}

static void teardown(void)
{
    tk_env_fini(&env);
    if (sink > 0)
        sink_stop();
}

/* Submits an application with an e-mail address; returns its id. */
static void submit(int n, char *id)
{
    char iin[13], body[900], key[32];
    long st;
    tk_iin(n, iin);
    snprintf(body, sizeof(body),
        "{\"applicant\":{\"iin\":\"%s\",\"surname\":\"T\","
        "\"given_name\":\"T\",\"email\":\"citizen%d@example.kz\"},"
        "\"settlement_id\":\"s-01-02\",\"authority_id\":\"a-01-02\","
        "\"fund\":\"communal\",\"category\":\"wwii\",\"need_grounds\":[1],"
        "\"documents\":[{\"code\":\"application_form\"}]}", iin, n);
    snprintf(key, sizeof(key), "Idempotency-Key: mail-%d", n);
    json_t *j = tk_http("POST", env.http_port[TK_INTAKE], "/v1/applications",
                        env.office, key, body, &st);
    cr_assert_eq(st, 202);
    strcpy(id, json_string_value(json_object_get(j, "application_id")));
    json_decref(j);
}

/* The messages in the Maildir (new/ and cur/), each read whole. */
static int read_mail(char **out, int max)
{
    int n = 0;
    static const char *const sub[] = {"new", "cur"};
    for (int s = 0; s < 2; s++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", maildir, sub[s]);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) && n < max) {
            if (e->d_name[0] == '.')
                continue;
            char file[800];
            snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
            FILE *f = fopen(file, "r");
            size_t cap = 0;
            out[n] = NULL;
            if (f && getdelim(&out[n], &cap, '\0', f) > 0)
                n++;
            if (f)
                fclose(f);
        }
        if (d)
            closedir(d);
    }
    return n;
}

static int count_mail(void)
{
    char *m[256];
    int n = read_mail(m, 256);
    for (int i = 0; i < n; i++)
        free(m[i]);
    return n;
}

/* The base64 body of the part whose headers contain marker. */
static char *part(const char *msg, const char *marker)
{
    const char *p = strstr(msg, marker);
    if (!p)
        return NULL;
    p = strstr(p, "\n\n") ? strstr(p, "\n\n") + 2 : strstr(p, "\r\n\r\n") + 4;
    const char *end = strstr(p, "--kezek-");
    char *clean = malloc((size_t)(end - p) + 1);
    size_t k = 0;
    for (const char *q = p; q < end; q++)
        if (*q != '\r' && *q != '\n')
            clean[k++] = *q;
    clean[k] = '\0';
    unsigned char *bin = malloc(k + 1);
    size_t binlen = 0;
    cr_assert_eq(sodium_base642bin(bin, k, clean, k, NULL, &binlen, NULL,
                                   sodium_base64_VARIANT_ORIGINAL), 0);
    bin[binlen] = '\0';
    free(clean);
    return (char *)bin;
}

Test(email, delivered_once_signed_in_both_languages, .init = setup,
     .fini = teardown, .timeout = 90)
{
    sink_start();
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    char id[40];
    submit(1, id);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'email' AND state = 'sent'",
                             1, 20000));
    char *m[4];
    int n = 0;
    for (int i = 0; i < 50 && n == 0; i++) {
        n = read_mail(m, 4);
        if (!n)
            usleep(100000);
    }
    cr_assert_eq(n, 1, "exactly one message");
    char want[128];
    snprintf(want, sizeof(want), "Message-ID: <%s-registration_notice@"
             "kezek.kz>", id);
    cr_assert(strstr(m[0], want), "deterministic Message-ID");
    cr_assert(strstr(m[0], "To: <citizen1@example.kz>"));
    char *text = part(m[0], "Content-Type: text/plain");
    cr_assert(text);
    cr_assert(strstr(text, "Кезектегі реттік нөміріңіз: 1"), "Kazakh");
    cr_assert(strstr(text, "порядковый номер в очереди: 1"), "Russian");
    char *att = part(m[0], "Content-Disposition: attachment");
    json_t *saved = json_loads(att, 0, NULL);
    cr_assert(saved, "the attachment is the signed message");
    PGconn *c = tk_db(&env);
    PGresult *r = PQexec(c, "SELECT public_key FROM signing_key"
                            " WHERE key_id = 'k-test'");
    cr_assert(notice_verify(json_object_get(saved, "document"),
                            json_string_value(json_object_get(saved,
                                                              "signature")),
                            PQgetvalue(r, 0, 0)));
    PQclear(r);
    /* the application shows delivery (p.15: the result in the cabinet),
     * and the e-mail that left is reported — the only NoticeDelivered
     * (the cabinet's delivery is the notice itself, migrations/013) */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM result_delivery",
                             1, 10000));
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM event_log"
                             " WHERE type = 4", 1, 10000));
    PQfinish(c);
    json_decref(saved);
    free(att);
    free(text);
    free(m[0]);
}

Test(email, sink_down_then_up_delivers_once, .init = setup,
     .fini = teardown, .timeout = 90)
{
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    char id[40];
    submit(2, id);
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'email' AND attempts >= 1"
                             " AND state = 'pending'", 1, 20000),
              "a refused connection is retried later");
    PGconn *c = tk_db(&env);
    cr_assert_eq(tk_scalar(c, "SELECT count(*) FROM notice_delivery"
                              " WHERE last_error IS NOT NULL"), 1);
    /* bring the retry forward instead of waiting for the back-off */
    sink_start();
    PQclear(PQexec(c, "UPDATE notice_delivery SET next_attempt_at = now()"));
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'email' AND state = 'sent'",
                             1, 20000));
    usleep(300000);
    cr_assert_eq(count_mail(), 1);
    PQfinish(c);
}

Test(email, kill_9_mid_delivery_never_duplicates_a_message_id,
     .init = setup, .fini = teardown, .timeout = 120)
{
    sink_start();
    for (int i = 0; i < TK_NSVC; i++)
        tk_start(&env, i);
    char id[40];
    for (int n = 10; n < 30; n++) {
        submit(n, id);
        if (n % 5 == 0) {
            tk_signal(&env, TK_NOTIFY, SIGKILL);
            tk_start(&env, TK_NOTIFY);
        }
    }
    /* every e-mail ends sent, or in doubt (never resent by itself) */
    cr_assert(tk_wait_scalar(&env, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'email' AND state IN"
                             " ('sent', 'in_doubt')", 20, 30000));
    usleep(300000);
    char *m[64];
    int n = read_mail(m, 64);
    PGconn *c = tk_db(&env);
    /* every recorded send is in the Maildir; an in-doubt one may or may
     * not have reached it, but never twice */
    long sent = tk_scalar(c, "SELECT count(*) FROM notice_delivery"
                             " WHERE channel = 'email' AND state = 'sent'");
    long doubt = tk_scalar(c, "SELECT count(*) FROM notice_delivery"
                              " WHERE channel = 'email'"
                              " AND state = 'in_doubt'");
    cr_assert(n >= sent && n <= sent + doubt, "%d messages, %ld sent, %ld "
              "in doubt", n, sent, doubt);
    for (int i = 0; i < n; i++) {
        const char *a = strstr(m[i], "Message-ID: ");
        cr_assert(a);
        for (int k = 0; k < i; k++) {
            const char *b = strstr(m[k], "Message-ID: ");
            cr_assert_neq(strncmp(a, b, strcspn(a, "\r\n")), 0,
                          "a Message-ID appears twice");
        }
    }
    for (int i = 0; i < n; i++)
        free(m[i]);
    /* and the cabinet holds each notice once */
    cr_assert_eq(tk_scalar(c, "SELECT count(*) - count(DISTINCT"
                              " (application_id, kind)) FROM notice"), 0);
    PQfinish(c);
}
