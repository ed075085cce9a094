#include "http.h"

#include "event.h"
#include "log.h"
#include "metrics.h"
#include "text.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* methods and status codes as metric labels: a fixed set, whatever a
 * client sends (an arbitrary method never becomes a series) */
enum { M_GET, M_POST, M_PUT, M_DELETE, M_OTHER, M_NMETHODS };
static const char *const method_label[M_NMETHODS] = {"GET", "POST", "PUT",
                                                     "DELETE", "OTHER"};
#define STATUS_MIN 100
#define STATUS_MAX 599

/* An open connection, from MHD's start notice to its close notice:
 * since_ms is when it began waiting for a request (opened, or its last
 * reply sent), 0 while a request is being served. */
struct conn_track {
    int fd;
    _Atomic long since_ms;
    bool cut;
    struct conn_track *prev, *next;
};

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    struct http_hooks hooks;
    void *ctx;
    struct http_limits lim;
    _Atomic int inflight;
    _Atomic int open_conns;
    metric_t *m_overload, *m_full, *m_cut, *m_invalid, *m_seconds,
        *m_retried;
    _Atomic(metric_t *) m_requests[M_NMETHODS][STATUS_MAX - STATUS_MIN + 1];
    /* the request deadline's watchdog */
    pthread_mutex_t conns_lock;
    struct conn_track *conns;
    pthread_t watchdog;
    _Atomic bool stopping;
};

struct upload {
    char *buf;
    size_t len, cap;
    bool too_big;
    const char *refused;     /* why the request is refused before reading */
};

const char *http_header(const http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static char trusted_proxies[512];

static void http_peer_addr(const http_req_t *req, char *out, size_t len);

void http_set_trusted_proxies(const char *list)
{
    /* kept as " a b c " for a whole-word match */
    size_t n = 0;
    trusted_proxies[n++] = ' ';
    for (const char *s = list ? list : "";
         *s && n + 2 < sizeof(trusted_proxies); s++)
        trusted_proxies[n++] = (*s == ',' || *s == '\t') ? ' ' : *s;
    trusted_proxies[n++] = ' ';
    trusted_proxies[n] = '\0';
}

/* The last address of X-Forwarded-For (the one our proxy appended). */
static bool forwarded_for(const http_req_t *req, char *out, size_t len)
{
    const char *xff = http_header(req, "X-Forwarded-For");
    if (!xff)
        return false;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    size_t n = strcspn(last, " ");
    if (n == 0 || n >= len)
        return false;
    memcpy(out, last, n);
    out[n] = '\0';
    return true;
}

void http_client_addr(const http_req_t *req, char *out, size_t len)
{
    out[0] = '\0';
    http_peer_addr(req, out, len);
    if (!out[0] || trusted_proxies[0] == '\0')
        return;
    char word[208];
    snprintf(word, sizeof(word), " %s ", out);
    if (strstr(trusted_proxies, word))
        forwarded_for(req, out, len);
}

static void http_peer_addr(const http_req_t *req, char *out, size_t len)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  out, (socklen_t)len);
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

int http_limit(const http_req_t *req, http_resp_t *resp, int def, int max)
{
    const char *s = http_query(req, "limit");
    char *end;
    long n = s ? strtol(s, &end, 10) : def;
    if (s && (*s < '0' || *s > '9' || *end || n < 1 || n > max)) {
        char msg[40];
        snprintf(msg, sizeof(msg), "limit: 1–%d", max);
        http_reply_error(resp, 400, "invalid_field", msg,
                         json_pack("{s:s}", "field", "limit"));
        return 0;
    }
    return (int)n;
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
    if (!err) /* a message that is not UTF-8 (found by fuzz_validate) */
        err = json_pack("{s:s, s:s}", "code", code, "message",
                        "the request is not acceptable");
    if (details)
        json_object_set_new(err, "details", details);
    http_reply_json(resp, status, json_pack("{s:o}", "error", err));
}

