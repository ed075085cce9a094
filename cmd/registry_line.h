/* registry_line — the pure part of `kezek registry import` and `kezek
 * import-reference`: one line of a JSON-lines file parsed, one record
 * checked and turned into the parameters of the SQL that stores it.
 * No I/O (kezek.c runs the SQL; tests/fuzz fuzzes these). */
#ifndef KEZEK_REGISTRY_LINE_H
#define KEZEK_REGISTRY_LINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define IMPORT_LINE_MAX 65536 /* bytes of a line, its newline included */

/* One line of n bytes as getline(3) read it: 0 when blank (skip it), 1
 * and *out a JSON object (the caller decrefs it), -1 and err the reason
 * ("line too long", the JSON error, "not a JSON object"). */
int import_line(const char *line, size_t n, json_t **out, char *err,
                size_t len);

/* A checked record: the statement that stores it and its n text
 * parameters, which point into the record and to doc (owned). */
struct import_row {
    const char *sql;
    int n;
    const char *p[8];
    char *doc;
};
void import_row_free(struct import_row *row);

/* A registry line (CONTRACT "Registry fixtures"): its kind and fields
 * checked. False and err naming the first bad field otherwise. */
bool registry_row(json_t *j, struct import_row *row, char *err,
                  size_t len);

/* A reference record (a line of reference/): the keys its table needs
 * are non-empty strings of at most 1000 bytes; the whole record is
 * stored as canonical JSON. False and err ("region needs a string id")
 * otherwise. */
enum reference_kind { REF_REGION, REF_AUTHORITY, REF_SETTLEMENT,
                      REF_CENTRE, REF_APPEAL, REF_KINDS };
bool reference_row(enum reference_kind kind, json_t *j,
                   struct import_row *row, char *err, size_t len);

#endif
