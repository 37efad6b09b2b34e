/* util/afile: a file is replaced whole or not at all, keeps its mode, a symlink to a regular
 * file is followed, and devices, FIFOs, directories and dangling links are refused as the
 * flags say; util/params: numbers are written with the shortest text that reads back. */
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tailor/params.h"
#include "util/afile.h"

static void write_text(tl_afile *a, const char *s)
{
    assert_int_equal(write(a->fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_replace_whole_or_not_at_all(void **state)
{
    (void)state;
    const char *path = tl_test_tmp("f.txt");
    tl_afile a;
    tl_diag d;
    assert_int_equal(tl_test_write(path, "old"), 0);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(tl_afile_open(&a, path, TL_AFILE_REGULAR, &d), TL_OK);
    write_text(&a, "new content");
    char *now = tl_test_read(path);
    assert_string_equal(now, "old"); /* readers still see the old file */
    free(now);
    assert_int_equal(tl_afile_commit(&a, &d), TL_OK);
    now = tl_test_read(path);
    assert_string_equal(now, "new content");
    free(now);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* an aborted write leaves the file and no temporary */
    assert_int_equal(tl_afile_open(&a, path, 0, &d), TL_OK);
    write_text(&a, "half");
    tl_afile_abort(&a);
    now = tl_test_read(path);
    assert_string_equal(now, "new content");
    free(now);
    assert_int_equal(tl_test_sh("ls -a '%s' | grep -q tmp-", tl_test_tmpdir()), 1);
}

static void test_links_devices_and_directories(void **state)
{
    (void)state;
    tl_afile a;
    tl_diag d;
    struct stat st;
    /* a link to a regular file: the target is replaced, the link stays */
    const char *target = tl_test_tmp("target.txt"), *link = tl_test_tmp("link.txt");
    assert_int_equal(tl_test_write(target, "old"), 0);
    assert_int_equal(symlink("target.txt", link), 0);
    assert_int_equal(tl_afile_open(&a, link, TL_AFILE_REGULAR, &d), TL_OK);
    write_text(&a, "via link");
    assert_int_equal(tl_afile_commit(&a, &d), TL_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char *now = tl_test_read(target);
    assert_string_equal(now, "via link");
    free(now);
    /* a dangling link, a directory: refused */
    const char *dangling = tl_test_tmp("dangling.txt");
    assert_int_equal(symlink("nowhere/x", dangling), 0);
    assert_int_equal(tl_afile_open(&a, dangling, 0, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "symbolic link to a missing file"));
    assert_int_equal(tl_afile_check(dangling, 0, &d), TL_EINVAL);
    assert_int_equal(tl_afile_open(&a, tl_test_tmpdir(), 0, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "is a directory"));
    /* a FIFO: refused for TL_AFILE_REGULAR, checked without blocking, and never replaced */
    const char *fifo = tl_test_tmp("f.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(tl_afile_open(&a, fifo, TL_AFILE_REGULAR, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "not a regular file"));
    assert_int_equal(tl_afile_check(fifo, TL_AFILE_REGULAR, &d), TL_EINVAL);
    assert_int_equal(tl_afile_check(fifo, 0, &d), TL_OK);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    /* a device is written directly and the error names it */
    assert_int_equal(tl_afile_open(&a, "/dev/full", 0, &d), TL_OK);
    assert_null(a.tmp);
    assert_int_equal(write(a.fd, "x", 1), -1);
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(tl_afile_commit(&a, &d), TL_OK);
    /* a missing directory */
    assert_int_equal(tl_afile_open(&a, tl_test_tmp("no/such/file"), 0, &d), TL_EIO);
    assert_non_null(strstr(d.msg, "cannot create: No such file or directory"));
    assert_int_equal(tl_afile_check(tl_test_tmp("no/such/file"), 0, &d), TL_EIO);
    assert_int_equal(tl_afile_check("", 0, &d), TL_EINVAL);
}

typedef struct x_cfg {
    double x;
} x_cfg;

static const tl_param_def defs[] = {
    TL_PARAM(x_cfg, x, "0.8", -1e300, 1e300, "a number"),
};

static void test_params_shortest_text(void **state)
{
    (void)state;
    tl_params p, q;
    tl_diag d;
    char *text;
    assert_int_equal(tl_params_init(&p, defs, 1), TL_OK);
    assert_int_equal(tl_params_to_text(&p, &text), TL_OK);
    assert_string_equal(text, "x=0.8\n");
    free(text);
    /* every double reads back exactly, whatever digits it needs */
    const double vals[] = {0.1 + 0.2, 1.0 / 3, 1e-300, 123456789.123456789, -2.5e17, 0.3};
    for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
        p.num[0] = vals[k];
        assert_int_equal(tl_params_to_text(&p, &text), TL_OK);
        assert_int_equal(tl_params_init(&q, defs, 1), TL_OK);
        assert_int_equal(tl_params_from_text(&q, text, &d), TL_OK);
        assert_true(tl_params_num(&q, "x") == vals[k]);
        if (vals[k] == 0.3)
            assert_string_equal(text, "x=0.3\n");
        free(text);
        tl_params_release(&q);
    }
    /* a file written with %.17g before reads back the same */
    assert_int_equal(tl_params_init(&q, defs, 1), TL_OK);
    assert_int_equal(tl_params_from_text(&q, "x=0.80000000000000004\n", &d), TL_OK);
    assert_true(tl_params_num(&q, "x") == 0.8);
    tl_params_release(&q);
    tl_params_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_whole_or_not_at_all),
        cmocka_unit_test(test_links_devices_and_directories),
        cmocka_unit_test(test_params_shortest_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
