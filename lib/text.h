/* text — what a piece of text from outside may hold.
 *
 * Every string that crosses the boundary (a path, a query parameter, a
 * header, a JSON field) is valid UTF-8 and holds no NUL or control
 * character; a person's name is, besides, not blank, holds no
 * bidirectional control (which could make "Ахметов" display as another
 * name) and is stored in Unicode normalisation form C, so that the same
 * name typed on two keyboards is one name. */
#ifndef KEZEK_TEXT_H
#define KEZEK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* NULL when s (len bytes) is valid UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, at most U+10FFFF), holds no NUL, C0 or C1 control nor
 * DEL (a tab only when allow_tab) and len <= max; else a short reason
 * in English. */
const char *text_problem(const char *s, size_t len, size_t max,
                         bool allow_tab);

/* Cuts s short before a UTF-8 sequence that snprintf left incomplete at
 * its end (a message cut to fit its buffer stays valid UTF-8). */
void text_cut_utf8(char *s);

/* Checks a person's name (surname, given name, patronymic) of len bytes
 * and at most max: NULL and *nfc (malloc'd, NUL-terminated; the caller
 * frees) its NFC form, or the reason it is refused (*nfc NULL). */
const char *text_name(const char *s, size_t len, size_t max, char **nfc);

#endif
