/* reasons — the reason codes of a refusal, each naming the paragraph of
 * the standard it applies, with Kazakh and Russian texts. */
#ifndef KEZEK_REASONS_H
#define KEZEK_REASONS_H

#include <jansson.h>

struct reason {
    const char *code;       /* "p16.2" */
    const char *paragraph;  /* "16.2" */
    const char *text_kk;
    const char *text_ru;
};

/* The entry for code, or NULL for an unknown code. */
const struct reason *reason_find(const char *code);

/* A reason as the API shows it: {"code", "paragraph", "text_kk",
 * "text_ru"} — only the code for an unknown one (new reference). */
json_t *reason_json(const char *code);

#endif
