#include "mail.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define B64 sodium_base64_VARIANT_ORIGINAL

struct sbuf {
    char *p;
    size_t n, cap;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
    if (!b->p)
        return;
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        char *g = realloc(b->p, b->cap);
        if (!g) {
            free(b->p);
            b->p = NULL;
            return;
        }
        b->p = g;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(struct sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Base64 of s in lines of 76 (RFC 2045). */
static void put_b64(struct sbuf *b, const char *s)
{
    size_t n = strlen(s);
    size_t cap = sodium_base64_ENCODED_LEN(n, B64);
    char *enc = malloc(cap);
    if (!enc) {
        free(b->p);
        b->p = NULL;
        return;
    }
    sodium_bin2base64(enc, cap, (const unsigned char *)s, n, B64);
    size_t len = strlen(enc);
    for (size_t i = 0; i < len; i += 76) {
        put(b, enc + i, len - i < 76 ? len - i : 76);
        puts_(b, "\r\n");
    }
    free(enc);
}

static bool header_safe(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

char *mail_build(const struct mail *m, long long date_unix)
{
    if (!header_safe(m->to) || !header_safe(m->from) ||
        !header_safe(m->message_id) || !header_safe(m->attachment_name) ||
        !header_safe(m->subject))
        return NULL;
    struct sbuf b = {malloc(4096), 0, 4096};
    char date[64], line[512];
    time_t t = (time_t)date_unix;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    size_t sl = strlen(m->subject);
    size_t cap = sodium_base64_ENCODED_LEN(sl, B64);
    char *subj = malloc(cap);
    if (!subj) {
        free(b.p);
        return NULL;
    }
    sodium_bin2base64(subj, cap, (const unsigned char *)m->subject, sl, B64);
    snprintf(line, sizeof(line),
             "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
             "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n", m->from, m->to,
             date, m->message_id);
    puts_(&b, line);
    puts_(&b, "Subject: =?UTF-8?B?");
    puts_(&b, subj);
    puts_(&b, "?=\r\n");
    free(subj);
    snprintf(line, sizeof(line),
             "Content-Type: multipart/mixed; boundary=\"kezek-%s\"\r\n\r\n"
             "--kezek-%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n", m->message_id,
             m->message_id);
    puts_(&b, line);
    put_b64(&b, m->text);
    snprintf(line, sizeof(line),
             "--kezek-%s\r\nContent-Type: application/json; name=\"%s\"\r\n"
             "Content-Disposition: attachment; filename=\"%s\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n", m->message_id,
             m->attachment_name, m->attachment_name);
    puts_(&b, line);
    put_b64(&b, m->attachment);
    snprintf(line, sizeof(line), "--kezek-%s--\r\n", m->message_id);
    puts_(&b, line);
    return b.p;
}

struct reader {
    const char *p;
    size_t left;
};

static size_t feed(char *out, size_t size, size_t n, void *u)
{
    struct reader *r = u;
    size_t k = size * n < r->left ? size * n : r->left;
    memcpy(out, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

enum mail_rc mail_send(const char *url, const struct mail *m, char *err,
                       size_t errlen)
{
    char *msg = mail_build(m, (long long)time(NULL));
    if (!msg) {
        snprintf(err, errlen, "unsafe header value");
        return MAIL_PERMANENT;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        free(msg);
        snprintf(err, errlen, "curl init failed");
        return MAIL_RETRY;
    }
    struct reader r = {msg, strlen(msg)};
    char rcpt[300];
    snprintf(rcpt, sizeof(rcpt), "<%s>", m->to);
    struct curl_slist *to = curl_slist_append(NULL, rcpt);
    char from[300];
    snprintf(from, sizeof(from), "<%s>", m->from);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(to);
    curl_easy_cleanup(c);
    free(msg);
    if (rc == CURLE_OK)
        return MAIL_SENT;
    snprintf(err, errlen, "smtp: %s (reply %ld)", curl_easy_strerror(rc),
             code);
    return code >= 500 && code < 600 ? MAIL_PERMANENT : MAIL_RETRY;
}
