/* webget — one HTTP GET with libcurl into memory, for the clients of
 * the public endpoints (kezek verify-log, bench-tlog). */
#ifndef KEZEK_WEBGET_H
#define KEZEK_WEBGET_H

#include <curl/curl.h>
#include <stddef.h>

/* GETs url on curl (reset first; headers h may be NULL; timeout_s the
 * whole transfer's limit): the body, NUL-terminated, its length in *len
 * (caller frees), and the status in *status (0 when none came); NULL
 * when the transfer failed (*rc says why) or memory ran out. */
char *webget(CURL *curl, const char *url, struct curl_slist *h,
             long timeout_s, size_t *len, long *status, CURLcode *rc);

#endif