const char *http_idempotency_key(const http_req_t *req, http_resp_t *resp)
{
    const char *key = http_header(req, "Idempotency-Key");
    size_t n = key ? strlen(key) : 0;
    bool ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = key[i] >= 0x20 && key[i] <= 0x7e;
    if (ok)
        return key;
    http_reply_error(resp, 400, "invalid_idempotency_key",
                     "header Idempotency-Key of 1–64 printable ASCII "
                     "characters is required", NULL);
    return NULL;
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

const char *http_text_problem(const char *s, size_t len, size_t max)
{
    return text_problem(s, len, max, false);
}

/* An identifier in a path: letters, digits and "._:-" (ids, IINs,
 * dates, "2026-01-05.csv"). */
static bool segment_ok(const char *s, size_t n)
{
    if (n == 0 || n > HTTP_SEGMENT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return false;
    }
    return true;
}

int http_route_match(const char *pattern, const char *path,
                     const char **params, int *nparams, char *scratch,
                     size_t cap)
{
    int np = 0;
    bool bad = false;
    size_t used = 0;
    const char *p = pattern, *s = path;
    *nparams = 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl == 2 && p[0] == '*' && p[1] == '*' && p[2] == '\0') {
            /* the rest of the path, one or more segments (static.h) */
            size_t rl = strlen(s);
            bool ok = rl > 0 && np < HTTP_MAX_PARAMS && used + rl + 1 <= cap;
            for (const char *q = s; ok && q < s + rl;) {
                const char *e = strchr(q, '/');
                size_t ql = e ? (size_t)(e - q) : strlen(q);
                ok = ql > 0 && q[0] != '.' && segment_ok(q, ql);
                q += ql + (e ? 1 : 0);
                if (e && q == s + rl)
                    ok = false; /* a trailing slash */
            }
            if (rl == 0)
                return 0;
            if (!ok)
                return -1;
            memcpy(scratch + used, s, rl + 1);
            params[np++] = scratch + used;
            *nparams = np;
            return bad ? -1 : 1;
        } else if (pl == 1 && *p == '*') {
            if (sl == 0 || np == HTTP_MAX_PARAMS)
                return 0;
            if (!segment_ok(s, sl) || used + sl + 1 > cap) {
                bad = true;
            } else {
                memcpy(scratch + used, s, sl);
                scratch[used + sl] = '\0';
                params[np++] = scratch + used;
                used += sl + 1;
            }
        } else if (pl != sl || strncmp(p, s, pl) != 0) {
            return 0;
        }
        p += pl;
        s += sl;
    }
    if (*p != '\0' || *s != '\0')
        return 0;
    if (bad)
        return -1;
    *nparams = np;
    return 1;
}

static void probe(http_server_t *self, http_health_fn fn,
                  http_resp_t *resp)
{
    char detail[256] = "ok";
    bool ok = !fn || fn(self->hooks.health_ctx, detail, sizeof(detail));
    http_reply_json(resp, ok ? 200 : 503,
                    json_pack("{s:s, s:s}", "status",
                              ok ? "ok" : "unavailable", "detail", detail));
}

static void route(http_server_t *self, http_req_t *req, http_resp_t *resp);

/* A GET whose handler answered 503 because its database connection was
 * gone (a restart, a failover) is tried once more: the pool has dropped
 * the stale connections by then, and a read must not fail for that. */
static void serve(http_server_t *self, http_req_t *req, http_resp_t *resp)
{
    if (self->hooks.before)
        self->hooks.before();
    route(self, req, resp);
    if (resp->status == 503 && strcmp(req->method, "GET") == 0 &&
        self->hooks.retry_read && self->hooks.retry_read()) {
        metric_inc(self->m_retried);
        free(resp->body);
        memset(resp, 0, sizeof(*resp));
        if (self->hooks.before)
            self->hooks.before();
        route(self, req, resp);
    }
}

