/* static — files of one directory over HTTP (static.h). */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *static_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* Opens rel under root one segment at a time, never following a link
 * (O_NOFOLLOW on each); -1 when any step fails. */
static int open_under(const char *root, const char *rel)
{
    int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char seg[256];
    while (dir >= 0) {
        const char *slash = strchr(rel, '/');
        size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
        if (n == 0 || n >= sizeof(seg) || rel[0] == '.') {
            close(dir);
            return -1;
        }
        memcpy(seg, rel, n);
        seg[n] = '\0';
        int fd = openat(dir, seg, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                                      (slash ? O_DIRECTORY : 0));
        close(dir);
        if (!slash)
            return fd;
        dir = fd;
        rel = slash + 1;
    }
    return -1;
}

void static_reply(const char *root, const char *rel, const http_req_t *req,
                  http_resp_t *resp)
{
    if (!rel || !*rel)
        rel = "index.html";
    const char *type = static_type(rel);
    int fd = root && type ? open_under(root, rel) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > STATIC_MAX_FILE) {
        if (fd >= 0)
            close(fd);
        http_reply_error(resp, 404, "not_found", "no such file", NULL);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"",
             (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    const char *inm = http_header(req, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        http_reply_bytes(resp, 304, type, NULL, 0);
    } else {
        size_t len = (size_t)st.st_size, got = 0;
        char *buf = malloc(len ? len : 1);
        while (buf && got < len) {
            ssize_t k = read(fd, buf + got, len - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        close(fd);
        if (!buf || got != len) {
            free(buf);
            http_reply_error(resp, 503, "unavailable",
                             "the file could not be read", NULL);
            return;
        }
        http_reply_bytes(resp, 200, type, buf, len);
    }
    snprintf(resp->header_name, sizeof(resp->header_name), "ETag");
    snprintf(resp->header_value, sizeof(resp->header_value), "%s", etag);
}
