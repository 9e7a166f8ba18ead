/* test_fileio.c: capped whole-file reads, atomic replacement, mkdir -p. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"

static void
test_write_then_read(void **state)
{
    char dir[] = "/tmp/test_fileio.XXXXXX", path[128];
    struct hub_buf b = HUB_BUF_INIT(1024);
    struct stat st;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    assert_int_equal(hub_file_write_atomic(path, "first", 5, 0600), 0);
    assert_int_equal(hub_file_write_atomic(path, "second", 6, 0600), 0);
    assert_int_equal(hub_file_read(path, 1024, &b), 0);
    assert_string_equal(hub_buf_str(&b), "second");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    hub_buf_release(&b);

    /* over the cap: EFBIG and an empty buffer */
    assert_int_equal(hub_file_read(path, 3, &b), -1);
    assert_int_equal(errno, EFBIG);
    assert_null(b.data);

    unlink(path);
    assert_int_equal(hub_file_read(path, 10, &b), -1);
    assert_int_equal(errno, ENOENT);
    rmdir(dir);
}

static void
test_mkdir_p(void **state)
{
    char dir[] = "/tmp/test_fileio_d.XXXXXX", path[128];
    struct stat st;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(hub_mkdir_p(path, 0750), 0);
    assert_int_equal(hub_mkdir_p(path, 0750), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

static void
test_read_proc_file(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(1 << 20);

    /* /proc files report size 0: reading must not trust st_size */
    assert_int_equal(hub_file_read("/proc/self/stat", 1 << 20, &b), 0);
    assert_true(b.len > 10);
    hub_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_then_read),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_read_proc_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
