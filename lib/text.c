#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>

/* The length of one UTF-8 sequence at s (n bytes left), 0 when it is
 * not valid UTF-8; *cp receives the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

const char *text_problem(const char *s, size_t len, size_t max,
                         bool allow_tab)
{
    if (len > max)
        return "too long";
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t k = utf8_seq(u + i, len - i, &cp);
        if (k == 0)
            return "not valid UTF-8";
        if (cp == 0)
            return "holds a NUL byte";
        if ((cp < 0x20 && !(allow_tab && cp == '\t')) || cp == 0x7f ||
            (cp >= 0x80 && cp <= 0x9f))
            return "holds a control character";
        i += k;
    }
    return NULL;
}

void text_cut_utf8(char *s)
{
    size_t n = strlen(s), i = n;
    /* back to the first byte of the last sequence */
    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned cp;
    size_t start = i - 1;
    if (utf8_seq((const unsigned char *)s + start, n - start, &cp) !=
        n - start)
        s[start] = '\0';
}

/* Characters that change how the text around them is shown or are not
 * shown at all: bidirectional controls (U+061C, U+200E–U+200F,
 * U+202A–U+202E, U+2066–U+2069), zero-width space, the line and
 * paragraph separators, the byte order mark. */
static bool invisible(unsigned cp)
{
    return uc_is_property_bidi_control(cp) || cp == 0x200b ||
           cp == 0x2028 || cp == 0x2029 || cp == 0xfeff;
}

const char *text_name(const char *s, size_t len, size_t max, char **nfc)
{
    *nfc = NULL;
    const char *why = text_problem(s, len, max, false);
    if (why)
        return why;
    bool blank = true;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t k = utf8_seq(u + i, len - i, &cp); /* valid: checked */
        if (invisible(cp))
            return "holds a bidirectional or invisible control character";
        if (!uc_is_property_white_space(cp))
            blank = false;
        i += k;
    }
    if (blank)
        return "is blank";
    size_t n = 0;
    uint8_t *out = u8_normalize(UNINORM_NFC, u, len, NULL, &n);
    if (!out)
        return "cannot be normalised";
    char *z = realloc(out, n + 1);
    if (!z) {
        free(out);
        return "cannot be normalised";
    }
    z[n] = '\0';
    if (n > max) {
        free(z);
        return "too long";
    }
    *nfc = z;
    return NULL;
}