static void route(http_server_t *self, http_req_t *req, http_resp_t *resp)
{
    if (strcmp(req->method, "GET") == 0 &&
        (strcmp(req->path, "/healthz") == 0 ||
         strcmp(req->path, "/readyz") == 0)) {
        probe(self, req->path[1] == 'h' ? self->hooks.health
                                        : self->hooks.ready, resp);
        return;
    }
    if (strcmp(req->path, "/metrics") == 0 &&
        strcmp(req->method, "GET") == 0) {
        http_reply_text(resp, 200, "text/plain; version=0.0.4",
                        metrics_render());
        return;
    }
    char scratch[512];
    bool path_known = false, bad_segment = false;
    for (const struct http_route *r = self->routes; r && r->pattern; r++) {
        int np, m = http_route_match(r->pattern, req->path, req->params,
                                     &np, scratch, sizeof(scratch));
        if (m < 0)
            bad_segment = true;
        if (m <= 0)
            continue;
        path_known = true;
        /* HEAD is a GET without its body (libmicrohttpd drops it) */
        if (strcmp(r->method, req->method) != 0 &&
            !(strcmp(req->method, "HEAD") == 0 &&
              strcmp(r->method, "GET") == 0))
            continue;
        req->route_data = r->data;
        r->fn(self->ctx, req, resp);
        return;
    }
    if (path_known)
        http_reply_error(resp, 405, "method_not_allowed",
                         "method not allowed on this resource", NULL);
    else if (bad_segment)
        http_reply_error(resp, 400, "invalid_request",
                         "a path segment is not a valid identifier "
                         "(letters, digits, '.', '_', ':', '-'; at most "
                         "128)", json_pack("{s:s}", "where", "path"));
    else
        http_reply_error(resp, 404, "not_found", "no such resource", NULL);
}

struct arg_check {
    const char *problem, *where;
    char name[64];
};

/* Every header and query parameter: valid UTF-8, no NUL or control
 * character, bounded. The name is quoted back only when it is clean. */
static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
    struct arg_check *c = cls;
    bool header = kind == MHD_HEADER_KIND;
    const char *p = text_problem(key, strlen(key), 256, false);
    if (!p && value)
        p = text_problem(value, strlen(value), header ? 8192 : 1024, header);
    if (!p)
        return MHD_YES;
    c->problem = p;
    c->where = header ? "header" : "query";
    if (!text_problem(key, strlen(key), sizeof(c->name) - 1, false))
        snprintf(c->name, sizeof(c->name), "%s", key);
    return MHD_NO;
}

/* The request line and headers, checked before any body is read:
 * false with resp filled (400) when something is not acceptable. */
static bool boundary_ok(struct MHD_Connection *conn, const char *url,
                        http_resp_t *resp)
{
    struct arg_check c = {0};
    const char *p = text_problem(url, strlen(url), 2048, false);
    if (p) {
        c.problem = p;
        c.where = "path";
    } else {
        MHD_get_connection_values(conn, MHD_HEADER_KIND, check_arg, &c);
        if (!c.problem)
            MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND,
                                      check_arg, &c);
    }
    if (!c.problem)
        return true;
    char msg[160];
    snprintf(msg, sizeof(msg), "the request's %s %s%s%s", c.where,
             c.name[0] ? c.name : "", c.name[0] ? " " : "", c.problem);
    json_t *d = json_pack("{s:s}", "where", c.where);
    if (c.name[0])
        json_object_set_new(d, "name", json_string(c.name));
    http_reply_error(resp, 400, "invalid_request", msg, d);
    return false;
}

/* The requests counter of (method, status), found without a lock once
 * it exists. */
static metric_t *request_counter(http_server_t *self, const char *method,
                                 int status)
{
    int m = M_OTHER;
    for (int i = 0; i < M_OTHER; i++)
        if (strcmp(method, method_label[i]) == 0)
            m = i;
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500;
    _Atomic(metric_t *) *slot = &self->m_requests[m][status - STATUS_MIN];
    metric_t *c = atomic_load_explicit(slot, memory_order_acquire);
    if (!c) {
        char labels[64];
        snprintf(labels, sizeof(labels), "method=\"%s\",code=\"%d\"",
                 method_label[m], status);
        c = metrics_counter("kezek_http_requests_total",
                            "HTTP requests served", labels);
        atomic_store_explicit(slot, c, memory_order_release);
    }
    return c;
}

static struct conn_track *track_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Queues resp (freeing its body) and counts it. */
/* The texts of error messages in Kazakh and Russian (templates/
 * errors.json; http_error_texts_load), NULL: English only. Set before
 * the servers start, read only afterwards. */
static json_t *error_texts;

