/* audit — who read whose personal data through the API, and why
 * (p.17: confidentiality). Rows are queued in memory and written by a
 * background thread every 100 ms (at once while reads keep it busy), in
 * one set-based INSERT per 2,000 rows, so a read never waits for the
 * audit; a crash can lose at most that interval. Each row carries the
 * time of the read itself. */
#ifndef KEZEK_AUDIT_H
#define KEZEK_AUDIT_H

#include "http.h"

#include <signal.h>
#include <stdbool.h>

/* Starts the writer (conninfo); stop is watched for shutdown, after
 * which the queue is flushed. False when it cannot start (no memory, no
 * thread): the service must not serve reads then. */
bool audit_start(const char *conninfo, volatile sig_atomic_t *stop)
    __attribute__((warn_unused_result));
void audit_stop(void);

/* Records one read. purpose: the X-Purpose header or a default naming
 * the endpoint; subject_iin may be NULL. False when the read cannot be
 * recorded: the queue is full (Postgres has not taken rows for a while;
 * counted in kezek_audit_refused_total). A process that never started
 * the audit (tools) records nothing and gets true. */
bool audit_read(const char *principal, const char *purpose,
                const char *resource, const char *subject_iin)
    __attribute__((warn_unused_result));

/* For a handler that has set its reply (sent when it returns): records
 * the read the reply answers, or, when it cannot be recorded, replaces
 * the reply with 503 — no personal data leaves unrecorded (p.17). Call
 * it after the reply is set. */
void audit_reply(http_resp_t *resp, const char *principal,
                 const char *purpose, const char *resource,
                 const char *subject_iin);

/* audit_reply for a list: one read per person of rows[0..n) — the IIN
 * in column col of the result r — under one purpose and resource. */
struct pg_result;
void audit_reply_rows(http_resp_t *resp, const char *principal,
                      const char *purpose, const char *resource,
                      const struct pg_result *r, int n, int col);

#endif
