/* cmd/registry_line.c: `kezek registry import`'s lines (import_line,
 * registry_row) without Postgres. A stored row names a known kind's
 * table, its keys are the record's (valid IINs first), its document is
 * the record without "kind", and checking that document again (with its
 * kind) gives the same row. */
#include "lines.h"

#include "iin.h"

static void one(json_t *j, void *ctx)
{
    (void)ctx;
    struct import_row row;
    char err[256] = "";
    if (!registry_row(j, &row, err, sizeof(err))) {
        CHECK(err[0] != '\0' && row.doc == NULL);
        return;
    }
    const char *kind = json_string_value(json_object_get(j, "kind"));
    CHECK(kind && row.sql && strstr(row.sql, "INSERT INTO registry_"));
    CHECK(row.n == 2 || row.n == 3);
    CHECK(row.p[0] && iin_valid(row.p[0], NULL));
    CHECK(row.p[1] && row.p[row.n - 1] == row.doc);
    if (row.n == 3)
        CHECK(row.p[1][0] != '\0');

    json_t *d = fuzz_doc(&row);
    CHECK(json_object_get(d, "kind") == NULL);
    json_t *want = json_deep_copy(j);
    json_object_del(want, "kind");
    CHECK(json_equal(d, want));
    json_decref(want);

    json_object_set_new(d, "kind", json_string(kind));
    struct import_row again;
    CHECK(registry_row(d, &again, err, sizeof(err)));
    CHECK(again.sql == row.sql && again.n == row.n);
    for (int i = 0; i < row.n; i++)
        CHECK(strcmp(again.p[i], row.p[i]) == 0);
    import_row_free(&again);
    json_decref(d);
    import_row_free(&row);
    CHECK(row.doc == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_lines(data, size, one, NULL);
    return 0;
}