bool http_error_texts_load(const char *path, char *err, size_t len)
{
    json_error_t e;
    json_t *t = json_load_file(path, 0, &e);
    if (!json_is_object(json_object_get(t, "codes")) ||
        !json_is_object(json_object_get(t, "messages"))) {
        snprintf(err, len, "%s: %s", path, t ? "needs codes and messages"
                                             : e.text);
        json_decref(t);
        return false;
    }
    json_decref(error_texts);
    error_texts = t;
    return true;
}

const char *http_accept_language(const char *header)
{
    /* the best of kk, ru and en by q (RFC 9110 12.5.4); a region
     * ("ru-RU") counts as its language; ties keep the first; none of the
     * three: en */
    const char *best = "en";
    double best_q = -1;
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        char tag[8] = "";
        size_t tl = strcspn(p, "-;, ");
        if (tl < sizeof(tag) && p + tl <= end)
            memcpy(tag, p, tl);
        double q = 1;
        const char *qs = strstr(p, ";q=");
        if (qs && qs < end)
            q = strtod(qs + 3, NULL);
        const char *lang = strcasecmp(tag, "kk") == 0   ? "kk"
                           : strcasecmp(tag, "ru") == 0 ? "ru"
                           : strcasecmp(tag, "en") == 0 ? "en"
                                                        : NULL;
        if (lang && q > 0 && q > best_q) {
            best = lang;
            best_q = q;
        }
        p = end;
    }
    return best;
}

/* An error body in the language the request asks for (Accept-Language
 * kk | ru): its message as errors.json has it for this message, else
 * for its code, the English kept in message_en; the code unchanged. */
static void localize(struct MHD_Connection *conn, http_resp_t *resp)
{
    if (!error_texts || resp->status < 400 || resp->body_len || !resp->body ||
        (resp->content_type &&
         strcmp(resp->content_type, "application/json") != 0))
        return;
    const char *lang = http_accept_language(MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, "Accept-Language"));
    if (strcmp(lang, "en") == 0)
        return;
    json_t *doc = json_loads(resp->body, 0, NULL);
    json_t *e = json_object_get(doc, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    json_t *t = json_object_get(json_object_get(json_object_get(
        error_texts, "messages"), msg ? msg : ""), lang);
    if (!t)
        t = json_object_get(json_object_get(json_object_get(
            error_texts, "codes"), code ? code : ""), lang);
    char *out = NULL;
    if (json_is_string(t) && msg) {
        json_object_set_new(e, "message_en", json_string(msg));
        json_object_set(e, "message", t);
        out = json_dumps(doc, JSON_COMPACT);
    }
    if (out) {
        free(resp->body);
        resp->body = out;
    }
    json_decref(doc);
}

static enum MHD_Result send_reply(http_server_t *self,
                                  struct MHD_Connection *conn,
                                  const char *method, http_resp_t *resp,
                                  const struct timespec *t0)
{
    if (!resp->status)
        http_reply_error(resp, 500, "internal", "no reply", NULL);
    localize(conn, resp);
    const char *body = resp->body ? resp->body : "";
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        resp->body_len ? resp->body_len : strlen(body), (void *)body,
        MHD_RESPMEM_MUST_COPY);
    if (!mr) {
        free(resp->body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type",
                            resp->content_type ? resp->content_type
                                               : "application/json");
    if (resp->header_name[0])
        MHD_add_response_header(mr, resp->header_name, resp->header_value);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    /* a file (static.h) is revalidated; an answer of the API, which may
     * hold personal data, is kept by no cache (p.17) */
    MHD_add_response_header(mr, "Cache-Control",
                            resp->cache ? resp->cache
                            : strcmp(resp->header_name, "ETag") == 0
                                ? "no-cache" : "no-store");
    if (resp->content_type &&
        strncmp(resp->content_type, "text/html", 9) == 0)
        MHD_add_response_header(mr, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data: "
                                "blob:; frame-src 'self' blob:; object-src "
                                "'self' blob:; base-uri 'none'; form-action "
                                "'self'; frame-ancestors 'none'");
    if (resp->close)
        MHD_add_response_header(mr, "Connection", "close");
    if (resp->status == 503 && !resp->header_name[0]) /* a dependency down */
        MHD_add_response_header(mr, "Retry-After", "2");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status,
                                             mr);
    MHD_destroy_response(mr);
    free(resp->body);

    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metric_inc(request_counter(self, method, resp->status));
    metric_observe(self->m_seconds,
                   (double)(t1.tv_sec - t0->tv_sec) +
                       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
    return ret;
}

