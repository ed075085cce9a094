/* log — JSON lines on stderr.
 *
 * Each line: {"ts":"…","level":"info","svc":"…","event":"…","msg":"…"}.
 * Callers never pass personal data (IIN, names, phones, e-mail): log
 * ids (application id, seq) instead. */
#ifndef KEZEK_LOG_H
#define KEZEK_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(const char *service, enum log_level min);
/* The service name given to log_init ("kezek" before). */
const char *log_service_name(void);
enum log_level log_level_parse(const char *s);

/* Writes one line. event is a short dotted name ("relay.published"),
 * fmt a printf format for the human message. Thread-safe. */
void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_msg(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

#endif
