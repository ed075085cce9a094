/* testkit — real Postgres, Redis and service processes for tests.
 *
 * deploy/test starts a throwaway Postgres and Redis and exports
 * KEZEK_TEST_PG (conninfo without dbname, as the superuser: the tests'
 * own fixtures), KEZEK_TEST_PG_SERVICES (the same without a user: the
 * services and the kezek tool connect as their own roles, issue 21),
 * PGPASSFILE, KEZEK_TEST_REDIS (unix socket address) and
 * KEZEK_BIN_DIR. Each test gets its own database
 * (cloned from kezek_template, migrated and with reference data), its
 * own Redis database, free ports and its own service processes, so
 * Criterion may run tests in parallel. */
#ifndef KEZEK_TESTKIT_H
#define KEZEK_TESTKIT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

enum { TK_INTAKE, TK_ELIGIBILITY, TK_QUEUE, TK_NOTIFY, TK_NSVC };

typedef struct tk_env {
    char conninfo[512];      /* the superuser's */
    char svc_conninfo[512];  /* no user: each program its own role */
    char redis[320];
    char bus_endpoints[256]; /* "intake@tcp://127.0.0.1:port,…" */
    char bus_keys[300];      /* the services' CURVE keys */
    int http_port[TK_NSVC];
    int bus_port[TK_NSVC];
    pid_t pid[TK_NSVC];
    char keyfile[300];
    char dir[256];
    char office[128], portal[128]; /* tokens: office:a-01-02, portal */
    int batch_size;
    char smtp_url[64];  /* set before tk_start(TK_NOTIFY) to send mail */
    int kannel_base;    /* tk_kannel_start: its first port (0: none) */
    char sms_dir[320];  /* … and where its fake SMSC writes (new/) */
} tk_env_t;

extern const char *const tk_svc_names[TK_NSVC];

/* A fresh database, Redis db, ports, signing key and tokens. */
void tk_env_init(tk_env_t *env);
/* Stops every service (SIGTERM) and removes the temp dir. */
void tk_env_fini(tk_env_t *env);

/* Starts a Kannel with its fake SMSC (deploy/kannel) on free ports in
 * env's directory, and points notify at it (KEZEK_SMS_URL,
 * KEZEK_SMS_PASSWORD_FILE in this process's environment: call it
 * before tk_start(TK_NOTIFY)). tk_env_fini stops it. */
void tk_kannel_start(tk_env_t *env);
/* Sends sig to Kannel's process name (bearerbox, smsbox, sink). */
void tk_kannel_signal(const tk_env_t *env, const char *name, int sig);
/* The messages the fake SMSC received (SMS_DIR/new), oldest first, as
 * a JSON array of {"from", "to", "text", "coding", "segments"}. */
json_t *tk_sms_received(const tk_env_t *env);

/* Starts service i and waits for /healthz. */
void tk_start(tk_env_t *env, int i);
/* fork() for a child that must not outlive the test, whatever assertion
 * ends it: in the child, it is killed when the test's process dies. */
pid_t tk_fork(void);
/* Sends sig; for SIGTERM waits for exit and returns the exit status. */
int tk_signal(tk_env_t *env, int i, int sig);

/* A free loopback port outside the ephemeral range. */
int tk_free_port(void);

PGconn *tk_db(const tk_env_t *env);
/* Runs sql as the superuser in the cluster's postgres database (CREATE
 * DATABASE, ALTER DATABASE, pg_terminate_backend); asserts success. */
void tk_admin(const char *sql);
/* The first column of the first row of sql, as a long (-1 on error). */
long tk_scalar(PGconn *c, const char *sql);

/* A token for principal stored in env's database. */
void tk_token(const tk_env_t *env, const char *principal, char *out);

/* HTTP to 127.0.0.1:port; returns the parsed JSON reply (or NULL) and
 * the status. extra: NULL or "Name: value", several separated by '\n'. */
json_t *tk_http(const char *method, int port, const char *path,
                const char *token, const char *extra, const char *body,
                long *status);

/* The same, the body as text (caller frees; NULL when none). */
char *tk_http_text(const char *method, int port, const char *path,
                   const char *token, const char *extra, const char *body,
                   long *status);

/* The value of one series ("name{labels}" as printed) on a service's
 * /metrics; -1 when absent. */
double tk_metric(const tk_env_t *env, int svc, const char *series);

/* A valid IIN for serial n (1 ≤ n < 10000), born 1979-10-28. */
void tk_iin(int n, char *out);

/* Registers the citizens tk_iin(first) … tk_iin(first + n - 1) in the
 * population register, living permanently in settlement (p.6). */
void tk_people(const tk_env_t *env, int first, int n,
               const char *settlement);

/* A complete application for the office of a-01-02 (wwii). */
char *tk_application(const char *iin);

/* POSTs an application; returns the application id (static buffer per
 * call of out) or false. */
bool tk_submit(const tk_env_t *env, const char *iin, const char *key,
               char *id_out, long *status);

/* Polls until the SQL scalar reaches want or timeout_ms passes. */
bool tk_wait_scalar(const tk_env_t *env, const char *sql, long want,
                    int timeout_ms);

#endif
