/* mail — e-mail delivery of a signed notice over SMTP (libcurl). */
#ifndef KEZEK_MAIL_H
#define KEZEK_MAIL_H

#include <stdbool.h>
#include <stddef.h>

struct mail {
    const char *to;
    const char *from;
    const char *message_id;  /* without angle brackets */
    const char *subject;     /* UTF-8 */
    const char *text;        /* UTF-8, both languages */
    const char *attachment;  /* the signed message JSON */
    const char *attachment_name;
};

enum mail_rc { MAIL_SENT, MAIL_RETRY, MAIL_PERMANENT };

/* Builds the MIME message (multipart: text + JSON attachment); the
 * caller frees. NULL when a header value is unsafe (CR, LF). */
char *mail_build(const struct mail *m, long long date_unix);

/* Sends m through the relay at url ("smtp://host:port"). err gets the
 * reason when it fails: MAIL_RETRY for what may pass later (no
 * connection, 4xx), MAIL_PERMANENT for a refusal (5xx). */
enum mail_rc mail_send(const char *url, const struct mail *m, char *err,
                       size_t errlen);

#endif
