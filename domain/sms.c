/* SMS numbers and lengths (sms.h). */
#include "sms.h"

#include <string.h>

bool sms_phone_kz(const char *phone, char out[12])
{
    char d[16];
    size_t n = 0;
    for (const char *p = phone; p && *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n == sizeof(d) - 1)
                return false;
            d[n++] = *p;
        } else if (!strchr(" -()", *p) && !(*p == '+' && p == phone)) {
            return false;
        }
    }
    d[n] = '\0';
    if (n == 11 && d[0] == '8') /* the domestic trunk prefix */
        d[0] = '7';
    if (n != 11 || d[0] != '7' || d[1] != '7')
        return false;
    static const char *const codes[] = {"700", "701", "702", "703", "704",
                                        "705", "706", "707", "708", "747",
                                        "771", "775", "776", "777", "778",
                                        NULL};
    bool mobile = false;
    for (int i = 0; codes[i]; i++)
        mobile = mobile || strncmp(d + 1, codes[i], 3) == 0;
    if (mobile)
        memcpy(out, d, 12);
    return mobile;
}

/* The next code point of UTF-8 at *p (advanced), or -1 when invalid. */
static long next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    long cp;
    int more;
    if (s[0] < 0x80) {
        cp = s[0];
        more = 0;
    } else if ((s[0] & 0xE0) == 0xC0 && s[0] >= 0xC2) {
        cp = s[0] & 0x1F;
        more = 1;
    } else if ((s[0] & 0xF0) == 0xE0) {
        cp = s[0] & 0x0F;
        more = 2;
    } else if ((s[0] & 0xF8) == 0xF0 && s[0] <= 0xF4) {
        cp = s[0] & 0x07;
        more = 3;
    } else {
        return -1;
    }
    for (int i = 1; i <= more; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const long min[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *p = s + more + 1;
    return cp;
}

/* Septets of cp in the GSM 7-bit default alphabet and its extension
 * table (3GPP TS 23.038, 6.2.1): 1, 2, or 0 when it has none. */
static int gsm7_septets(long cp)
{
    static const long basic[] = {
        0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A,
        0xD8, 0xF8, 0x0D, 0xC5, 0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B,
        0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9,
        0xA4, 0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 0xE4, 0xF6, 0xF1,
        0xFC, 0xE0};
    static const long ext[] = {0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E,
                               0x5D, 0x7C, 0x20AC};
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
        (cp >= '0' && cp <= '9') || (cp >= 0x20 && cp <= 0x2F &&
                                     cp != 0x24) ||
        (cp >= 0x3A && cp <= 0x3F))
        return 1;
    for (size_t i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
        if (basic[i] == cp)
            return 1;
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        if (ext[i] == cp)
            return 2;
    return 0;
}

bool sms_measure(const char *text, struct sms_length *out)
{
    size_t septets = 0, utf16 = 0;
    bool gsm = true;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        long cp = next_cp(&p);
        if (cp < 0)
            return false;
        int s = gsm7_septets(cp);
        gsm = gsm && s > 0;
        septets += (size_t)s;
        utf16 += cp > 0xFFFF ? 2 : 1;
    }
    out->coding = gsm ? SMS_GSM7 : SMS_UCS2;
    out->units = gsm ? septets : utf16;
    size_t one = gsm ? 160 : 70, part = gsm ? 153 : 67;
    out->segments = out->units <= one ? 1
                                      : (int)((out->units + part - 1) / part);
    return true;
}

void sms_flatten(char *text)
{
    size_t w = 0;
    bool space = true; /* drops leading spaces */
    for (size_t r = 0; text[r]; r++) {
        char c = text[r];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (c == ' ' && space)
            continue;
        space = c == ' ';
        text[w++] = c;
    }
    if (w > 0 && text[w - 1] == ' ')
        w--;
    text[w] = '\0';
}
