/* static — files of one directory over HTTP (the console, web/).
 *
 * Only regular files under root whose every path segment is letters,
 * digits and "._-" without a leading dot (no "..", no hidden files),
 * reached without following a symbolic link, of a known type and at
 * most STATIC_MAX_FILE bytes. Each reply carries an ETag (size and
 * modification time) and is revalidated on every use (no-cache), so a
 * new release shows on the next load and an unchanged file costs a 304. */
#ifndef KEZEK_STATIC_H
#define KEZEK_STATIC_H

#include "http.h"

#define STATIC_MAX_FILE (4 * 1024 * 1024)

/* Replies with root/rel ("" or NULL: index.html): 200, 304, 404. */
void static_reply(const char *root, const char *rel, const http_req_t *req,
                  http_resp_t *resp);

/* The content type of a file name by its extension, or NULL when the
 * type is not served. */
const char *static_type(const char *name);

#endif
