/*
 * test_api: every exported function of libberth (ffi/symbols.txt) that an offline
 * runtime offers, used as documented in include/berth.h, against the sample image
 * (sample/build.py says what is in it). The container, exec, pod, pull, push, event,
 * log, stats and snapshot functions are proven against containerd, Docker and Podman in
 * test_daemon.c (and misused in test_misuse.c).
 *
 *   test_api oci-archive:///ABS/PATH/sample/sample.oci.tar
 *
 * File contents are compared byte for byte with sample/layers/ beside the archive.
 * Everything opened is closed and every string freed: tests/c/run.sh runs this under
 * valgrind and AddressSanitizer and fails on any leak.
 */
#include "check.h"

#include <berth.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *endpoint;
static char sample_dir[4096]; /* ".../sample/" with the trailing slash */

/* ---- small helpers ------------------------------------------------------------- */

/* Reads a file of sample/layers/ from the host; `*len` gets its size. */
static unsigned char *host_file(const char *rel, size_t *len) {
    char path[8192];
    snprintf(path, sizeof path, "%slayers/%s", sample_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    unsigned char *data = malloc(65536);
    REQUIRE(data != NULL);
    *len = fread(data, 1, 65536, f);
    fclose(f);
    return data;
}

/* How many times `needle` occurs in `s`. */
static size_t count(const char *s, const char *needle) {
    size_t n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* Reads a whole stream of walk entries; their paths, joined by '\n', go to `out`. When
 * an entry's path is in `skip` (a '\n'-separated list, each ending in '\n'), the walk
 * does not descend into it. */
static void walk_paths(berth_fs fs, const char *root, const char *skip, char *out, size_t size) {
    berth_stream walk = {0};
    char *entry = NULL;
    berth_status status;
    out[0] = '\0';
    REQUIRE_OK(berth_fs_walk(&walk, fs, root));
    REQUIRE(walk.id != 0);
    while ((status = berth_stream_next(&entry, walk, -1)) == BERTH_OK) {
        char path[1024], key[1100];
        REQUIRE(entry != NULL);
        json_str(entry, "path", path, sizeof path);
        EXPECT(path[0] == '/');
        EXPECT_CONTAINS(entry, "\"type\":");
        EXPECT_CONTAINS(entry, "\"mode\":");
        if (strlen(out) + strlen(path) + 2 < size) {
            strcat(out, path);
            strcat(out, "\n");
        }
        snprintf(key, sizeof key, "\n%s\n", path);
        if (skip && strstr(skip, key)) EXPECT_OK(berth_stream_skip_dir(walk));
        berth_string_free(entry);
        entry = NULL;
    }
    EXPECT_STATUS(status, BERTH_END);
    EXPECT(entry == NULL);
    /* A finished stream stays finished. */
    EXPECT_STATUS(berth_stream_next(&entry, walk, 0), BERTH_END);
    EXPECT(entry == NULL);
    EXPECT_OK(berth_stream_close(walk));
    EXPECT_STATUS(berth_stream_close(walk), BERTH_ERR_INVALID_HANDLE);
}

/* berth_fs_read_file of `path` equals the host file `rel` of sample/layers/. */
static void expect_file_is(berth_fs fs, const char *path, const char *rel) {
    size_t want_len;
    unsigned char *want = host_file(rel, &want_len);
    berth_bytes got = {NULL, 0};
    if (EXPECT_OK(berth_fs_read_file(&got, fs, path, 0))) {
        EXPECT(got.len == want_len);
        EXPECT(got.data != NULL);
        EXPECT(got.len == want_len && got.data && memcmp(got.data, want, want_len) == 0);
        berth_bytes_free(got);
    }
    free(want);
}

/* ---- versions, statuses, errors -------------------------------------------------- */

static void test_versions_and_statuses(void) {
    EXPECT_STREQ(berth_version(), BERTH_VERSION);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", BERTH_VERSION_MAJOR, BERTH_VERSION_MINOR, BERTH_VERSION_PATCH);
    EXPECT_STREQ(berth_version(), v);
    EXPECT(berth_abi_version() == BERTH_ABI_VERSION);

    static const struct { int32_t status; const char *name; } names[] = {
        {BERTH_OK, "ok"},
        {BERTH_END, "end"},
        {BERTH_ERR_NOT_FOUND, "not_found"},
        {BERTH_ERR_ALREADY_EXISTS, "already_exists"},
        {BERTH_ERR_INVALID_ARGUMENT, "invalid_argument"},
        {BERTH_ERR_AMBIGUOUS, "ambiguous"},
        {BERTH_ERR_NOT_SUPPORTED, "not_supported"},
        {BERTH_ERR_UNAVAILABLE, "unavailable"},
        {BERTH_ERR_PERMISSION_DENIED, "permission_denied"},
        {BERTH_ERR_TIMEOUT, "timeout"},
        {BERTH_ERR_CANCELLED, "cancelled"},
        {BERTH_ERR_CONFLICT, "conflict"},
        {BERTH_ERR_IO, "io"},
        {BERTH_ERR_CORRUPT, "corrupt"},
        {BERTH_ERR_INTERNAL, "internal"},
        {BERTH_ERR_INVALID_HANDLE, "invalid_handle"},
        {BERTH_ERR_NULL_ARGUMENT, "null_argument"},
        {BERTH_ERR_PANIC, "panic"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        EXPECT_STREQ(berth_status_string(names[i].status), names[i].name);
    /* The header's table of every status has the same 18 values. */
    static const int32_t every[] = ALL;
    EXPECT(sizeof every / sizeof every[0] == sizeof names / sizeof names[0]);
    for (size_t i = 0; i < sizeof every / sizeof every[0]; i++)
        EXPECT(strcmp(berth_status_string(every[i]), "unknown") != 0);
    static const int32_t not_statuses[] = {2, -14, -19, -23, 12345, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof not_statuses / sizeof not_statuses[0]; i++)
        EXPECT_STREQ(berth_status_string(not_statuses[i]), "unknown");
}

/* Must run before any call fails on this thread. */
static void test_last_error_before_any_failure(void) {
    const char *m = berth_last_error_message();
    REQUIRE(m != NULL);
    EXPECT_STREQ(m, "");
    EXPECT(berth_last_error_status() == BERTH_OK);
}

static void test_detect(void) {
    char *json = NULL;
    REQUIRE_OK(berth_detect(&json));
    REQUIRE(json != NULL);
    size_t n = strlen(json);
    EXPECT(n >= 2 && json[0] == '[' && json[n - 1] == ']');
    /* Each detected runtime has an endpoint, a kind and a source. */
    EXPECT(count(json, "\"endpoint\":") == count(json, "\"kind\":"));
    EXPECT(count(json, "\"endpoint\":") == count(json, "\"source\":"));
    berth_string_free(json);
}

/* A failing berth_runtime_open leaves `*out` alone and says why. */
static void expect_open_fails(const char *ep, const char *options, berth_status want,
                              const char *message_part, int line) {
    berth_runtime rt = {0};
    berth_status got = berth_runtime_open(&rt, ep, options);
    char what[512];
    snprintf(what, sizeof what, "berth_runtime_open(\"%s\", %s%s%s) [line %d]", ep ? ep : "NULL",
             options ? "'" : "", options ? options : "NULL", options ? "'" : "", line);
    if (check_status(__FILE__, line, what, got, want, 0)) {
        EXPECT(rt.id == 0);
        EXPECT(berth_last_error_status() == want);
        EXPECT(strlen(berth_last_error_message()) > 0);
        if (message_part) EXPECT_CONTAINS(berth_last_error_message(), message_part);
    }
    if (got == BERTH_OK) EXPECT_OK(berth_runtime_close(rt));
}

static void test_runtime_open_errors(void) {
    expect_open_fails("oci-archive:///nonexistent/berth-test/none.oci.tar", NULL,
                      BERTH_ERR_NOT_FOUND, "none.oci.tar", __LINE__);
    expect_open_fails("bogus-scheme:///x.tar", NULL, BERTH_ERR_INVALID_ARGUMENT, "bogus-scheme", __LINE__);
    expect_open_fails("no scheme at all", NULL, BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails("oci-archive://", NULL, BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails(endpoint, "{not json", BERTH_ERR_INVALID_ARGUMENT, "options_json", __LINE__);
    expect_open_fails(endpoint, "{\"timeout_ms\": 1} trailing", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails(endpoint, "{\"timeoutms\": 5000}", BERTH_ERR_INVALID_ARGUMENT, "timeoutms", __LINE__);
    expect_open_fails(endpoint, "{\"timeout_ms\": \"soon\"}", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails(endpoint, "{\"timeout_ms\": -1}", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails(endpoint, "null", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails(endpoint, "42", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    /* options_json is "NULL or a JSON object" (berth.h, docs/schemas.md): an array is not. */
    expect_open_fails(endpoint, "[]", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
    expect_open_fails(endpoint, "[5000]", BERTH_ERR_INVALID_ARGUMENT, NULL, __LINE__);
}

/* ---- runtime, images, find rules ----------------------------------------------------- */

static void test_runtime(berth_runtime rt) {
    char *info = NULL;
    REQUIRE_OK(berth_runtime_info(&info, rt));
    EXPECT_CONTAINS(info, "\"kind\":\"oci-archive\"");
    EXPECT_CONTAINS(info, "\"images\":true");
    EXPECT_CONTAINS(info, "\"image_filesystems\":true");
    EXPECT_CONTAINS(info, "\"pull\":false");
    EXPECT_CONTAINS(info, "\"version\":{");
    EXPECT_CONTAINS(info, "sample.oci.tar\"");
    EXPECT_CONTAINS(info, "\"endpoint\":\"oci-archive://");
    berth_string_free(info);

    char *list = NULL;
    REQUIRE_OK(berth_runtime_list_images(&list, rt));
    REQUIRE(list != NULL);
    EXPECT(list[0] == '[' && list[strlen(list) - 1] == ']');
    EXPECT(count(list, "\"id\":\"sha256:") == 1);
    EXPECT_CONTAINS(list, "\"repo_tags\":[\"sample:latest\"]");
    EXPECT_CONTAINS(list, "\"manifest_digest\":\"sha256:");
    EXPECT_CONTAINS(list, "\"created\":\"2023-11-14T22:13:20Z\"");
    EXPECT_CONTAINS(list, "\"architecture\":\"amd64\"");
    EXPECT_CONTAINS(list, "\"os\":\"linux\"");
    berth_string_free(list);
}

/* find_images(pattern) lists exactly the sample image (or nothing when `want_id` is NULL). */
static void expect_find(berth_runtime rt, const char *pattern, const char *want_id, int line) {
    char *json = NULL;
    char what[256];
    snprintf(what, sizeof what, "berth_runtime_find_images(\"%s\") [line %d]", pattern, line);
    if (!check_status(__FILE__, line, what, berth_runtime_find_images(&json, rt, pattern), BERTH_OK, 0)) return;
    if (want_id) {
        EXPECT_CONTAINS(json, want_id);
        EXPECT(count(json, "\"id\":") == 1);
        EXPECT_CONTAINS(json, "\"repo_tags\":[\"sample:latest\"]");
    } else {
        EXPECT_STREQ(json, "[]");
    }
    berth_string_free(json);
}

/* open_image(pattern) opens the sample image. */
static void expect_open_image(berth_runtime rt, const char *pattern, const char *want_id, int line) {
    berth_image image = {0};
    char what[256];
    snprintf(what, sizeof what, "berth_runtime_open_image(\"%s\") [line %d]", pattern, line);
    if (!check_status(__FILE__, line, what, berth_runtime_open_image(&image, rt, pattern), BERTH_OK, 0)) return;
    char *id = NULL;
    EXPECT_OK(berth_image_id(&id, image));
    EXPECT_STREQ(id, want_id);
    berth_string_free(id);
    EXPECT_OK(berth_image_close(image));
}

static void test_find_rules(berth_runtime rt, const char *id) {
    char *list = NULL, manifest[128], prefix[16], hex[80], wrong[80];
    REQUIRE_OK(berth_runtime_list_images(&list, rt));
    json_str(list, "manifest_digest", manifest, sizeof manifest);
    berth_string_free(list);
    EXPECT(strncmp(manifest, "sha256:", 7) == 0 && strlen(manifest) == 71);

    snprintf(prefix, sizeof prefix, "%.12s", id + 7);
    snprintf(hex, sizeof hex, "%s", id + 7);
    snprintf(wrong, sizeof wrong, "sha256:%s", id + 7);
    wrong[7] = wrong[7] == '0' ? '1' : '0'; /* a well-formed ID of no image */

    expect_find(rt, id, id, __LINE__);             /* rule 1: the exact ID */
    expect_find(rt, manifest, id, __LINE__);       /* rule 1: the manifest digest */
    expect_find(rt, hex, id, __LINE__);            /* rule 2: all of the hex */
    expect_find(rt, prefix, id, __LINE__);         /* rule 2: a hex prefix */
    expect_find(rt, "sample", id, __LINE__);       /* a name */
    expect_find(rt, "sample:latest", id, __LINE__); /* a reference */
    expect_find(rt, "  sample  ", id, __LINE__);   /* surrounding blanks are trimmed */
    expect_find(rt, "nosuchimage", NULL, __LINE__);
    expect_find(rt, "sample:other", NULL, __LINE__);
    expect_find(rt, "other/sample", NULL, __LINE__);
    expect_find(rt, "0000000", NULL, __LINE__);
    expect_find(rt, wrong, NULL, __LINE__);

    expect_open_image(rt, id, id, __LINE__);
    expect_open_image(rt, prefix, id, __LINE__);
    expect_open_image(rt, "sample:latest", id, __LINE__);
    expect_open_image(rt, manifest, id, __LINE__);

    /* No match: NOT_FOUND, the handle untouched, a message naming the pattern. */
    berth_image image = {0};
    if (EXPECT_STATUS(berth_runtime_open_image(&image, rt, "nosuchimage"), BERTH_ERR_NOT_FOUND)) {
        EXPECT(image.id == 0);
        EXPECT(berth_last_error_status() == BERTH_ERR_NOT_FOUND);
        EXPECT_CONTAINS(berth_last_error_message(), "nosuchimage");
    } else if (image.id) {
        berth_image_close(image);
    }
    image.id = 0;
    if (EXPECT_STATUS(berth_runtime_open_image(&image, rt, wrong), BERTH_ERR_NOT_FOUND)) {
        EXPECT(image.id == 0);
    } else if (image.id) {
        berth_image_close(image);
    }
    /* A malformed pattern is INVALID_ARGUMENT (for find and open alike). */
    char *json = NULL;
    EXPECT_STATUS(berth_runtime_find_images(&json, rt, "Bad Name!"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(json == NULL);
    image.id = 0;
    EXPECT_STATUS(berth_runtime_open_image(&image, rt, "Bad Name!"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(image.id == 0);
}

static void test_image(berth_image image, const char *id) {
    char *inspect = NULL;
    REQUIRE_OK(berth_image_inspect(&inspect, image));
    char want[128];
    snprintf(want, sizeof want, "\"id\":\"%s\"", id);
    EXPECT_CONTAINS(inspect, want);
    EXPECT_CONTAINS(inspect, "\"repo_tags\":[\"sample:latest\"]");
    EXPECT_CONTAINS(inspect, "\"repo_digests\":[]");
    EXPECT_CONTAINS(inspect, "\"manifest_digest\":\"sha256:");
    EXPECT_CONTAINS(inspect, "\"created\":\"2023-11-14T22:13:20Z\"");
    EXPECT_CONTAINS(inspect, "\"size\":");
    EXPECT_CONTAINS(inspect, "\"layers\":[");
    EXPECT_CONTAINS(inspect, "\"manifest\":{");
    EXPECT_CONTAINS(inspect, "\"config\":{");
    EXPECT_CONTAINS(inspect, "\"Cmd\":[\"/bin/hello\"]");
    EXPECT_CONTAINS(inspect, "\"schemaVersion\":2");
    EXPECT_CONTAINS(inspect, "\"architecture\":\"amd64\"");
    EXPECT(count(inspect, "\"diff_id\":") == 2);

    size_t layers = 0;
    REQUIRE_OK(berth_image_layer_count(&layers, image));
    REQUIRE(layers == 2);

    for (size_t i = 0; i < layers; i++) {
        berth_layer layer = {0};
        char *doc = NULL, digest[128];
        REQUIRE_OK(berth_image_layer(&layer, image, i));
        REQUIRE(layer.id != 0);
        REQUIRE_OK(berth_layer_inspect(&doc, layer));
        EXPECT_CONTAINS(doc, "\"digest\":\"sha256:");
        EXPECT_CONTAINS(doc, "\"diff_id\":\"sha256:");
        EXPECT_CONTAINS(doc, "\"media_type\":\"application/vnd.oci.image.layer.v1.tar+gzip\"");
        EXPECT_CONTAINS(doc, "\"compression\":\"gzip\"");
        EXPECT_CONTAINS(doc, "\"size\":");
        /* The layer is the image's layer i: its digest is in the inspect document, and
         * the i-th digest of "layers" there. */
        json_str(doc, "digest", digest, sizeof digest);
        EXPECT(strlen(digest) == 71);
        EXPECT_CONTAINS(inspect, digest);
        {
            const char *p = strstr(inspect, "\"layers\":[");
            for (size_t k = 0; p && k <= i; k++) p = strstr(p + 1, "\"digest\":\"");
            EXPECT(p && strncmp(p + 10, digest, 71) == 0);
        }
        berth_string_free(doc);

        char *changes = NULL;
        REQUIRE_OK(berth_layer_changes(&changes, layer));
        if (i == 0) {
            EXPECT_CONTAINS(changes, "\"whiteouts\":[]");
            EXPECT_CONTAINS(changes, "\"opaques\":[]");
        } else {
            EXPECT_CONTAINS(changes, "\"whiteouts\":[\"var/log/old.log\"]");
            EXPECT_CONTAINS(changes, "\"opaques\":[\"usr/share/doc/sample\"]");
        }
        berth_string_free(changes);

        /* Each layer's own files, markers hidden. */
        berth_fs lfs = {0};
        char *s = NULL;
        REQUIRE_OK(berth_layer_filesystem(&lfs, layer));
        REQUIRE(lfs.id != 0);
        if (i == 0) {
            expect_file_is(lfs, "/etc/motd", "1-base/etc/motd");
            expect_file_is(lfs, "/var/log/old.log", "1-base/var/log/old.log");
            expect_file_is(lfs, "/usr/share/doc/sample/README", "1-base/usr/share/doc/sample/README");
            expect_file_is(lfs, "/etc/os-release", "1-base/usr/lib/os-release");
            EXPECT_OK(berth_fs_read_dir(&s, lfs, "/"));
            EXPECT_CONTAINS(s, "\"name\":\"bin\"");
            berth_string_free(s);
            s = NULL;
            EXPECT_STATUS(berth_fs_stat(&s, lfs, "/usr/share/doc/sample/CHANGES"), BERTH_ERR_NOT_FOUND);
        } else {
            expect_file_is(lfs, "/etc/motd", "2-update/etc/motd");
            expect_file_is(lfs, "/usr/share/doc/sample/CHANGES", "2-update/usr/share/doc/sample/CHANGES");
            EXPECT_OK(berth_fs_read_dir(&s, lfs, "/usr/share/doc/sample"));
            EXPECT_CONTAINS(s, "\"name\":\"CHANGES\"");
            EXPECT(s && strstr(s, ".wh.") == NULL);
            EXPECT(count(s, "\"name\":") == 1);
            berth_string_free(s);
            s = NULL;
            EXPECT_OK(berth_fs_read_dir(&s, lfs, "/"));
            EXPECT(s && strstr(s, ".wh.") == NULL && strstr(s, "\"name\":\"bin\"") == NULL);
            berth_string_free(s);
            s = NULL;
            /* The whiteout marks a deletion; the layer has no such file of its own. */
            EXPECT_STATUS(berth_fs_stat(&s, lfs, "/var/log/old.log"), BERTH_ERR_NOT_FOUND);
            EXPECT_STATUS(berth_fs_stat(&s, lfs, "/var/log/.wh.old.log"), BERTH_ERR_NOT_FOUND);
            EXPECT_STATUS(berth_fs_stat(&s, lfs, "/bin/hello"), BERTH_ERR_NOT_FOUND);
        }
        EXPECT(s == NULL);
        EXPECT_OK(berth_fs_close(lfs));
        EXPECT_OK(berth_layer_close(layer));
        EXPECT_STATUS(berth_layer_close(layer), BERTH_ERR_INVALID_HANDLE);
    }
    berth_string_free(inspect);

    berth_layer none = {0};
    EXPECT_STATUS(berth_image_layer(&none, image, layers), BERTH_ERR_NOT_FOUND);
    EXPECT(none.id == 0);
    EXPECT_STATUS(berth_image_layer(&none, image, (size_t)-1), BERTH_ERR_NOT_FOUND);
    EXPECT(none.id == 0);
}

/* ---- the squashed filesystem ------------------------------------------------------- */

static void test_fs_metadata(berth_fs fs) {
    char *s = NULL;

    REQUIRE_OK(berth_fs_stat(&s, fs, "/etc/os-release"));
    EXPECT_CONTAINS(s, "\"type\":\"file\"");
    EXPECT_CONTAINS(s, "\"size\":125");
    EXPECT_CONTAINS(s, "\"mode\":420");
    EXPECT_CONTAINS(s, "\"uid\":0");
    EXPECT_CONTAINS(s, "\"mtime\":1700000000");
    EXPECT_CONTAINS(s, "\"link\":null");
    berth_string_free(s);

    REQUIRE_OK(berth_fs_lstat(&s, fs, "/etc/os-release"));
    EXPECT_CONTAINS(s, "\"type\":\"symlink\"");
    EXPECT_CONTAINS(s, "\"link\":\"../usr/lib/os-release\"");
    berth_string_free(s);

    REQUIRE_OK(berth_fs_stat(&s, fs, "/bin/hello"));
    EXPECT_CONTAINS(s, "\"mode\":493"); /* 0755 */
    EXPECT_CONTAINS(s, "\"size\":120");
    berth_string_free(s);

    REQUIRE_OK(berth_fs_stat(&s, fs, "/usr/share/doc"));
    EXPECT_CONTAINS(s, "\"type\":\"dir\"");
    berth_string_free(s);

    /* Paths resolve inside the root: ".." stops at "/", relative is from "/". */
    REQUIRE_OK(berth_fs_stat(&s, fs, "/../../etc/./os-release"));
    EXPECT_CONTAINS(s, "\"size\":125");
    berth_string_free(s);
    REQUIRE_OK(berth_fs_stat(&s, fs, "etc/os-release"));
    EXPECT_CONTAINS(s, "\"size\":125");
    berth_string_free(s);

    REQUIRE_OK(berth_fs_readlink(&s, fs, "/etc/os-release"));
    EXPECT_STREQ(s, "../usr/lib/os-release");
    berth_string_free(s);
    REQUIRE_OK(berth_fs_eval_symlink(&s, fs, "/etc/os-release"));
    EXPECT_STREQ(s, "/usr/lib/os-release");
    berth_string_free(s);
    REQUIRE_OK(berth_fs_eval_symlink(&s, fs, "/usr/share/../lib/./os-release"));
    EXPECT_STREQ(s, "/usr/lib/os-release");
    berth_string_free(s);
    REQUIRE_OK(berth_fs_eval_symlink(&s, fs, "/etc"));
    EXPECT_STREQ(s, "/etc");
    berth_string_free(s);
    s = NULL;

    /* Errors, each with NULL left in *out. */
    EXPECT_STATUS(berth_fs_readlink(&s, fs, "/etc/motd"), BERTH_ERR_INVALID_ARGUMENT); /* not a symlink */
    EXPECT_CONTAINS(berth_last_error_message(), "/etc/motd");
    EXPECT_STATUS(berth_fs_readlink(&s, fs, "/etc"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_fs_readlink(&s, fs, "/etc/nothing"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/no/such/file"), BERTH_ERR_NOT_FOUND);
    EXPECT_CONTAINS(berth_last_error_message(), "/no/such/file");
    EXPECT_STATUS(berth_fs_lstat(&s, fs, "/etc/nothing"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/etc/motd/x"), BERTH_ERR_INVALID_ARGUMENT); /* not a dir */
    EXPECT_STATUS(berth_fs_eval_symlink(&s, fs, "/etc/nothing"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_fs_read_dir(&s, fs, "/etc/nothing"), BERTH_ERR_NOT_FOUND);
    /* The update layer deleted old.log (whiteout) and replaced doc/sample (opaque). */
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/var/log/old.log"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/usr/share/doc/sample/README"), BERTH_ERR_NOT_FOUND);
    EXPECT(s == NULL);

    /* Directories: sorted by name, the entries' own metadata. */
    REQUIRE_OK(berth_fs_read_dir(&s, fs, "/"));
    {
        const char *bin = strstr(s, "\"name\":\"bin\""), *etc = strstr(s, "\"name\":\"etc\"");
        const char *usr = strstr(s, "\"name\":\"usr\""), *var = strstr(s, "\"name\":\"var\"");
        EXPECT(s[0] == '[');
        EXPECT(bin && etc && usr && var && bin < etc && etc < usr && usr < var);
        EXPECT(count(s, "\"name\":") == 4);
    }
    berth_string_free(s);
    REQUIRE_OK(berth_fs_read_dir(&s, fs, "/etc"));
    {
        const char *h = strstr(s, "\"name\":\"hostname\""), *m = strstr(s, "\"name\":\"motd\"");
        const char *o = strstr(s, "\"name\":\"os-release\"");
        EXPECT(h && m && o && h < m && m < o);
        EXPECT(count(s, "\"name\":") == 3);
        EXPECT(o && strstr(o, "\"type\":\"symlink\"") != NULL); /* links not followed */
    }
    berth_string_free(s);
    REQUIRE_OK(berth_fs_read_dir(&s, fs, "/var/log"));
    EXPECT_STREQ(s, "[]");
    berth_string_free(s);
    REQUIRE_OK(berth_fs_read_dir(&s, fs, "/usr/share/doc/sample"));
    EXPECT_CONTAINS(s, "\"name\":\"CHANGES\"");
    EXPECT(count(s, "\"name\":") == 1);
    berth_string_free(s);
}

static void test_fs_files(berth_fs fs) {
    expect_file_is(fs, "/etc/os-release", "1-base/usr/lib/os-release");
    expect_file_is(fs, "/usr/lib/os-release", "1-base/usr/lib/os-release");
    expect_file_is(fs, "/etc/motd", "2-update/etc/motd");
    expect_file_is(fs, "/etc/hostname", "1-base/etc/hostname");
    expect_file_is(fs, "/bin/hello", "1-base/bin/hello");
    expect_file_is(fs, "/usr/share/doc/sample/CHANGES", "2-update/usr/share/doc/sample/CHANGES");

    berth_bytes b = {NULL, 0};
    REQUIRE_OK(berth_fs_read_file(&b, fs, "/etc/os-release", 0));
    REQUIRE(b.len == 125 && b.data != NULL);
    {
        char text[126];
        memcpy(text, b.data, 125);
        text[125] = '\0';
        EXPECT_CONTAINS(text, "ID=berth-sample");
    }
    unsigned char data[125];
    memcpy(data, b.data, sizeof data);
    berth_bytes_free(b);

    /* max_bytes: exactly the file's size reads it; one byte less refuses it, naming the
       size, the limit and the way to stream it; 0 is the default, 64 MiB. */
    REQUIRE_OK(berth_fs_read_file(&b, fs, "/etc/os-release", 125));
    EXPECT(b.len == 125 && b.data != NULL && memcmp(b.data, data, 125) == 0);
    berth_bytes_free(b);
    berth_bytes over = {NULL, 0};
    EXPECT_STATUS(berth_fs_read_file(&over, fs, "/etc/os-release", 124), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(over.data == NULL && over.len == 0);
    EXPECT_CONTAINS(berth_last_error_message(), "the file is 125 bytes, over the limit of 124 bytes");
    EXPECT_CONTAINS(berth_last_error_message(), "berth_fs_open");
    EXPECT_STATUS(berth_fs_read_file(&over, fs, "/bin/hello", 1), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(BERTH_READ_FILE_DEFAULT_MAX_BYTES == 64ull * 1024 * 1024);
    REQUIRE_OK(berth_fs_read_file(&b, fs, "/etc/os-release", 0));
    EXPECT(b.len == 125);
    berth_bytes_free(b);

    berth_bytes none = {NULL, 0};
    EXPECT_STATUS(berth_fs_read_file(&none, fs, "/etc", 0), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(none.data == NULL && none.len == 0);
    EXPECT_STATUS(berth_fs_read_file(&none, fs, "/var/log/old.log", 0), BERTH_ERR_NOT_FOUND);
    EXPECT(none.data == NULL && none.len == 0);

    /* An open file: through the symlink, read in chunks, at offsets, and seek. */
    berth_file f = {0};
    REQUIRE_OK(berth_fs_open(&f, fs, "/etc/os-release"));
    REQUIRE(f.id != 0);
    char *st = NULL;
    REQUIRE_OK(berth_file_stat(&st, f));
    EXPECT_CONTAINS(st, "\"path\":\"/usr/lib/os-release\"");
    EXPECT_CONTAINS(st, "\"size\":125");
    EXPECT_CONTAINS(st, "\"type\":\"file\"");
    EXPECT_CONTAINS(st, "\"mode\":420");
    berth_string_free(st);

    unsigned char got[256];
    size_t total = 0, n = 0;
    for (int i = 0; i < 100; i++) {
        REQUIRE_OK(berth_file_read(&n, f, got + total, 7));
        if (n == 0) break;
        EXPECT(n <= 7);
        total += n;
        REQUIRE(total <= 125);
    }
    EXPECT(total == 125);
    EXPECT(memcmp(got, data, 125) == 0);
    n = 99;
    EXPECT_OK(berth_file_read(&n, f, got, sizeof got)); /* at the end: 0 */
    EXPECT(n == 0);

    uint64_t pos = 99;
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == 125);
    EXPECT_OK(berth_file_seek(&pos, f, 10, BERTH_SEEK_SET));
    EXPECT(pos == 10);
    EXPECT_OK(berth_file_read(&n, f, got, 5));
    EXPECT(n == 5 && memcmp(got, data + 10, 5) == 0);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == 15);
    EXPECT_OK(berth_file_seek(&pos, f, -5, BERTH_SEEK_CUR));
    EXPECT(pos == 10);
    EXPECT_OK(berth_file_seek(&pos, f, 20, BERTH_SEEK_CUR));
    EXPECT(pos == 30);
    EXPECT_OK(berth_file_read(&n, f, got, 3));
    EXPECT(n == 3 && memcmp(got, data + 30, 3) == 0);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_END));
    EXPECT(pos == 125);
    EXPECT_OK(berth_file_seek(&pos, f, -25, BERTH_SEEK_END));
    EXPECT(pos == 100);
    EXPECT_OK(berth_file_read(&n, f, got, sizeof got));
    EXPECT(n == 25 && memcmp(got, data + 100, 25) == 0);
    /* Past the end is allowed, reads there give 0. */
    EXPECT_OK(berth_file_seek(&pos, f, 10, BERTH_SEEK_END));
    EXPECT(pos == 135);
    n = 99;
    EXPECT_OK(berth_file_read(&n, f, got, sizeof got));
    EXPECT(n == 0);
    EXPECT_OK(berth_file_seek(&pos, f, 1000, BERTH_SEEK_SET));
    EXPECT(pos == 1000);
    /* Before the start is INVALID_ARGUMENT, and the position stays. */
    EXPECT_OK(berth_file_seek(&pos, f, 40, BERTH_SEEK_SET));
    EXPECT_STATUS(berth_file_seek(&pos, f, -1, BERTH_SEEK_SET), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, -41, BERTH_SEEK_CUR), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, -126, BERTH_SEEK_END), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == 40);
    EXPECT_OK(berth_file_seek(&pos, f, -40, BERTH_SEEK_CUR));
    EXPECT(pos == 0);
    EXPECT_OK(berth_file_seek(&pos, f, -125, BERTH_SEEK_END));
    EXPECT(pos == 0);

    /* read_at: any offset, the position does not move. */
    EXPECT_OK(berth_file_seek(&pos, f, 7, BERTH_SEEK_SET));
    EXPECT_OK(berth_file_read_at(&n, f, got, 20, 50));
    EXPECT(n == 20 && memcmp(got, data + 50, 20) == 0);
    EXPECT_OK(berth_file_read_at(&n, f, got, 1, 0));
    EXPECT(n == 1 && got[0] == data[0]);
    EXPECT_OK(berth_file_read_at(&n, f, got, 20, 120));
    EXPECT(n == 5 && memcmp(got, data + 120, 5) == 0);
    EXPECT_OK(berth_file_read_at(&n, f, got, sizeof got, 0));
    EXPECT(n == 125 && memcmp(got, data, 125) == 0);
    n = 99;
    EXPECT_OK(berth_file_read_at(&n, f, got, 20, 125));
    EXPECT(n == 0);
    n = 99;
    EXPECT_OK(berth_file_read_at(&n, f, got, 20, 1u << 20));
    EXPECT(n == 0);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == 7);
    EXPECT_OK(berth_file_read(&n, f, got, 3));
    EXPECT(n == 3 && memcmp(got, data + 7, 3) == 0);

    EXPECT_OK(berth_file_close(f));
    EXPECT_STATUS(berth_file_close(f), BERTH_ERR_INVALID_HANDLE);

    /* A binary-ish file read by an fs_open of its real path. */
    berth_file hello = {0};
    size_t hello_len;
    unsigned char *want = host_file("1-base/bin/hello", &hello_len);
    REQUIRE_OK(berth_fs_open(&hello, fs, "/bin/hello"));
    EXPECT_OK(berth_file_read(&n, hello, got, sizeof got));
    EXPECT(n == hello_len && memcmp(got, want, hello_len) == 0);
    EXPECT_OK(berth_file_stat(&st, hello));
    EXPECT_CONTAINS(st, "\"mode\":493");
    EXPECT_CONTAINS(st, "\"path\":\"/bin/hello\"");
    berth_string_free(st);
    EXPECT_OK(berth_file_close(hello));
    free(want);

    berth_file none_f = {0};
    EXPECT_STATUS(berth_fs_open(&none_f, fs, "/etc"), BERTH_ERR_INVALID_ARGUMENT); /* a directory */
    EXPECT_CONTAINS(berth_last_error_message(), "/etc");
    EXPECT(none_f.id == 0);
    EXPECT_STATUS(berth_fs_open(&none_f, fs, "/"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_fs_open(&none_f, fs, "/etc/nothing"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_fs_open(&none_f, fs, "/var/log/old.log"), BERTH_ERR_NOT_FOUND);
    EXPECT(none_f.id == 0);
}

static void test_fs_walk(berth_fs fs) {
    static char got[8192];
    walk_paths(fs, "/", NULL, got, sizeof got);
    EXPECT_STREQ(got,
                 "/\n/bin\n/bin/hello\n/etc\n/etc/hostname\n/etc/motd\n/etc/os-release\n"
                 "/usr\n/usr/lib\n/usr/lib/os-release\n/usr/share\n/usr/share/doc\n"
                 "/usr/share/doc/sample\n/usr/share/doc/sample/CHANGES\n/var\n/var/log\n");
    /* skip_dir: nothing below /etc and /usr/share. */
    walk_paths(fs, "/", "\n/etc\n/usr/share\n", got, sizeof got);
    EXPECT_STREQ(got, "/\n/bin\n/bin/hello\n/etc\n/usr\n/usr/lib\n/usr/lib/os-release\n/usr/share\n/var\n/var/log\n");
    /* skipping the root: the root only. */
    walk_paths(fs, "/", "\n/\n", got, sizeof got);
    EXPECT_STREQ(got, "/\n");
    walk_paths(fs, "/usr/share", NULL, got, sizeof got);
    EXPECT_STREQ(got, "/usr/share\n/usr/share/doc\n/usr/share/doc/sample\n/usr/share/doc/sample/CHANGES\n");
    walk_paths(fs, "/etc/motd", NULL, got, sizeof got);
    EXPECT_STREQ(got, "/etc/motd\n");

    /* Entries are lstat documents: the symlink is a symlink, with its link. */
    berth_stream walk = {0};
    char *entry = NULL;
    int seen = 0;
    REQUIRE_OK(berth_fs_walk(&walk, fs, "/etc"));
    while (berth_stream_next(&entry, walk, 1000) == BERTH_OK) {
        if (strstr(entry, "\"path\":\"/etc/os-release\"")) {
            seen = 1;
            EXPECT_CONTAINS(entry, "\"type\":\"symlink\"");
            EXPECT_CONTAINS(entry, "\"link\":\"../usr/lib/os-release\"");
        }
        berth_string_free(entry);
    }
    EXPECT(seen);
    EXPECT_OK(berth_stream_close(walk));

    /* A walk of a missing root fails on its first item, then is done. */
    REQUIRE_OK(berth_fs_walk(&walk, fs, "/no/such/dir"));
    entry = NULL;
    EXPECT_STATUS(berth_stream_next(&entry, walk, -1), BERTH_ERR_NOT_FOUND);
    EXPECT(entry == NULL);
    EXPECT_STATUS(berth_stream_next(&entry, walk, -1), BERTH_END);
    EXPECT(entry == NULL);
    EXPECT_OK(berth_stream_close(walk));

    /* Closing a stream part way is fine. */
    REQUIRE_OK(berth_fs_walk(&walk, fs, "/"));
    REQUIRE_OK(berth_stream_next(&entry, walk, -1));
    berth_string_free(entry);
    EXPECT_OK(berth_stream_close(walk));
    entry = NULL;
    EXPECT_STATUS(berth_stream_next(&entry, walk, -1), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_stream_skip_dir(walk), BERTH_ERR_INVALID_HANDLE);
    EXPECT(entry == NULL);
}

/* Handles may be closed in any order: objects keep alive what they need. */
static void test_close_order(void) {
    berth_runtime rt = {0};
    berth_image image = {0};
    berth_layer layer = {0};
    berth_fs fs = {0};
    berth_file f = {0};
    berth_stream walk = {0};
    char *s = NULL;
    size_t n = 0;
    unsigned char buf[16];

    REQUIRE_OK(berth_runtime_open(&rt, endpoint, "{\"timeout_ms\": 30000, \"platform\": \"linux/amd64\"}"));
    REQUIRE_OK(berth_runtime_open_image(&image, rt, "sample"));
    REQUIRE_OK(berth_runtime_close(rt)); /* the runtime first */
    EXPECT_STATUS(berth_runtime_info(&s, rt), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_runtime_close(rt), BERTH_ERR_INVALID_HANDLE);
    EXPECT(s == NULL);

    REQUIRE_OK(berth_image_layer(&layer, image, 1));
    REQUIRE_OK(berth_image_filesystem(&fs, image));
    REQUIRE_OK(berth_image_close(image)); /* then the image */
    EXPECT_STATUS(berth_image_id(&s, image), BERTH_ERR_INVALID_HANDLE);
    EXPECT(s == NULL);
    EXPECT_OK(berth_layer_changes(&s, layer));
    EXPECT_CONTAINS(s, "var/log/old.log");
    berth_string_free(s);
    s = NULL;
    EXPECT_OK(berth_layer_close(layer));

    REQUIRE_OK(berth_fs_open(&f, fs, "/etc/hostname"));
    REQUIRE_OK(berth_fs_walk(&walk, fs, "/"));
    REQUIRE_OK(berth_fs_close(fs)); /* the filesystem before its file and walk */
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/"), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_fs_close(fs), BERTH_ERR_INVALID_HANDLE);
    EXPECT_OK(berth_file_read(&n, f, buf, sizeof buf));
    EXPECT(n == 7);
    int items = 0;
    while (berth_stream_next(&s, walk, -1) == BERTH_OK) {
        items++;
        berth_string_free(s);
    }
    EXPECT(items == 16);
    EXPECT_OK(berth_stream_close(walk));
    EXPECT_OK(berth_file_close(f));
}

int main(int argc, char **argv) {
    if (argc != 2 || strncmp(argv[1], "oci-archive://", 14) != 0) {
        fprintf(stderr, "usage: %s oci-archive:///ABS/PATH/sample/sample.oci.tar\n", argv[0]);
        return 2;
    }
    endpoint = argv[1];
    {
        const char *path = endpoint + 14;
        const char *slash = strrchr(path, '/');
        REQUIRE(slash != NULL && (size_t)(slash - path) + 2 < sizeof sample_dir);
        memcpy(sample_dir, path, (size_t)(slash - path) + 1);
        sample_dir[slash - path + 1] = '\0';
    }

    test_last_error_before_any_failure();
    test_versions_and_statuses();
    test_detect();
    test_runtime_open_errors();

    berth_runtime rt = {0};
    REQUIRE_OK(berth_runtime_open(&rt, endpoint, NULL));
    REQUIRE(rt.id != 0);
    test_runtime(rt);

    berth_image image = {0};
    REQUIRE_OK(berth_runtime_open_image(&image, rt, "sample"));
    REQUIRE(image.id != 0);
    char *id = NULL;
    REQUIRE_OK(berth_image_id(&id, image));
    REQUIRE(id != NULL && strncmp(id, "sha256:", 7) == 0 && strlen(id) == 71);
    test_find_rules(rt, id);
    test_image(image, id);

    berth_fs fs = {0};
    REQUIRE_OK(berth_image_filesystem(&fs, image));
    REQUIRE(fs.id != 0);
    /* A second filesystem of the same image is another handle to the same tree. */
    berth_fs fs2 = {0};
    REQUIRE_OK(berth_image_filesystem(&fs2, image));
    EXPECT(fs2.id != fs.id);
    test_fs_metadata(fs);
    test_fs_files(fs);
    test_fs_walk(fs2);

    /* The failures above set this thread's last error; a later success does not reset
     * it, a later failure replaces it. */
    {
        char *s = NULL;
        EXPECT_STATUS(berth_fs_stat(&s, fs, "/first/missing"), BERTH_ERR_NOT_FOUND);
        EXPECT_OK(berth_fs_stat(&s, fs, "/"));
        berth_string_free(s);
        s = NULL;
        EXPECT_CONTAINS(berth_last_error_message(), "/first/missing");
        EXPECT(berth_last_error_status() == BERTH_ERR_NOT_FOUND);
        EXPECT_STATUS(berth_fs_readlink(&s, fs, "/etc/hostname"), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT(berth_last_error_status() == BERTH_ERR_INVALID_ARGUMENT);
        EXPECT(strstr(berth_last_error_message(), "/first/missing") == NULL);
    }

    EXPECT_OK(berth_fs_close(fs2));
    EXPECT_OK(berth_fs_close(fs));
    EXPECT_STATUS(berth_fs_close(fs), BERTH_ERR_INVALID_HANDLE);
    berth_string_free(id);
    EXPECT_OK(berth_image_close(image));
    EXPECT_STATUS(berth_image_close(image), BERTH_ERR_INVALID_HANDLE);
    EXPECT_OK(berth_runtime_close(rt));
    EXPECT_STATUS(berth_runtime_close(rt), BERTH_ERR_INVALID_HANDLE);

    test_close_order();

    /* NULL and empty values are no-ops for the free functions. */
    berth_string_free(NULL);
    berth_bytes empty = {NULL, 0};
    berth_bytes_free(empty);

    return check_summary("test_api");
}
