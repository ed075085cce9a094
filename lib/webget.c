/* webget — one HTTP GET with libcurl into memory (webget.h). */
#include "webget.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct body {
    char *p;
    size_t n;
    bool oom;
};

static size_t take(char *d, size_t sz, size_t n, void *ctx)
{
    struct body *b = ctx;
    char *p = realloc(b->p, b->n + sz * n + 1);
    if (!p) {
        b->oom = true;
        return 0;
    }
    memcpy(p + b->n, d, sz * n);
    b->p = p;
    b->n += sz * n;
    b->p[b->n] = '\0';
    return sz * n;
}

char *webget(CURL *curl, const char *url, struct curl_slist *h,
             long timeout_s, size_t *len, long *status, CURLcode *rc)
{
    struct body b = {0};
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    *rc = curl_easy_perform(curl);
    *status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    if (*rc != CURLE_OK || b.oom || !b.p) {
        free(b.p);
        *len = 0;
        return *rc == CURLE_OK && !b.oom ? calloc(1, 1) : NULL;
    }
    *len = b.n;
    return b.p;
}
