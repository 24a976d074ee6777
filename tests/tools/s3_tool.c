/*
 * s3_tool.c - drives the S3 client (src/common/s3.c) from the command line so
 * the end-to-end tests can check it against a real S3 server (tests/rig/s3rig.py).
 * Not part of pgcdc: a test program built beside it.
 *
 *   s3_tool [options] s3://bucket/prefix COMMAND ARGS...
 *     put KEY FILE [--if-none-match]     PUT from memory (the whole file read first)
 *     put-fd KEY FILE [--if-none-match]  PUT streamed from the file
 *     put-file KEY FILE                  one PUT, or a multipart upload above the part size
 *     get KEY OUT [MAX_BYTES]            bounded GET into OUT ("-": stdout)
 *     head KEY                           prints "<size> <etag>"
 *     delete KEY
 *     list [PREFIX]                      prints "<key>\t<size>\t<etag>" per object
 *     multipart-abort KEY FILE           begins an upload, sends one part, aborts it
 *   options: --debug (log each request's progress)  --endpoint URL  --region R  --path-style
 * --virtual-host
 *            --retry-ms N  --part-size BYTES  --page-size N (objects per LIST request)
 *
 * Credentials, and the endpoint and region unless given, come from the
 * environment (AWS_ACCESS_KEY_ID, ...). Exit status: 0 done, 1 error
 * (message on stderr), 2 not found, 3 exists (a create found the key), 64 usage.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/s3.h"

static int usage(void)
{
    fprintf(stderr, "usage: s3_tool [--endpoint URL] [--region R] [--path-style|--virtual-host] "
                    "[--retry-ms N] [--part-size BYTES] s3://bucket/prefix COMMAND ARGS...\n"
                    "commands: put, put-fd, put-file, get, head, delete, list, "
                    "multipart-abort\n");
    return 64;
}

static int exit_code(int r)
{
    switch (r) {
    case PGCDC_S3_OK:
        return 0;
    case PGCDC_S3_NOT_FOUND:
        return 2;
    case PGCDC_S3_EXISTS:
        return 3;
    default:
        return 1;
    }
}

static int print_object(void *ctx, const pgcdc_s3_object *o)
{
    (void)ctx;
    printf("%s\t%" PRIu64 "\t%s\n", o->key, o->size, o->etag);
    return 0;
}

/* Opens path for reading and returns its size in *size; -1 with a message. */
static int open_file(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        perror(path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

static int read_all(const char *path, pgcdc_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        pgcdc_buf_append(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        perror(path);
    return bad ? -1 : 0;
}

static int write_all(const char *path, const pgcdc_buf *b)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f || (b->len && fwrite(b->data, 1, b->len, f) != b->len) || (f != stdout && fclose(f))) {
        perror(path);
        return -1;
    }
    return 0;
}

/* Runs COMMAND (argv[0]) on client c; returns the exit status. */
static int run(pgcdc_s3_client *c, int argc, char **argv, char *err, size_t errsz)
{
    const char *cmd = argv[0];
    int r = PGCDC_S3_ERR;
    unsigned flags = (argc > 3 && !strcmp(argv[3], "--if-none-match")) ? PGCDC_S3_IF_NONE_MATCH : 0;
    if (!strcmp(cmd, "put") && argc >= 3) {
        pgcdc_buf data = PGCDC_BUF_INIT;
        if (read_all(argv[2], &data) == 0)
            r = pgcdc_s3_put(c, argv[1], data.data, data.len, flags, err, errsz);
        else
            snprintf(err, errsz, "cannot read %s", argv[2]);
        pgcdc_buf_free(&data);
    } else if ((!strcmp(cmd, "put-fd") || !strcmp(cmd, "put-file") ||
                !strcmp(cmd, "multipart-abort")) &&
               argc >= 3) {
        uint64_t size;
        int fd = open_file(argv[2], &size);
        if (fd < 0)
            return 1;
        if (!strcmp(cmd, "put-fd")) {
            r = pgcdc_s3_put_fd(c, argv[1], fd, 0, size, flags, err, errsz);
        } else if (!strcmp(cmd, "put-file")) {
            r = pgcdc_s3_put_file(c, argv[1], fd, size, err, errsz);
        } else {
            char *id = NULL;
            pgcdc_s3_parts parts = {0};
            r = pgcdc_s3_multipart_begin(c, argv[1], &id, err, errsz);
            if (r == PGCDC_S3_OK)
                r = pgcdc_s3_multipart_part(c, argv[1], id, fd, 0, size, &parts, err, errsz);
            if (r == PGCDC_S3_OK)
                r = pgcdc_s3_multipart_abort(c, argv[1], id, err, errsz);
            pgcdc_s3_parts_free(&parts);
            free(id);
        }
        close(fd);
    } else if (!strcmp(cmd, "get") && argc >= 3) {
        pgcdc_buf data = PGCDC_BUF_INIT;
        size_t max = argc >= 4 ? (size_t)strtoull(argv[3], NULL, 10) : (size_t)64 << 20;
        r = pgcdc_s3_get(c, argv[1], &data, max, err, errsz);
        if (r == PGCDC_S3_OK && write_all(argv[2], &data))
            r = PGCDC_S3_ERR, snprintf(err, errsz, "cannot write %s", argv[2]);
        pgcdc_buf_free(&data);
    } else if (!strcmp(cmd, "head") && argc >= 2) {
        pgcdc_s3_object o;
        r = pgcdc_s3_head(c, argv[1], &o, err, errsz);
        if (r == PGCDC_S3_OK)
            printf("%" PRIu64 " %s\n", o.size, o.etag);
    } else if (!strcmp(cmd, "delete") && argc >= 2) {
        r = pgcdc_s3_delete(c, argv[1], err, errsz);
    } else if (!strcmp(cmd, "list")) {
        r = pgcdc_s3_list(c, argc >= 2 ? argv[1] : "", print_object, NULL, err, errsz);
    } else {
        return usage();
    }
    return exit_code(r);
}

int main(int argc, char **argv)
{
    pgcdc_s3_config cfg = {0};
    char *bucket = NULL, *prefix = NULL;
    char err[1024] = "";
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--debug"))
            pgcdc_log_set_level(PGCDC_LOG_DEBUG);
        else if (!strcmp(o, "--path-style"))
            cfg.style = PGCDC_S3_STYLE_PATH;
        else if (!strcmp(o, "--virtual-host"))
            cfg.style = PGCDC_S3_STYLE_VHOST;
        else if (i + 1 >= argc)
            return usage();
        else if (!strcmp(o, "--endpoint"))
            cfg.endpoint = argv[++i];
        else if (!strcmp(o, "--region"))
            cfg.region = argv[++i];
        else if (!strcmp(o, "--retry-ms"))
            cfg.retry_max_ms = strtol(argv[++i], NULL, 10);
        else if (!strcmp(o, "--page-size"))
            cfg.list_page_size = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(o, "--part-size"))
            cfg.part_size = (size_t)strtoull(argv[++i], NULL, 10);
        else
            return usage();
    }
    if (argc - i < 2)
        return usage();
    if (pgcdc_s3_url_parse(argv[i], "URL", &bucket, &prefix, err, sizeof(err))) {
        fprintf(stderr, "s3_tool: %s\n", err);
        return 1;
    }
    cfg.bucket = bucket;
    cfg.prefix = prefix;
    cfg.bucket_key = "URL";
    cfg.endpoint_key = "--endpoint";
    pgcdc_s3_config_from_env(&cfg);
    pgcdc_s3_client *c = pgcdc_s3_client_new(&cfg, err, sizeof(err));
    int rc = 1;
    if (c) {
        rc = run(c, argc - i - 1, argv + i + 1, err, sizeof(err));
        pgcdc_s3_client_free(c);
    }
    if (rc == 1)
        fprintf(stderr, "s3_tool: %s\n", err);
    free(bucket);
    free(prefix);
    return rc;
}
