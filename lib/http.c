#include "http.h"

#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    http_health_fn health;
    void *health_ctx;
    void *ctx;
    int max_inflight;
    _Atomic int inflight;
    metric_t *m_overload;
};

struct upload {
    char *buf;
    size_t len, cap;
    bool too_big;
};

const char *http_header(const http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_purpose(const http_req_t *req, const char *def)
{
    const char *p = http_header(req, "X-Purpose");
    if (!p || !*p || strlen(p) >= 64)
        return def;
    for (const char *c = p; *c; c++) /* printable ASCII only */
        if (*c < 0x20 || *c > 0x7e)
            return def;
    return p;
}

const char *http_query(const http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
                                       name);
}

void http_reply_text(http_resp_t *resp, int status, const char *ctype,
                     char *body_owned)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = ctype;
    resp->body = body_owned;
    resp->body_len = 0;
}

void http_reply_bytes(http_resp_t *resp, int status, const char *ctype,
                      char *body_owned, size_t len)
{
    http_reply_text(resp, status, ctype, body_owned);
    resp->body_len = len;
}

void http_reply_json(http_resp_t *resp, int status, json_t *json)
{
    char *s = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    http_reply_text(resp, status, "application/json", s);
}

void http_reply_error(http_resp_t *resp, int status, const char *code,
                      const char *message, json_t *details)
{
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (details)
        json_object_set_new(err, "details", details);
    http_reply_json(resp, status, json_pack("{s:o}", "error", err));
}

json_t *http_json_body(const http_req_t *req, http_resp_t *resp)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
        http_reply_error(resp, 415, "unsupported_media_type",
                         "the body must be application/json", NULL);
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
                           &e);
    if (!j) {
        char msg[300];
        snprintf(msg, sizeof(msg), "malformed JSON at line %d: %s", e.line,
                 e.text);
        http_reply_error(resp, 400, "malformed_json", msg, NULL);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_reply_error(resp, 400, "malformed_json",
                         "the body must be a JSON object", NULL);
        return NULL;
    }
    return j;
}

/* Matches path against pattern segment by segment; fills params. */
static bool route_match(const char *pattern, const char *path,
                        http_req_t *req, char *scratch, size_t cap)
{
    int np = 0;
    size_t used = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl == 1 && *p == '*') {
            if (sl == 0 || np == HTTP_MAX_PARAMS || used + sl + 1 > cap)
                return false;
            memcpy(scratch + used, s, sl);
            scratch[used + sl] = '\0';
            req->params[np++] = scratch + used;
            used += sl + 1;
        } else if (pl != sl || strncmp(p, s, pl) != 0) {
            return false;
        }
        p += pl;
        s += sl;
    }
    return *p == '\0' && *s == '\0';
}