static void retry_after(http_resp_t *resp, const char *seconds)
{
    snprintf(resp->header_name, sizeof(resp->header_name), "Retry-After");
    snprintf(resp->header_value, sizeof(resp->header_value), "%s", seconds);
}

/* The first call, with the headers: refuse now what must be refused —
 * a full server, a bad request line or header — before reading a body.
 * NULL: go on and read it. */
static const char *refuse_early(http_server_t *self,
                                struct MHD_Connection *conn,
                                const char *url, http_resp_t *resp)
{
    if (atomic_load(&self->open_conns) > self->lim.max_connections) {
        metric_inc(self->m_full);
        http_reply_error(resp, 503, "overloaded",
                         "too many open connections; retry shortly", NULL);
        retry_after(resp, "1");
        resp->close = true;
        return "full";
    }
    if (!boundary_ok(conn, url, resp)) {
        metric_inc(self->m_invalid);
        resp->close = true;
        return "invalid";
    }
    return NULL;
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
    struct timespec t0;
    if (!up) {
        up = calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *con_cls = up;
        http_resp_t resp = {0};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        up->refused = refuse_early(self, conn, url, &resp);
        if (up->refused)
            return send_reply(self, conn, method, &resp, &t0);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
            up->too_big = true;
        return MHD_YES;
    }
    if (up->refused) { /* replied already; the body is not wanted */
        *upload_size = 0;
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

    /* the whole request is in: out of the deadline's reach */
    struct conn_track *t = track_of(conn);
    if (t)
        atomic_store(&t->since_ms, 0);
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
    } else if (now > self->lim.max_inflight &&
               strcmp(url, "/healthz") != 0 &&
               strcmp(url, "/readyz") != 0 &&
               strcmp(url, "/metrics") != 0) {
        metric_inc(self->m_overload);
        http_reply_error(&resp, 429, "overloaded",
                         "too many requests in flight; retry shortly",
                         NULL);
        retry_after(&resp, "1");
    } else {
        serve(self, &req, &resp);
    }
    atomic_fetch_sub(&self->inflight, 1);
    return send_reply(self, conn, method, &resp, &t0);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)t;
    struct upload *up = *con_cls;
    if (up) {
        free(up->buf);
        free(up);
        *con_cls = NULL;
    }
    struct conn_track *ct = track_of(conn);
    if (ct) /* the next request's deadline runs from now */
        atomic_store(&ct->since_ms, (long)(mono_us() / 1000));
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server_t *self = cls;
    struct conn_track *t = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        t = calloc(1, sizeof(*t));
        if (!t)
            return; /* untracked: the idle timeout still applies */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
            conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        t->fd = ci ? ci->connect_fd : -1;
        atomic_store(&t->since_ms, (long)(mono_us() / 1000));
        pthread_mutex_lock(&self->conns_lock);
        t->next = self->conns;
        if (self->conns)
            self->conns->prev = t;
        self->conns = t;
        pthread_mutex_unlock(&self->conns_lock);
        atomic_fetch_add(&self->open_conns, 1);
        *socket_context = t;
        return;
    }
    if (!t)
        return;
    pthread_mutex_lock(&self->conns_lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        self->conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&self->conns_lock);
    atomic_fetch_sub(&self->open_conns, 1);
    free(t);
    *socket_context = NULL;
}

/* Cuts every connection whose request has not arrived whole within
 * request_seconds of it starting to wait: a slow or idle client holds a
 * connection (and, with a thread per connection, a thread) that long at
 * most, however it paces its bytes. The socket is shut down, not
 * closed: MHD sees the end of the stream and closes it itself. */
