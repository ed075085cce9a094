/* cmd/registry_line.c: `kezek import-reference`'s lines (import_line,
 * reference_row) without Postgres. The first byte picks the file ('R'
 * regions, 'A' authorities, 'S' settlements, 'C' centres, 'I' appeal
 * instances; other bytes by their value), the rest are its lines. A
 * stored row's keys are non-empty strings of the record, at most 1000
 * bytes, and its document is the whole record. */
#include "lines.h"

static void one(json_t *j, void *ctx)
{
    enum reference_kind kind = *(enum reference_kind *)ctx;
    struct import_row row;
    char err[256] = "";
    if (!reference_row(kind, j, &row, err, sizeof(err))) {
        CHECK(strstr(err, " needs a string ") && row.doc == NULL);
        return;
    }
    CHECK(row.sql && strncmp(row.sql, "INSERT INTO ", 12) == 0);
    CHECK(row.n >= 3 && row.n <= 4 && row.p[row.n - 1] == row.doc);
    for (int i = 0; i < row.n - 1; i++) {
        CHECK(row.p[i] && row.p[i][0] && strlen(row.p[i]) <= 1000);
        bool found = false; /* a value of the record */
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v)
            found = found || json_string_value(v) == row.p[i];
        CHECK(found);
    }
    json_t *d = fuzz_doc(&row);
    CHECK(json_equal(d, j));
    json_decref(d);
    import_row_free(&row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char letters[] = "RASCI";
    const char *at = memchr(letters, data[0], 5);
    enum reference_kind kind = at ? (enum reference_kind)(at - letters)
                                  : (enum reference_kind)(data[0] % REF_KINDS);
    fuzz_lines(data + 1, size - 1, one, &kind);
    return 0;
}
