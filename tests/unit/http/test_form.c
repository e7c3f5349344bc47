/*
 * The upload form collector: the file part lands in a temporary file, text
 * fields in capped buffers; the size limit stops the upload as it streams;
 * nothing is left behind unless the caller takes the file.
 */
#include "http/form.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define B "reelform42"
#define CT "multipart/form-data; boundary=" B

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/reel-form-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    char path[512];
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

TestSuite(form, .init = setup, .fini = teardown);

static char *body_with_file(size_t file_len, size_t *len)
{
    size_t cap = file_len + 1024;
    char *body = malloc(cap);
    int n = snprintf(body, cap,
                     "--" B "\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n"
                     "My first video"
                     "\r\n--" B "\r\nContent-Disposition: form-data; name=\"file\"; "
                     "filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n");
    for (size_t i = 0; i < file_len; i++)
        body[n + (int)i] = (char)('a' + i % 26);
    n += (int)file_len;
    n += snprintf(body + n, cap - (size_t)n, "\r\n--" B "--\r\n");
    *len = (size_t)n;
    return body;
}

static struct http_form_options options(uint64_t max_file)
{
    return (struct http_form_options){
        .file_field = "file", .temp_dir = dir, .max_file_bytes = max_file, .max_field_bytes = 64};
}

Test(form, file_to_disk_fields_to_memory)
{
    size_t len;
    char *body = body_with_file(100000, &len);
    struct http_form form;
    struct http_form_options opts = options(1000000);
    cr_assert_eq(http_form_init(&form, CT, &opts), HTTP_FORM_OK);
    for (size_t at = 0; at < len; at += 1000)
        cr_assert_eq(http_form_feed(&form, body + at, len - at < 1000 ? len - at : 1000),
                     HTTP_FORM_OK);
    cr_assert_eq(http_form_finish(&form), HTTP_FORM_OK);
    size_t caption_len;
    cr_assert_str_eq(http_form_field(&form, "caption", &caption_len), "My first video");
    cr_assert_eq(caption_len, 14);
    cr_assert_null(http_form_field(&form, "missing", NULL));
    cr_assert_eq(form.file_bytes, 100000);
    cr_assert_str_eq(form.file_name, "v.mp4");
    const char *path = http_form_take_file(&form);
    cr_assert_not_null(path);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 100000);
    FILE *f = fopen(path, "rb");
    char first[4] = {0};
    cr_assert_eq(fread(first, 1, 3, f), 3);
    fclose(f);
    cr_assert_str_eq(first, "abc");
    http_form_clear(&form);
    cr_assert_eq(entries(), 1, "a taken file stays");
    free(body);
}

Test(form, over_the_limit_stops_while_streaming_and_leaves_nothing)
{
    size_t len;
    char *body = body_with_file(200000, &len);
    struct http_form form;
    struct http_form_options opts = options(50000);
    cr_assert_eq(http_form_init(&form, CT, &opts), HTTP_FORM_OK);
    size_t fed = 0;
    int rc = HTTP_FORM_OK;
    while (fed < len && rc == HTTP_FORM_OK) {
        size_t n = len - fed < 4096 ? len - fed : 4096;
        rc = http_form_feed(&form, body + fed, n);
        fed += n;
    }
    cr_assert_eq(rc, HTTP_FORM_E_FILE_TOO_LARGE);
    cr_assert_lt(fed, 60000, "refused as soon as the limit is crossed, not at the end");
    cr_assert_leq(form.file_bytes, 50000, "never more than the limit on disk");
    cr_assert_eq(http_form_error_status(rc), 413);
    http_form_clear(&form);
    cr_assert_eq(entries(), 0, "the partial file is removed");
    free(body);
}

Test(form, errors)
{
    struct http_form form;
    struct http_form_options opts = options(1000);
    cr_assert_eq(http_form_init(&form, "application/json", &opts), HTTP_FORM_E_NOT_MULTIPART);
    cr_assert_eq(http_form_error_status(HTTP_FORM_E_NOT_MULTIPART), 415);
    http_form_clear(&form);

    const char no_file[] =
        "--" B "\r\nContent-Disposition: form-data; name=caption\r\n\r\nhi\r\n--" B "--";
    cr_assert_eq(http_form_init(&form, CT, &opts), HTTP_FORM_OK);
    cr_assert_eq(http_form_feed(&form, no_file, sizeof no_file - 1), HTTP_FORM_OK);
    cr_assert_eq(http_form_finish(&form), HTTP_FORM_E_NO_FILE);
    http_form_clear(&form);

    const char two_files[] =
        "--" B "\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\n1"
        "\r\n--" B "\r\nContent-Disposition: form-data; name=file; filename=b\r\n\r\n2"
        "\r\n--" B "--";
    cr_assert_eq(http_form_init(&form, CT, &opts), HTTP_FORM_OK);
    cr_assert_eq(http_form_feed(&form, two_files, sizeof two_files - 1), HTTP_FORM_E_DUPLICATE);
    http_form_clear(&form);

    static char long_field[512];
    int n = snprintf(long_field, sizeof long_field,
                     "--" B "\r\nContent-Disposition: form-data; name=caption\r\n\r\n");
    memset(long_field + n, 'c', 100);
    cr_assert_eq(http_form_init(&form, CT, &opts), HTTP_FORM_OK);
    cr_assert_eq(http_form_feed(&form, long_field, (size_t)n + 100), HTTP_FORM_E_FIELD_TOO_LARGE);
    http_form_clear(&form);

    const char truncated[] =
        "--" B "\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\n12";
    cr_assert_eq(http_form_init(&form, CT, &opts), HTTP_FORM_OK);
    cr_assert_eq(http_form_feed(&form, truncated, sizeof truncated - 1), HTTP_FORM_OK);
    cr_assert_eq(http_form_finish(&form), HTTP_FORM_E_TRUNCATED);
    http_form_clear(&form);
    cr_assert_eq(entries(), 0, "failed forms leave nothing");
}
