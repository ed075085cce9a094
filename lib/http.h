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
    bool close;              /* close the connection after the reply */
    /* Cache-Control of an answer that holds no personal data and may be
     * kept (a static string); NULL: no-store */
    const char *cache;
} http_resp_t;

typedef void (*http_handler_fn)(void *ctx, const http_req_t *req,
                                http_resp_t *resp);
typedef bool (*http_health_fn)(void *ctx, char *detail, size_t len);

/* pattern: "/v1/applications/{*}" where a "*" segment matches one
 * path segment; a last "**" segment matches the rest of the path (one
 * or more segments, none starting with a dot), as one parameter. */
struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
    const void *data;        /* handed to fn as req->route_data */
};

typedef struct http_server http_server_t;

/* What one server lets its clients hold (zeros: the defaults below). */
struct http_limits {
    int threads;          /* workers; 0: a thread per connection */
    int max_inflight;     /* requests being served; past it 429 (256) */
    int max_connections;  /* open connections; past it 503 and close (1000) */
    int per_ip;           /* connections from one client address (128) */
    /* a connection waiting for a request must have received all of it
     * (headers and body) this many seconds after the previous reply, or
     * after it was opened — a trickle of bytes does not extend it (10) */
    int request_seconds;
};

/* What a server asks of its service (any may be NULL). */
struct http_hooks {
    http_health_fn health;   /* GET /healthz: its dependencies answer */
    http_health_fn ready;    /* GET /readyz (the edge routes by it) */
    void *health_ctx;        /* for both */
    void (*before)(void);    /* before each request, on its thread */
    /* after a GET answered 503: whether one more try may succeed (its
     * database connection was found gone, a fresh one will be used) */
    bool (*retry_read)(void);
};

/* Starts listening on 127.0.0.1:port (or bind_addr). routes must
 * outlive the server; handlers get ctx. NULL and err on failure. */
http_server_t *http_start(const char *bind_addr, int port,
                          const struct http_limits *limits,
                          const struct http_route *routes,
                          const struct http_hooks *hooks, void *ctx,
                          char *err, size_t errlen);
void http_stop(http_server_t **self_p);

/* The boundary's checks, exposed for the fuzzers.
 *
 * NULL when s (len bytes) is valid UTF-8 (no overlong forms, no
 * surrogates), holds no NUL, C0 or C1 control (nor DEL) and
 * len <= max; else a short reason. (Header values may hold tabs.) */
const char *http_text_problem(const char *s, size_t len, size_t max);
/* Matches path against a route pattern (a star segment: any) segment by
 * segment; the '*' segments go to params (pointers into scratch, at
 * most HTTP_MAX_PARAMS, *nparams of them). 1 match, 0 no match, -1 the
 * shape matches but a '*' segment is not an identifier (HTTP_SEGMENT_
 * characters, 1–HTTP_SEGMENT_MAX bytes). */
#define HTTP_SEGMENT_MAX 128
int http_route_match(const char *pattern, const char *path,
                     const char **params, int *nparams, char *scratch,
                     size_t cap);

/* Request helpers. Every header, query parameter and the path were
 * checked at the boundary (valid UTF-8, no controls, bounded): a
 * handler checks only its own syntax. */
const char *http_header(const http_req_t *req, const char *name);
const char *http_query(const http_req_t *req, const char *name);

/* The client's address as text ("127.0.0.1"), or "" when unknown: the
 * peer's, or — when the peer is one of the trusted proxies (the edge) —
 * the address that proxy appended to X-Forwarded-For. */
void http_client_addr(const http_req_t *req, char *out, size_t len);
/* The proxies whose X-Forwarded-For is believed: addresses, comma- or
 * space-separated ("" or NULL: none). Set once, before serving. */
void http_set_trusted_proxies(const char *list);

/* The query parameter limit of a list: def when absent, else 1–max;
 * 0 after replying 400 invalid_field (details.field "limit"). */
int http_limit(const http_req_t *req, http_resp_t *resp, int def, int max);

/* The purpose of a read for the audit: X-Purpose, else def. */
const char *http_purpose(const http_req_t *req, const char *def);

/* Reply helpers; json is stolen. */
void http_reply_json(http_resp_t *resp, int status, json_t *json);
/* The Kazakh and Russian texts of error messages (templates/
 * errors.json): from then on an error body is in the language of the
 * request's Accept-Language (kk | ru; en otherwise), its code unchanged,
 * the English in message_en. False with err when the file is not one.
 * Call before the servers start. */
bool http_error_texts_load(const char *path, char *err, size_t len);
/* The language an Accept-Language header asks for, of kk, ru and en
 * ("en" when none of them). */
const char *http_accept_language(const char *header);
void http_reply_error(http_resp_t *resp, int status, const char *code,
                      const char *message, json_t *details);
void http_reply_text(http_resp_t *resp, int status, const char *ctype,
                     char *body_owned);

/* A binary reply (PDF, CSV): len bytes of body_owned. */
void http_reply_bytes(http_resp_t *resp, int status, const char *ctype,
                      char *body_owned, size_t len);

/* The Idempotency-Key header (CONTRACT "Applications": 1–64
 * characters, here printable ASCII), or NULL after replying 400
 * invalid_idempotency_key. */
const char *http_idempotency_key(const http_req_t *req, http_resp_t *resp);

/* Parses req's JSON body, replying 415/400 itself on failure. */
json_t *http_json_body(const http_req_t *req, http_resp_t *resp);

#endif
