/* lib/config: files, KEZEK_* overrides, bounded integers — how every
 * service of the partially automated service (p.2) is configured. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

static void remove_tmp(void)
{
    if (path[0])
        unlink(path);
}

TestSuite(config, .fini = remove_tmp);

static char *write_tmp(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/kezek-conf-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

Test(config, file_env_default_order)
{
    char err[256];
    config_t *c = config_load(write_tmp("# comment\nhttp_port = 9000\n"
                                        "pg = dbname=x host=/tmp\n"),
                              err, sizeof(err));
    cr_assert(c, "%s", err);
    cr_assert_str_eq(config_str(c, "pg", NULL), "dbname=x host=/tmp");
    cr_assert_str_eq(config_str(c, "missing", "d"), "d");
    setenv("KEZEK_HTTP_PORT", "9100", 1);
    long port;
    cr_assert(config_int(c, "http_port", 1, 1, 65535, &port, err,
                         sizeof(err)));
    cr_assert_eq(port, 9100);
    unsetenv("KEZEK_HTTP_PORT");
    cr_assert(config_int(c, "http_port", 1, 1, 65535, &port, err,
                         sizeof(err)));
    cr_assert_eq(port, 9000);
    config_destroy(&c);
    cr_assert_null(c);
}

Test(config, rejects_bad_values)
{
    char err[256];
    config_t *c = config_load(write_tmp("batch_size = 12x\nn = 70000\n"),
                              err, sizeof(err));
    cr_assert(c);
    long v;
    cr_assert_not(config_int(c, "batch_size", 1, 1, 100, &v, err,
                             sizeof(err)));
    cr_assert_not(config_int(c, "n", 1, 1, 65535, &v, err, sizeof(err)));
    config_destroy(&c);
    cr_assert_null(config_load(write_tmp("no equals sign\n"), err,
                               sizeof(err)));
    cr_assert_null(config_load("/nonexistent/kezek.conf", err, sizeof(err)));
}
