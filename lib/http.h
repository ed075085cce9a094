/* http — a libmicrohttpd server with a route table, bounded bodies,
 * JSON replies in the contract's error shape, /healthz and /metrics.
 *
 * Handlers run on the server's worker threads; they must be
 * thread-safe and take what they need (e.g. a pooled Postgres
 * connection) for the duration of the call only. */
#ifndef KEZEK_HTTP_H
#define KEZEK_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_PARAMS 6

struct MHD_Connection;

typedef struct http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *body;        /* NUL-terminated; body_len bytes */
    size_t body_len;
    const char *params[HTTP_MAX_PARAMS]; /* the '*' segments, in order */
    const void *route_data;  /* the matched route's data */
} http_req_t;

typedef struct http_resp {
    int status;
    char *body;              /* owned */
    size_t body_len;         /* 0: body is a C string */
    const char *content_type;
    char header_name[32];
    char header_value[128];
} http_resp_t;

typedef void (*http_handler_fn)(void *ctx, const http_req_t *req,
                                http_resp_t *resp);
typedef bool (*http_health_fn)(void *ctx, char *detail, size_t len);

/* pattern: "/v1/applications/{*}" where a "*" segment matches one
 * path segment. */
struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
    const void *data;        /* handed to fn as req->route_data */
};

typedef struct http_server http_server_t;

/* Starts listening on 127.0.0.1:port (or bind_addr) with a pool of
 * threads (threads 0: a thread per connection, at most 2 × max_inflight
 * connections). routes must outlive the server; health (may be NULL)
 * gets health_ctx, handlers get ctx. NULL and err on failure. */
http_server_t *http_start(const char *bind_addr, int port, int threads,
                          int max_inflight, const struct http_route *routes,
                          http_health_fn health, void *health_ctx,
                          void *ctx, char *err, size_t errlen);
void http_stop(http_server_t **self_p);

/* Request helpers. */
const char *http_header(const http_req_t *req, const char *name);
const char *http_query(const http_req_t *req, const char *name);

/* The purpose of a read for the audit: X-Purpose, else def. */
const char *http_purpose(const http_req_t *req, const char *def);

/* Reply helpers; json is stolen. */
void http_reply_json(http_resp_t *resp, int status, json_t *json);
void http_reply_error(http_resp_t *resp, int status, const char *code,
                      const char *message, json_t *details);
void http_reply_text(http_resp_t *resp, int status, const char *ctype,
                     char *body_owned);

/* A binary reply (PDF, CSV): len bytes of body_owned. */
void http_reply_bytes(http_resp_t *resp, int status, const char *ctype,
                      char *body_owned, size_t len);

/* Parses req's JSON body, replying 415/400 itself on failure. */
json_t *http_json_body(const http_req_t *req, http_resp_t *resp);

#endif