static void serve(http_server_t *self, http_req_t *req, http_resp_t *resp)
{
    if (strcmp(req->path, "/healthz") == 0 &&
        strcmp(req->method, "GET") == 0) {
        char detail[256] = "ok";
        bool ok = !self->health || self->health(self->health_ctx, detail,
                                                 sizeof(detail));
        http_reply_json(resp, ok ? 200 : 503,
                        json_pack("{s:s, s:s}", "status",
                                  ok ? "ok" : "unavailable", "detail",
                                  detail));
        return;
    }
    if (strcmp(req->path, "/metrics") == 0 &&
        strcmp(req->method, "GET") == 0) {
        http_reply_text(resp, 200, "text/plain; version=0.0.4",
                        metrics_render());
        return;
    }
    char scratch[512];
    bool path_known = false;
    for (const struct http_route *r = self->routes; r && r->pattern; r++) {
        if (!route_match(r->pattern, req->path, req, scratch,
                         sizeof(scratch)))
            continue;
        path_known = true;
        if (strcmp(r->method, req->method) != 0)
            continue;
        req->route_data = r->data;
        r->fn(self->ctx, req, resp);
        return;
    }
    if (path_known)
        http_reply_error(resp, 405, "method_not_allowed",
                         "method not allowed on this resource", NULL);
    else
        http_reply_error(resp, 404, "not_found", "no such resource", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server_t *self = cls;
    struct upload *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *con_cls = up;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
            up->too_big = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!up->too_big && up->len + *upload_size > HTTP_MAX_BODY)
            up->too_big = true;
        if (!up->too_big) {
            if (up->len + *upload_size + 1 > up->cap) {
                size_t cap = (up->len + *upload_size + 1) * 2;
                char *nb = realloc(up->buf, cap);
                if (!nb)
                    return MHD_NO;
                up->buf = nb;
                up->cap = cap;
            }
            memcpy(up->buf + up->len, upload_data, *upload_size);
            up->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_req_t req = {.conn = conn, .method = method, .path = url,
                      .body = up->buf ? up->buf : "", .body_len = up->len};
    if (up->buf)
        up->buf[up->len] = '\0';
    http_resp_t resp = {0};
    int now = atomic_fetch_add(&self->inflight, 1) + 1;
    if (up->too_big) {
        http_reply_error(&resp, 413, "payload_too_large",
                         "the body exceeds 64 KiB", NULL);
    } else if (self->max_inflight > 0 && now > self->max_inflight &&
               strcmp(url, "/healthz") != 0 &&
               strcmp(url, "/metrics") != 0) {
        metric_inc(self->m_overload);
        http_reply_error(&resp, 429, "overloaded",
                         "too many requests in flight; retry shortly",
                         NULL);
        snprintf(resp.header_name, sizeof(resp.header_name), "Retry-After");
        snprintf(resp.header_value, sizeof(resp.header_value), "1");
    } else {
        serve(self, &req, &resp);
    }
    atomic_fetch_sub(&self->inflight, 1);
    if (!resp.status)
        http_reply_error(&resp, 500, "internal", "no reply", NULL);

    const char *body = resp.body ? resp.body : "";
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        resp.body_len ? resp.body_len : strlen(body), (void *)body,
        MHD_RESPMEM_MUST_COPY);
    if (!mr) {
        free(resp.body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type",
                            resp.content_type ? resp.content_type
                                              : "application/json");
    if (resp.header_name[0])
        MHD_add_response_header(mr, resp.header_name, resp.header_value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp.status, mr);
    MHD_destroy_response(mr);
    free(resp.body);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    char labels[64];
    snprintf(labels, sizeof(labels), "method=\"%s\",code=\"%d\"",
             strlen(method) < 8 ? method : "OTHER", resp.status);
    metric_inc(metrics_counter("kezek_http_requests_total",
                               "HTTP requests served", labels));
    metric_observe(metrics_histogram("kezek_http_request_seconds",
                                     "HTTP request latency", NULL, NULL, 0),
                   (double)(t1.tv_sec - t0.tv_sec) +
                       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)conn;
    (void)t;
    struct upload *up = *con_cls;
    if (up) {
        free(up->buf);
        free(up);
        *con_cls = NULL;
    }
}

http_server_t *http_start(const char *bind_addr, int port, int threads,
                          int max_inflight, const struct http_route *routes,
                          http_health_fn health, void *health_ctx,
                          void *ctx, char *err, size_t errlen)
{
    http_server_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->routes = routes;
    self->health = health;
    self->health_ctx = health_ctx;
    self->ctx = ctx;
    self->max_inflight = max_inflight;
    self->m_overload = metrics_counter("kezek_http_overload_total",
        "Requests refused with 429 because too many were in flight", NULL);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr ? bind_addr : "127.0.0.1",
                  &sa.sin_addr) != 1) {
        snprintf(err, errlen, "http: bad bind address");
        free(self);
        return NULL;
    }
    /* a pool of workers, or a thread per connection (threads 0): then a
     * request that waits (intake's group commit) holds up no other
     * connection */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
        (threads > 0 ? MHD_USE_EPOLL_LINUX_ONLY
                     : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL);
    struct MHD_OptionItem mode[] = {
        threads > 0
            ? (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                      threads, NULL}
            : (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                      2 * max_inflight, NULL},
        {MHD_OPTION_END, 0, NULL}};
    self->d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_ARRAY, mode,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, self,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_END);
    if (!self->d) {
        snprintf(err, errlen, "http: cannot listen on port %d", port);
        free(self);
        return NULL;
    }
    return self;
}

void http_stop(http_server_t **self_p)
{
    http_server_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon(self->d);
    free(self);
    *self_p = NULL;
}
