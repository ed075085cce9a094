/* lib/http.c's boundary checks: http_text_problem on the raw input
 * against an independent UTF-8 decoder (the table of well-formed byte
 * sequences, Unicode 15 table 3-7), and http_route_match of the input as
 * a path against the services' route patterns, against an independent
 * segment-by-segment matcher; a match's parameters put back into the
 * pattern give the path again. */
#include "fuzz.h"

#include "http.h"

#include <stdbool.h>

/* The route patterns of the four services (services/ * /main.c). */
static const char *const patterns[] = {
    "/v1/applications", "/v1/applications/*",
    "/v1/applications/*/feedback", "/v1/applications/*/receipt.pdf",
    "/v1/applications/*/notice.pdf", "/v1/applications/*/issuance",
    "/v1/reference/authorities", "/v1/reference/settlements",
    "/v1/reference/centres", "/v1/reference/appeal-instances",
    "/v1/reference/keys", "/v1/ops/indicators", "/v1/ops/audit",
    "/v1/complaints", "/v1/complaints/*", "/v1/complaints/*/review",
    "/v1/complaints/*/answer", "/v1/complaints/*/ticket.pdf",
    "/v1/review/*", "/v1/review/*/decision", "/v1/cabinet/*/messages",
    "/v1/journal/*/*", "/v1/queue/*/*/entries/*",
    "/v1/queue/*/*/entries/*/removal", "/v1/queue/*/*/entries/*/history",
    NULL};

/* Valid UTF-8 without C0, DEL or C1 controls (NUL among them). */
static bool text_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t len;
        uint8_t lo = 0x80, hi = 0xbf; /* the second byte's range */
        if (b < 0x20 || b == 0x7f)
            return false;
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf)
            len = 2;
        else if (b == 0xe0)
            len = 3, lo = 0xa0;
        else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
            len = 3;
        else if (b == 0xed)
            len = 3, hi = 0x9f;
        else if (b == 0xf0)
            len = 4, lo = 0x90;
        else if (b >= 0xf1 && b <= 0xf3)
            len = 4;
        else if (b == 0xf4)
            len = 4, hi = 0x8f;
        else
            return false;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        if (b == 0xc2 && s[i + 1] <= 0x9f) /* U+0080–U+009F */
            return false;
        i += len;
    }
    return true;
}

static bool ident(const char *s, size_t n)
{
    if (n < 1 || n > HTTP_SEGMENT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._:-", s[i]) || s[i] == '\0')
            return false;
    return true;
}

/* 1 match, 0 none, -1 the shape matches but a '*' segment is not an
 * identifier; the pattern has at most HTTP_MAX_PARAMS stars. */
static int ref_match(const char *pat, const char *path)
{
    if (pat[0] != '/' || path[0] != '/')
        return 0;
    const char *p = pat + 1, *s = path + 1;
    bool bad = false;
    for (;;) {
        size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
        if (pl == 1 && *p == '*') {
            if (sl == 0)
                return 0;
            if (!ident(s, sl))
                bad = true;
        } else if (pl != sl || memcmp(p, s, pl) != 0) {
            return 0;
        }
        p += pl;
        s += sl;
        if ((*p == '/') != (*s == '/'))
            return 0;
        if (*p == '\0')
            return bad ? -1 : 1;
        p++;
        s++;
    }
}

static void route(const char *pat, const char *path)
{
    int stars = 0;
    for (const char *c = pat; *c; c++)
        stars += *c == '*';
    const char *params[HTTP_MAX_PARAMS];
    int np = -1;
    char *scratch = malloc(512); /* as serve(): ASan sees a byte past it */
    CHECK(scratch);
    int m = http_route_match(pat, path, params, &np, scratch, 512);
    CHECK(m == ref_match(pat, path));
    if (m == 1) {
        CHECK(np == stars);
        char back[4096] = "";
        size_t used = 0;
        int k = 0;
        for (const char *c = pat; *c; c++) {
            const char *piece = *c == '*' ? params[k++] : (char[2]){*c, 0};
            size_t n = strlen(piece);
            CHECK(used + n < sizeof(back));
            memcpy(back + used, piece, n + 1);
            used += n;
        }
        CHECK(strcmp(back, path) == 0);
    }
    free(scratch);
    /* a scratch too small for the parameters: never a match, never a
     * write past it */
    char *tiny = malloc(4);
    CHECK(tiny);
    int t = http_route_match(pat, path, params, &np, tiny, 4);
    CHECK(t == m || (m == 1 && t == -1));
    free(tiny);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *why = http_text_problem(s, size, 2048);
    CHECK((why == NULL) == (size <= 2048 && text_ok(data, size)));
    if (size > 0)
        CHECK(http_text_problem(s, size, size - 1) != NULL);

    if (size > 4096)
        return 0;
    char *path = fuzz_cstr(data, size);
    for (const char *const *p = patterns; *p; p++)
        route(*p, path);
    free(path);
    return 0;
}
