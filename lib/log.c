#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char log_service[32] = "kezek";
static enum log_level log_min = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, enum log_level min)
{
    snprintf(log_service, sizeof(log_service), "%s", service);
    log_min = min;
}

const char *log_service_name(void)
{
    return log_service;
}

enum log_level log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcasecmp(s, level_names[i]) == 0)
            return (enum log_level)i;
    return LOG_INFO;
}

/* Appends s to out as JSON string content; truncates, never overflows. */
static size_t json_escape(char *out, size_t cap, size_t n, const char *s)
{
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < log_min)
        return;
    char msg[1024], line[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = (size_t)snprintf(line, sizeof(line),
        "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
        "\"svc\":\"%s\",\"event\":\"", tm.tm_year + 1900, tm.tm_mon + 1,
        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        ts.tv_nsec / 1000000, level_names[lvl], log_service);
    n = json_escape(line, sizeof(line) - 4, n, event);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"msg\":\"");
    n = json_escape(line, sizeof(line) - 4, n, msg);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}\n");
    fwrite(line, 1, n, stderr);
}