static void *watchdog(void *arg)
{
    http_server_t *self = arg;
    long limit = (long)self->lim.request_seconds * 1000;
    while (!atomic_load(&self->stopping)) {
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
        long now = (long)(mono_us() / 1000);
        pthread_mutex_lock(&self->conns_lock);
        for (struct conn_track *t = self->conns; t; t = t->next) {
            long since = atomic_load(&t->since_ms);
            if (since && !t->cut && t->fd >= 0 && now - since > limit) {
                shutdown(t->fd, SHUT_RDWR);
                t->cut = true;
                metric_inc(self->m_cut);
            }
        }
        pthread_mutex_unlock(&self->conns_lock);
    }
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoding of the path and the query (in place). %00 becomes
 * C0 80 — never valid UTF-8 — so that the boundary refuses it instead
 * of a NUL cutting the string short ("/healthz%00"). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r;) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 &&
            (lo = hexval(r[2])) >= 0) {
            int v = hi * 16 + lo;
            if (v == 0) {
                *w++ = (char)0xc0;
                *w++ = (char)0x80;
            } else {
                *w++ = (char)v;
            }
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* MHD's own messages (a client closing early, a malformed request) as
 * JSON lines at debug level: a client must not be able to fill the log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug("http.mhd", "%s", msg);
}

static void limits_default(struct http_limits *l)
{
    if (l->max_inflight <= 0)
        l->max_inflight = 256;
    if (l->max_connections <= 0)
        l->max_connections = 1000;
    if (l->per_ip <= 0)
        l->per_ip = 128;
    if (l->request_seconds <= 0)
        l->request_seconds = 10;
}

static void server_metrics(http_server_t *self)
{
    metrics_counter("kezek_metrics_series_dropped_total",
        "Metric series not created: past METRICS_MAX_SERIES", NULL);
    self->m_overload = metrics_counter("kezek_http_overload_total",
        "Requests refused with 429 because too many were in flight", NULL);
    self->m_full = metrics_counter("kezek_http_connections_refused_total",
        "Requests refused with 503 because too many connections were open",
        NULL);
    self->m_cut = metrics_counter("kezek_http_request_timeouts_total",
        "Connections cut because a request did not arrive whole in time",
        NULL);
    self->m_retried = metrics_counter("kezek_http_read_retries_total",
        "GETs tried again after their database connection was gone", NULL);
    self->m_invalid = metrics_counter("kezek_http_invalid_requests_total",
        "Requests refused at the boundary (path, query or header)", NULL);
    self->m_seconds = metrics_histogram("kezek_http_request_seconds",
                                        "HTTP request latency", NULL, NULL,
                                        0);
}

http_server_t *http_start(const char *bind_addr, int port,
                          const struct http_limits *limits,
                          const struct http_route *routes,
                          const struct http_hooks *hooks, void *ctx,
                          char *err, size_t errlen)
{
    http_server_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->routes = routes;
    if (hooks)
        self->hooks = *hooks;
    self->ctx = ctx;
    if (limits)
        self->lim = *limits;
    limits_default(&self->lim);
    pthread_mutex_init(&self->conns_lock, NULL);
    server_metrics(self);
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
     * connection. MHD's own limit leaves room above max_connections for
     * the 503s that say "full". */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
        (self->lim.threads > 0 ? MHD_USE_EPOLL_LINUX_ONLY
                               : MHD_USE_THREAD_PER_CONNECTION |
                                     MHD_USE_POLL);
    struct MHD_OptionItem mode[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, self->lim.threads, NULL},
        {MHD_OPTION_END, 0, NULL}};
    if (self->lim.threads <= 0)
        mode[0].option = MHD_OPTION_END;
    self->d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_ARRAY, mode,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(self->lim.max_connections + 32),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)self->lim.per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, self,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, self,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, self,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, self,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)self->lim.request_seconds,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_END);
    if (!self->d) {
        snprintf(err, errlen, "http: cannot listen on port %d", port);
        pthread_mutex_destroy(&self->conns_lock);
        free(self);
        return NULL;
    }
    if (pthread_create(&self->watchdog, NULL, watchdog, self) != 0) {
        snprintf(err, errlen, "http: cannot start the request watchdog");
        MHD_stop_daemon(self->d);
        pthread_mutex_destroy(&self->conns_lock);
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
    atomic_store(&self->stopping, true);
    pthread_join(self->watchdog, NULL); /* a server has one: else no start */
    MHD_stop_daemon(self->d);
    pthread_mutex_destroy(&self->conns_lock);
    free(self);
    *self_p = NULL;
}
