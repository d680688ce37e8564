/*
 * test_misuse: libberth used wrongly, on purpose. Every case must come back as the
 * documented status (include/berth.h, docs/c-api.md): never a crash, never a leak,
 * never a write past the caller's buffer.
 *
 *   test_misuse oci-archive:///ABS/PATH/sample/sample.oci.tar
 *
 *  1. NULL for every pointer argument of every function    -> BERTH_ERR_NULL_ARGUMENT
 *  2. zero, closed, double-closed, wrong-kind and forged
 *     handles for every handle-taking function (32 of them) -> BERTH_ERR_INVALID_HANDLE
 *  3. bad UTF-8, empty strings, huge lengths, offsets past the end, bad seeks,
 *     streams read past their end, unknown statuses, the last error on a new thread
 *  4. threads: handles closed while 4 threads use them; 8 threads sharing one runtime,
 *     filesystem, file and walk.
 *  5. the daemon functions (containers, execs, pods, pull, push, events, logs, stats,
 *     snapshots) without a daemon: NULLs, forged and wrong-kind container/exec/pod
 *     handles, closed runtimes, bad JSON, empty names, bad UTF-8, bad signals -> their
 *     statuses; NOT_SUPPORTED from the offline runtime, a pull's and a push's error
 *     through their streams.
 */
#include "check.h"

#include <berth.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *endpoint;

/* /usr/lib/os-release of the sample (125 bytes), read once through the API. */
static unsigned char os_release[125];
#define OS_RELEASE_LEN 125

/* How libberth packs a handle (ffi/src/handle.rs), for forging numbers near live ones:
   the kind in the top 8 bits, then a 32-bit generation, then a 24-bit slot. */
#define H_KIND 0xff00000000000000ull
#define H_GENERATION_SHIFT 24
#define H_SLOT 0x0000000000ffffffull
#define H_GENERATION_1 (1ull << H_GENERATION_SHIFT)

static const char *bad_utf8[] = {
    "\xff\xfe",           /* never valid */
    "/etc/\xff",          /* valid start, bad byte */
    "\xc0\xaf",           /* overlong "/" */
    "\xed\xa0\x80",       /* a UTF-16 surrogate */
    "/usr/lib/os-rel\xe2", /* truncated sequence */
};
#define N_BAD_UTF8 (sizeof bad_utf8 / sizeof bad_utf8[0])

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the objects every section uses ---------------------------------------------- */

enum kind { K_RUNTIME, K_IMAGE, K_LAYER, K_FS, K_FILE, K_STREAM, N_KINDS };
static const char *kind_names[N_KINDS] = {"runtime", "image", "layer", "fs", "file", "stream"};

/* One live handle of each kind (exactly one: a forged "id + 1" can then never be live). */
static uint64_t live[N_KINDS];

/* A new handle of `kind`, opened from the live ones. */
static uint64_t open_one(enum kind kind) {
    switch (kind) {
    case K_RUNTIME: {
        berth_runtime h = {0};
        REQUIRE_OK(berth_runtime_open(&h, endpoint, NULL));
        return h.id;
    }
    case K_IMAGE: {
        berth_image h = {0};
        berth_runtime rt = {live[K_RUNTIME]};
        REQUIRE_OK(berth_runtime_open_image(&h, rt, "sample"));
        return h.id;
    }
    case K_LAYER: {
        berth_layer h = {0};
        berth_image image = {live[K_IMAGE]};
        REQUIRE_OK(berth_image_layer(&h, image, 1));
        return h.id;
    }
    case K_FS: {
        berth_fs h = {0};
        berth_image image = {live[K_IMAGE]};
        REQUIRE_OK(berth_image_filesystem(&h, image));
        return h.id;
    }
    case K_FILE: {
        berth_file h = {0};
        berth_fs fs = {live[K_FS]};
        REQUIRE_OK(berth_fs_open(&h, fs, "/etc/os-release"));
        return h.id;
    }
    case K_STREAM: {
        berth_stream h = {0};
        berth_fs fs = {live[K_FS]};
        REQUIRE_OK(berth_fs_walk(&h, fs, "/"));
        return h.id;
    }
    default:
        abort();
    }
}

static berth_status close_one(enum kind kind, uint64_t id) {
    switch (kind) {
    case K_RUNTIME: { berth_runtime h = {id}; return berth_runtime_close(h); }
    case K_IMAGE: { berth_image h = {id}; return berth_image_close(h); }
    case K_LAYER: { berth_layer h = {id}; return berth_layer_close(h); }
    case K_FS: { berth_fs h = {id}; return berth_fs_close(h); }
    case K_FILE: { berth_file h = {id}; return berth_file_close(h); }
    case K_STREAM: { berth_stream h = {id}; return berth_stream_close(h); }
    default: abort();
    }
}

/* ---- 1. NULL arguments --------------------------------------------------------------- */

static void test_null_arguments(void) {
    berth_runtime rt = {live[K_RUNTIME]};
    berth_image image = {live[K_IMAGE]};
    berth_layer layer = {live[K_LAYER]};
    berth_fs fs = {live[K_FS]};
    berth_file f = {live[K_FILE]};
    berth_stream stream = {live[K_STREAM]};
    char *s = NULL;
    berth_runtime rt_out = {0};
    berth_image image_out = {0};
    berth_fs fs_out = {0};
    berth_file file_out = {0};
    berth_stream stream_out = {0};
    berth_bytes bytes = {NULL, 0};
    unsigned char buf[64];
    size_t n = 0;

    EXPECT_STATUS(berth_runtime_open(NULL, endpoint, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT(berth_last_error_status() == BERTH_ERR_NULL_ARGUMENT);
    EXPECT_CONTAINS(berth_last_error_message(), "out");
    EXPECT_STATUS(berth_runtime_open(NULL, endpoint, "{\"timeout_ms\": 1000}"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_runtime_info(NULL, rt), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_runtime_list_images(NULL, rt), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_runtime_find_images(NULL, rt, "sample"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_runtime_find_images(&s, rt, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_CONTAINS(berth_last_error_message(), "pattern");
    EXPECT_STATUS(berth_runtime_open_image(NULL, rt, "sample"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_runtime_open_image(&image_out, rt, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_detect(NULL), BERTH_ERR_NULL_ARGUMENT);

    EXPECT_STATUS(berth_image_id(NULL, image), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_image_inspect(NULL, image), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_image_layer_count(NULL, image), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_image_layer(NULL, image, 0), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_image_filesystem(NULL, image), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_layer_inspect(NULL, layer), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_layer_changes(NULL, layer), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_layer_filesystem(NULL, layer), BERTH_ERR_NULL_ARGUMENT);

    EXPECT_STATUS(berth_fs_stat(NULL, fs, "/"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_stat(&s, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_CONTAINS(berth_last_error_message(), "path");
    EXPECT_STATUS(berth_fs_lstat(NULL, fs, "/"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_lstat(&s, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_readlink(NULL, fs, "/etc/os-release"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_readlink(&s, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_eval_symlink(NULL, fs, "/etc/os-release"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_eval_symlink(&s, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_read_dir(NULL, fs, "/"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_read_dir(&s, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_read_file(NULL, fs, "/etc/motd", 0), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_read_file(&bytes, fs, NULL, 0), BERTH_ERR_NULL_ARGUMENT);
    EXPECT(bytes.data == NULL && bytes.len == 0);
    EXPECT_STATUS(berth_fs_open(NULL, fs, "/etc/motd"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_open(&file_out, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_walk(NULL, fs, "/"), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_fs_walk(&stream_out, fs, NULL), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_CONTAINS(berth_last_error_message(), "root");

    uint64_t pos = 0;
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_SET));
    EXPECT_STATUS(berth_file_read(NULL, f, buf, sizeof buf), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_file_read(&n, f, NULL, sizeof buf), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_CONTAINS(berth_last_error_message(), "buf");
    EXPECT_STATUS(berth_file_read_at(NULL, f, buf, sizeof buf, 0), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_file_read_at(&n, f, NULL, sizeof buf, 0), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(NULL, f, 0, BERTH_SEEK_SET), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_file_stat(NULL, f), BERTH_ERR_NULL_ARGUMENT);
    /* The failed reads moved nothing. */
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == 0);
    /* A NULL buffer with len > 0 is a NULL required pointer wherever the file's
     * position is, also at or past the end (where nothing would be written). */
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_END));
    n = 99;
    EXPECT_STATUS(berth_file_read(&n, f, NULL, sizeof buf), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_file_read_at(&n, f, NULL, sizeof buf, 1000), BERTH_ERR_NULL_ARGUMENT);
    /* len 0 asks for no bytes: a NULL buffer is fine then. */
    n = 99;
    EXPECT_OK(berth_file_read_at(&n, f, NULL, 0, 0));
    EXPECT(n == 0);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_SET));
    n = 99;
    EXPECT_OK(berth_file_read(&n, f, NULL, 0));
    EXPECT(n == 0);

    EXPECT_STATUS(berth_stream_next(NULL, stream, 0), BERTH_ERR_NULL_ARGUMENT);
    EXPECT_STATUS(berth_stream_next(NULL, stream, -1), BERTH_ERR_NULL_ARGUMENT);

    /* NULL outputs with a bad handle too: one of the two errors, nothing else. */
    berth_runtime zero_rt = {0};
    berth_status st = berth_runtime_info(NULL, zero_rt);
    EXPECT(st == BERTH_ERR_NULL_ARGUMENT || st == BERTH_ERR_INVALID_HANDLE);
    berth_file zero_f = {0};
    st = berth_file_read(NULL, zero_f, NULL, 10);
    EXPECT(st == BERTH_ERR_NULL_ARGUMENT || st == BERTH_ERR_INVALID_HANDLE);

    /* Nothing was written to the outputs of the failed calls. */
    EXPECT(s == NULL);
    EXPECT(rt_out.id == 0 && image_out.id == 0 && fs_out.id == 0 && file_out.id == 0 && stream_out.id == 0);

    /* NULL is allowed where documented: no endpoint means "detect one", no options
     * mean the defaults. Either way not a NULL_ARGUMENT, and nothing to leak. */
    st = berth_runtime_open(&rt_out, NULL, NULL);
    EXPECT(st != BERTH_ERR_NULL_ARGUMENT && st != BERTH_ERR_PANIC);
    if (st == BERTH_OK) EXPECT_OK(berth_runtime_close(rt_out));
    else EXPECT(rt_out.id == 0);

    /* The free functions ignore NULL and empty values. */
    berth_string_free(NULL);
    berth_bytes empty = {NULL, 0};
    berth_bytes_free(empty);
    (void)fs_out;
}

/* ---- 2. bad handles ------------------------------------------------------------------- */

/* Each probe calls one handle-taking function with `id` as its handle and valid other
 * arguments, and cleans up if the call succeeds (it should not). On failure the
 * outputs must be untouched (NULL / 0). */
typedef berth_status (*probe_fn)(uint64_t id);
struct probe {
    const char *name;
    enum kind kind;
    probe_fn fn;
};

static void after_str(berth_status st, char *s, const char *name) {
    if (st == BERTH_OK) {
        berth_string_free(s);
    } else if (s != NULL) {
        char what[256];
        snprintf(what, sizeof what, "%s failed (%s) but set *out", name, berth_status_string(st));
        check_failed(__FILE__, __LINE__, what, 0);
    }
}

static void after_handle(berth_status st, enum kind kind, uint64_t id, const char *name) {
    if (st == BERTH_OK) {
        close_one(kind, id);
    } else if (id != 0) {
        char what[256];
        snprintf(what, sizeof what, "%s failed (%s) but set *out", name, berth_status_string(st));
        check_failed(__FILE__, __LINE__, what, 0);
    }
}

#define STRING_PROBE(fname, htype, CALL)                                          \
    static berth_status probe_##fname(uint64_t id) {                             \
        htype h = {id};                                                          \
        char *s = NULL;                                                          \
        berth_status st = CALL;                                                  \
        after_str(st, s, #fname);                                                \
        return st;                                                               \
    }
#define HANDLE_PROBE(fname, htype, otype, okind, CALL)                           \
    static berth_status probe_##fname(uint64_t id) {                             \
        htype h = {id};                                                          \
        otype o = {0};                                                           \
        berth_status st = CALL;                                                  \
        after_handle(st, okind, o.id, #fname);                                   \
        return st;                                                               \
    }
#define PLAIN_PROBE(fname, htype, CALL)                                          \
    static berth_status probe_##fname(uint64_t id) {                             \
        htype h = {id};                                                          \
        return CALL;                                                             \
    }

PLAIN_PROBE(runtime_close, berth_runtime, berth_runtime_close(h))
STRING_PROBE(runtime_info, berth_runtime, berth_runtime_info(&s, h))
STRING_PROBE(runtime_list_images, berth_runtime, berth_runtime_list_images(&s, h))
STRING_PROBE(runtime_find_images, berth_runtime, berth_runtime_find_images(&s, h, "sample"))
HANDLE_PROBE(runtime_open_image, berth_runtime, berth_image, K_IMAGE, berth_runtime_open_image(&o, h, "sample"))

PLAIN_PROBE(image_close, berth_image, berth_image_close(h))
STRING_PROBE(image_id, berth_image, berth_image_id(&s, h))
STRING_PROBE(image_inspect, berth_image, berth_image_inspect(&s, h))
HANDLE_PROBE(image_layer, berth_image, berth_layer, K_LAYER, berth_image_layer(&o, h, 0))
HANDLE_PROBE(image_filesystem, berth_image, berth_fs, K_FS, berth_image_filesystem(&o, h))
static berth_status probe_image_layer_count(uint64_t id) {
    berth_image h = {id};
    size_t n = 12345;
    berth_status st = berth_image_layer_count(&n, h);
    if (st != BERTH_OK) EXPECT(n == 12345);
    return st;
}

PLAIN_PROBE(layer_close, berth_layer, berth_layer_close(h))
STRING_PROBE(layer_inspect, berth_layer, berth_layer_inspect(&s, h))
STRING_PROBE(layer_changes, berth_layer, berth_layer_changes(&s, h))
HANDLE_PROBE(layer_filesystem, berth_layer, berth_fs, K_FS, berth_layer_filesystem(&o, h))

PLAIN_PROBE(fs_close, berth_fs, berth_fs_close(h))
STRING_PROBE(fs_stat, berth_fs, berth_fs_stat(&s, h, "/etc/os-release"))
STRING_PROBE(fs_lstat, berth_fs, berth_fs_lstat(&s, h, "/etc/os-release"))
STRING_PROBE(fs_readlink, berth_fs, berth_fs_readlink(&s, h, "/etc/os-release"))
STRING_PROBE(fs_eval_symlink, berth_fs, berth_fs_eval_symlink(&s, h, "/etc/os-release"))
STRING_PROBE(fs_read_dir, berth_fs, berth_fs_read_dir(&s, h, "/"))
HANDLE_PROBE(fs_open, berth_fs, berth_file, K_FILE, berth_fs_open(&o, h, "/etc/os-release"))
HANDLE_PROBE(fs_walk, berth_fs, berth_stream, K_STREAM, berth_fs_walk(&o, h, "/"))
static berth_status probe_fs_read_file(uint64_t id) {
    berth_fs h = {id};
    berth_bytes b = {NULL, 0};
    berth_status st = berth_fs_read_file(&b, h, "/etc/os-release", 0);
    if (st == BERTH_OK) berth_bytes_free(b);
    else EXPECT(b.data == NULL && b.len == 0);
    return st;
}

PLAIN_PROBE(file_close, berth_file, berth_file_close(h))
STRING_PROBE(file_stat, berth_file, berth_file_stat(&s, h))
static unsigned char probe_buf[256];
static berth_status probe_file_read(uint64_t id) {
    berth_file h = {id};
    size_t n = 0;
    return berth_file_read(&n, h, probe_buf, sizeof probe_buf);
}
static berth_status probe_file_read_at(uint64_t id) {
    berth_file h = {id};
    size_t n = 0;
    return berth_file_read_at(&n, h, probe_buf, sizeof probe_buf, 3);
}
static berth_status probe_file_seek(uint64_t id) {
    berth_file h = {id};
    uint64_t pos = 0;
    return berth_file_seek(&pos, h, 1, BERTH_SEEK_SET);
}

PLAIN_PROBE(stream_close, berth_stream, berth_stream_close(h))
PLAIN_PROBE(stream_skip_dir, berth_stream, berth_stream_skip_dir(h))
STRING_PROBE(stream_next, berth_stream, berth_stream_next(&s, h, 0))

#define P(fname, kind) {#fname, kind, probe_##fname}
static const struct probe probes[] = {
    P(runtime_close, K_RUNTIME), P(runtime_info, K_RUNTIME), P(runtime_list_images, K_RUNTIME),
    P(runtime_find_images, K_RUNTIME), P(runtime_open_image, K_RUNTIME),
    P(image_close, K_IMAGE), P(image_id, K_IMAGE), P(image_inspect, K_IMAGE),
    P(image_layer_count, K_IMAGE), P(image_layer, K_IMAGE), P(image_filesystem, K_IMAGE),
    P(layer_close, K_LAYER), P(layer_inspect, K_LAYER), P(layer_changes, K_LAYER),
    P(layer_filesystem, K_LAYER),
    P(fs_close, K_FS), P(fs_stat, K_FS), P(fs_lstat, K_FS), P(fs_readlink, K_FS),
    P(fs_eval_symlink, K_FS), P(fs_read_dir, K_FS), P(fs_read_file, K_FS), P(fs_open, K_FS),
    P(fs_walk, K_FS),
    P(file_close, K_FILE), P(file_read, K_FILE), P(file_read_at, K_FILE), P(file_seek, K_FILE),
    P(file_stat, K_FILE),
    P(stream_close, K_STREAM), P(stream_skip_dir, K_STREAM), P(stream_next, K_STREAM),
};
#define N_PROBES (sizeof probes / sizeof probes[0])

/* After a bad handle was accepted: was one of the live handles closed through it (a
 * close function given a forged handle that names another object)? Reports it, and
 * opens a new live handle in its place so the rest of the suite still means something. */
static void repair_live(const char *after) {
    for (int k = 0; k < N_KINDS; k++) {
        berth_status st;
        char *s = NULL;
        switch ((enum kind)k) {
        case K_RUNTIME: { berth_runtime h = {live[k]}; st = berth_runtime_list_images(&s, h); break; }
        case K_IMAGE: { berth_image h = {live[k]}; st = berth_image_id(&s, h); break; }
        case K_LAYER: { berth_layer h = {live[k]}; st = berth_layer_inspect(&s, h); break; }
        case K_FS: { berth_fs h = {live[k]}; st = berth_fs_readlink(&s, h, "/etc/os-release"); break; }
        case K_FILE: { berth_file h = {live[k]}; st = berth_file_stat(&s, h); break; }
        default: { berth_stream h = {live[k]}; st = berth_stream_skip_dir(h); break; }
        }
        if (st == BERTH_OK) {
            berth_string_free(s);
            continue;
        }
        char what[1024];
        snprintf(what, sizeof what, "the live %s handle 0x%016llx died (%s) after %.600s",
                 kind_names[k], (unsigned long long)live[k], berth_status_string(st), after);
        check_failed(__FILE__, __LINE__, what, 0);
        live[k] = open_one((enum kind)k);
    }
}

static int expect_invalid(const struct probe *p, uint64_t id, const char *why) {
    berth_status st = p->fn(id);
    if (st != BERTH_ERR_INVALID_HANDLE) {
        char what[512];
        snprintf(what, sizeof what, "berth_%s with a %s %s handle 0x%016llx returned %s (%d), want invalid_handle",
                 p->name, why, kind_names[p->kind], (unsigned long long)id, berth_status_string(st), (int)st);
        check_failed(__FILE__, __LINE__, what, 0);
        repair_live(what);
        return 0;
    }
    check_passed();
    /* The message names the kind of handle wanted. */
    if (strstr(berth_last_error_message(), "handle") == NULL) {
        char what[512];
        snprintf(what, sizeof what, "berth_%s (%s handle): message \"%s\" does not mention the handle",
                 p->name, why, berth_last_error_message());
        check_failed(__FILE__, __LINE__, what, 0);
    }
    return 1;
}

static void test_bad_handles(void) {
    /* Sanity: every probe works on its live handle (closes excepted). */
    EXPECT(N_PROBES == 32);
    for (size_t i = 0; i < N_PROBES; i++) {
        if (strstr(probes[i].name, "close")) continue;
        berth_status st = probes[i].fn(live[probes[i].kind]);
        if (!EXPECT(st == BERTH_OK || st == BERTH_END))
            fprintf(stderr, "    (berth_%s on a live handle: %s)\n", probes[i].name, berth_status_string(st));
    }
    /* Zero. */
    for (size_t i = 0; i < N_PROBES; i++) expect_invalid(&probes[i], 0, "zero");

    /* Closed, then double-closed: for each kind a fresh handle, closed, then every
     * function of that kind on it. The close probe makes the second close. */
    for (int k = 0; k < N_KINDS; k++) {
        uint64_t id = open_one((enum kind)k);
        REQUIRE(id != 0);
        EXPECT_OK(close_one((enum kind)k, id));
        for (size_t i = 0; i < N_PROBES; i++)
            if (probes[i].kind == (enum kind)k) expect_invalid(&probes[i], id, "closed");
        EXPECT_STATUS(close_one((enum kind)k, id), BERTH_ERR_INVALID_HANDLE);
        for (size_t i = 0; i < N_PROBES; i++)
            if (probes[i].kind == (enum kind)k) expect_invalid(&probes[i], id, "double-closed");
        /* The slot is reused by the next object of that kind; the old handle stays dead. */
        uint64_t again = open_one((enum kind)k);
        EXPECT(again != id);
        for (size_t i = 0; i < N_PROBES; i++)
            if (probes[i].kind == (enum kind)k && !strstr(probes[i].name, "close"))
                expect_invalid(&probes[i], id, "closed (slot reused)");
        EXPECT_STATUS(close_one((enum kind)k, id), BERTH_ERR_INVALID_HANDLE);
        EXPECT_OK(close_one((enum kind)k, again));
    }

    for (size_t i = 0; i < N_PROBES; i++) {
        const struct probe *p = &probes[i];
        uint64_t mine = live[p->kind];
        /* Wrong kind: the live handle of every other kind (e.g. an image's id in a
         * berth_runtime), and this kind's live slot under every other kind byte. */
        for (int k = 0; k < N_KINDS; k++)
            if (k != (int)p->kind) expect_invalid(p, live[k], "wrong-kind");
        for (uint64_t kb = 0; kb < 256; kb++)
            if (kb != mine >> 56) expect_invalid(p, (kb << 56) | (mine & 0x00ffffffffffffffull), "kind-byte-forged");
        /* Forged: this kind's byte on the slot (and generation) of a live object of
         * another kind. The table must check the object's kind, not only the byte. */
        for (int k = 0; k < N_KINDS; k++)
            if (k != (int)p->kind)
                expect_invalid(p, (mine & 0xff00000000000000ull) | (live[k] & 0x00ffffffffffffffull),
                               "forged (this kind's byte, another kind's live slot)");
        /* Forged numbers. */
        expect_invalid(p, UINT64_MAX, "forged (UINT64_MAX)");
        expect_invalid(p, mine + 1, "forged (id+1)");
        expect_invalid(p, mine - 1, "forged (id-1)");
        expect_invalid(p, mine + H_GENERATION_1, "forged (next generation)");
        expect_invalid(p, mine & (H_KIND | H_SLOT), "forged (generation 0)");
        expect_invalid(p, mine | H_SLOT, "forged (slot 2^24-1)");
        expect_invalid(p, 1, "forged (1)");
        for (int r = 0; r < 64; r++) {
            uint64_t x = rng();
            if (x != mine) expect_invalid(p, x, "forged (random)");
        }
        for (int r = 0; r < 64; r++) {
            /* Right kind byte, random generation and slot. */
            uint64_t x = (mine & 0xff00000000000000ull) | (rng() & 0x00ffffffffffffffull);
            if (x != mine) expect_invalid(p, x, "forged (random, right kind)");
        }
        for (int r = 0; r < 64; r++) {
            /* Right kind and slot, another generation. */
            uint64_t x = (mine & (H_KIND | H_SLOT)) | ((rng() & 0xffffffffull) << H_GENERATION_SHIFT);
            if (x != mine) expect_invalid(p, x, "forged (random generation)");
        }
    }

    /* After all that, the live handles still work. */
    for (size_t i = 0; i < N_PROBES; i++) {
        if (strstr(probes[i].name, "close") || strstr(probes[i].name, "stream") ||
            strstr(probes[i].name, "file_seek") || strstr(probes[i].name, "file_read"))
            continue;
        EXPECT(probes[i].fn(live[probes[i].kind]) == BERTH_OK);
    }
}

/* ---- 3. strings, lengths, offsets, seeks, streams, statuses ---------------------------- */

static void test_bad_strings(void) {
    berth_runtime rt = {live[K_RUNTIME]};
    berth_fs fs = {live[K_FS]};
    char *s = NULL;
    berth_runtime rt_out = {0};
    berth_image image_out = {0};
    berth_file file_out = {0};
    berth_stream stream_out = {0};
    berth_bytes bytes = {NULL, 0};

    for (size_t i = 0; i < N_BAD_UTF8; i++) {
        const char *bad = bad_utf8[i];
        EXPECT_STATUS(berth_runtime_open(&rt_out, bad, NULL), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_CONTAINS(berth_last_error_message(), "UTF-8");
        EXPECT_STATUS(berth_runtime_open(&rt_out, endpoint, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_runtime_find_images(&s, rt, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_runtime_open_image(&image_out, rt, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_stat(&s, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_lstat(&s, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_readlink(&s, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_eval_symlink(&s, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_read_dir(&s, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_read_file(&bytes, fs, bad, 0), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_open(&file_out, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(berth_fs_walk(&stream_out, fs, bad), BERTH_ERR_INVALID_ARGUMENT);
    }
    EXPECT(s == NULL && bytes.data == NULL && bytes.len == 0);
    EXPECT(rt_out.id == 0 && image_out.id == 0 && file_out.id == 0 && stream_out.id == 0);

    /* Empty strings. An empty endpoint is malformed; empty options are no options; an
     * empty pattern matches nothing sensible and is refused; an empty path is the root
     * (every path is taken from "/"). */
    EXPECT_STATUS(berth_runtime_open(&rt_out, "", NULL), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(rt_out.id == 0);
    if (EXPECT_OK(berth_runtime_open(&rt_out, endpoint, ""))) EXPECT_OK(berth_runtime_close(rt_out));
    if (EXPECT_OK(berth_runtime_open(&rt_out, endpoint, "{}"))) EXPECT_OK(berth_runtime_close(rt_out));
    rt_out.id = 0;
    EXPECT_STATUS(berth_runtime_find_images(&s, rt, ""), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_runtime_find_images(&s, rt, "   "), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_runtime_open_image(&image_out, rt, ""), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(s == NULL && image_out.id == 0);

    if (EXPECT_OK(berth_fs_stat(&s, fs, ""))) {
        EXPECT_CONTAINS(s, "\"type\":\"dir\"");
        berth_string_free(s);
        s = NULL;
    }
    if (EXPECT_OK(berth_fs_lstat(&s, fs, ""))) {
        EXPECT_CONTAINS(s, "\"type\":\"dir\"");
        berth_string_free(s);
        s = NULL;
    }
    if (EXPECT_OK(berth_fs_eval_symlink(&s, fs, ""))) {
        EXPECT_STREQ(s, "/");
        berth_string_free(s);
        s = NULL;
    }
    {
        char *root = NULL;
        if (EXPECT_OK(berth_fs_read_dir(&s, fs, "")) && EXPECT_OK(berth_fs_read_dir(&root, fs, "/")))
            EXPECT_STREQ(s, root);
        berth_string_free(s);
        berth_string_free(root);
        s = NULL;
    }
    EXPECT_STATUS(berth_fs_readlink(&s, fs, ""), BERTH_ERR_INVALID_ARGUMENT); /* the root is no symlink */
    EXPECT_STATUS(berth_fs_read_file(&bytes, fs, "", 0), BERTH_ERR_INVALID_ARGUMENT); /* a directory */
    EXPECT_STATUS(berth_fs_open(&file_out, fs, ""), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(s == NULL && bytes.data == NULL && file_out.id == 0);
    if (EXPECT_OK(berth_fs_walk(&stream_out, fs, ""))) {
        int items = 0;
        while (berth_stream_next(&s, stream_out, -1) == BERTH_OK) {
            if (items == 0) EXPECT_CONTAINS(s, "\"path\":\"/\"");
            items++;
            berth_string_free(s);
        }
        s = NULL;
        EXPECT(items == 16);
        EXPECT_OK(berth_stream_close(stream_out));
    }

    /* Paths that try to leave the root stay inside it. */
    if (EXPECT_OK(berth_fs_eval_symlink(&s, fs, "../../../../etc/os-release"))) {
        EXPECT_STREQ(s, "/usr/lib/os-release");
        berth_string_free(s);
        s = NULL;
    }
    /* A very long path is just not found. */
    {
        size_t len = 1 << 16;
        char *longpath = malloc(len + 1);
        REQUIRE(longpath != NULL);
        for (size_t i = 0; i < len; i++) longpath[i] = (i % 8 == 0) ? '/' : 'a';
        longpath[len] = '\0';
        EXPECT_STATUS(berth_fs_stat(&s, fs, longpath), BERTH_ERR_NOT_FOUND);
        free(longpath);
    }
    /* Out-of-range layer index. */
    {
        berth_image image = {live[K_IMAGE]};
        berth_layer l = {0};
        EXPECT_STATUS(berth_image_layer(&l, image, (size_t)-1), BERTH_ERR_NOT_FOUND);
        EXPECT_STATUS(berth_image_layer(&l, image, 2), BERTH_ERR_NOT_FOUND);
        EXPECT(l.id == 0);
    }
}

static void test_lengths_offsets_seeks(void) {
    berth_file f = {0};
    berth_fs fs = {live[K_FS]};
    unsigned char buf[512];
    size_t n;
    uint64_t pos;

    REQUIRE_OK(berth_fs_open(&f, fs, "/usr/lib/os-release"));

    /* len = SIZE_MAX on a buffer bigger than the file: exactly the file is written. */
    memset(buf, 0xa5, sizeof buf);
    n = 0;
    EXPECT_OK(berth_file_read(&n, f, buf, SIZE_MAX));
    EXPECT(n == OS_RELEASE_LEN);
    EXPECT(memcmp(buf, os_release, OS_RELEASE_LEN) == 0);
    for (size_t i = OS_RELEASE_LEN; i < sizeof buf; i++)
        if (buf[i] != 0xa5) {
            EXPECT(!"berth_file_read wrote past the end of the file's bytes");
            break;
        }
    n = 99;
    EXPECT_OK(berth_file_read(&n, f, buf, SIZE_MAX));
    EXPECT(n == 0);

    /* From a position inside the file: only what is left. */
    EXPECT_OK(berth_file_seek(&pos, f, 120, BERTH_SEEK_SET));
    memset(buf, 0xa5, sizeof buf);
    EXPECT_OK(berth_file_read(&n, f, buf, SIZE_MAX));
    EXPECT(n == 5 && memcmp(buf, os_release + 120, 5) == 0 && buf[5] == 0xa5);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_SET));
    EXPECT_OK(berth_file_read(&n, f, buf, SIZE_MAX / 2 + 1));
    EXPECT(n == OS_RELEASE_LEN);

    memset(buf, 0xa5, sizeof buf);
    EXPECT_OK(berth_file_read_at(&n, f, buf, SIZE_MAX, 0));
    EXPECT(n == OS_RELEASE_LEN && memcmp(buf, os_release, OS_RELEASE_LEN) == 0 && buf[OS_RELEASE_LEN] == 0xa5);
    memset(buf, 0xa5, sizeof buf);
    EXPECT_OK(berth_file_read_at(&n, f, buf, SIZE_MAX, 100));
    EXPECT(n == 25 && memcmp(buf, os_release + 100, 25) == 0 && buf[25] == 0xa5);
    static const uint64_t past[] = {OS_RELEASE_LEN, OS_RELEASE_LEN + 1, 1ull << 32, 1ull << 62,
                                    INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        memset(buf, 0xa5, sizeof buf);
        n = 99;
        EXPECT_OK(berth_file_read_at(&n, f, buf, SIZE_MAX, past[i]));
        EXPECT(n == 0 && buf[0] == 0xa5);
        n = 99;
        EXPECT_OK(berth_file_read_at(&n, f, buf, 10, past[i]));
        EXPECT(n == 0);
    }

    /* Seeks: before the start and unknown whence are INVALID_ARGUMENT; the position
     * stays where it was. */
    EXPECT_OK(berth_file_seek(&pos, f, 33, BERTH_SEEK_SET));
    EXPECT_STATUS(berth_file_seek(&pos, f, -1, BERTH_SEEK_SET), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, INT64_MIN, BERTH_SEEK_SET), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, -34, BERTH_SEEK_CUR), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, INT64_MIN, BERTH_SEEK_CUR), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, -(OS_RELEASE_LEN + 1), BERTH_SEEK_END), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_file_seek(&pos, f, INT64_MIN, BERTH_SEEK_END), BERTH_ERR_INVALID_ARGUMENT);
    static const int32_t bad_whence[] = {3, 4, -1, 99, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_whence / sizeof bad_whence[0]; i++) {
        EXPECT_STATUS(berth_file_seek(&pos, f, 0, bad_whence[i]), BERTH_ERR_INVALID_ARGUMENT);
        EXPECT_CONTAINS(berth_last_error_message(), "whence");
    }
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == 33);

    /* Far past the end is allowed; reads there give 0; the arithmetic never wraps. */
    EXPECT_OK(berth_file_seek(&pos, f, INT64_MAX, BERTH_SEEK_SET));
    EXPECT(pos == (uint64_t)INT64_MAX);
    n = 99;
    EXPECT_OK(berth_file_read(&n, f, buf, sizeof buf));
    EXPECT(n == 0);
    EXPECT_OK(berth_file_seek(&pos, f, INT64_MAX, BERTH_SEEK_CUR));
    EXPECT(pos == UINT64_MAX - 1);
    EXPECT_OK(berth_file_seek(&pos, f, 1, BERTH_SEEK_CUR));
    EXPECT(pos == UINT64_MAX);
    n = 99;
    EXPECT_OK(berth_file_read(&n, f, buf, SIZE_MAX));
    EXPECT(n == 0);
    berth_status st = berth_file_seek(&pos, f, 1, BERTH_SEEK_CUR); /* would pass 2^64 */
    EXPECT(st == BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_OK(berth_file_seek(&pos, f, 0, BERTH_SEEK_CUR));
    EXPECT(pos == UINT64_MAX);
    EXPECT_OK(berth_file_seek(&pos, f, INT64_MAX, BERTH_SEEK_END));
    EXPECT(pos == (uint64_t)INT64_MAX + OS_RELEASE_LEN);
    /* read_at does not care where the position is. */
    EXPECT_OK(berth_file_read_at(&n, f, buf, 4, 0));
    EXPECT(n == 4 && memcmp(buf, os_release, 4) == 0);

    EXPECT_OK(berth_file_close(f));
}

static void test_streams_and_statuses(void) {
    berth_fs fs = {live[K_FS]};
    berth_stream w = {0};
    char *s = NULL;

    REQUIRE_OK(berth_fs_walk(&w, fs, "/var"));
    EXPECT_OK(berth_stream_skip_dir(w)); /* before any item: nothing to skip */
    EXPECT_OK(berth_stream_skip_dir(w));
    int items = 0;
    while (berth_stream_next(&s, w, 0) == BERTH_OK) {
        items++;
        berth_string_free(s);
        s = NULL;
    }
    EXPECT(items == 2); /* /var, /var/log */
    static const int64_t timeouts[] = {-1, 0, 1, INT64_MAX, INT64_MIN};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
            s = (char *)"sentinel";
            EXPECT_STATUS(berth_stream_next(&s, w, timeouts[i]), BERTH_END);
            EXPECT(s == NULL);
        }
    EXPECT_OK(berth_stream_skip_dir(w)); /* after the end: harmless */
    EXPECT_STATUS(berth_stream_next(&s, w, -1), BERTH_END);
    EXPECT_OK(berth_stream_close(w));

    /* skip_dir after every item: only the root's own entries. */
    REQUIRE_OK(berth_fs_walk(&w, fs, "/"));
    items = 0;
    while (berth_stream_next(&s, w, -1) == BERTH_OK) {
        items++;
        berth_string_free(s);
        s = NULL;
        if (items > 1) EXPECT_OK(berth_stream_skip_dir(w));
    }
    EXPECT(items == 5); /* /, /bin, /etc, /usr, /var */
    EXPECT_OK(berth_stream_close(w));

    EXPECT_STREQ(berth_status_string(12345), "unknown");
    EXPECT_STREQ(berth_status_string(-12345), "unknown");
    EXPECT_STREQ(berth_status_string(INT32_MIN), "unknown");
    EXPECT_STREQ(berth_status_string(INT32_MAX), "unknown");
    EXPECT_STREQ(berth_status_string(-20), "invalid_handle");
    EXPECT(berth_last_error_message() != NULL);
}

/* A new thread has its own last error: "" and OK until something fails on it. */
static char thread_error_seen[512];
static void *fresh_thread(void *arg) {
    berth_fs fs = {*(uint64_t *)arg};
    char *s = NULL;
    const char *m = berth_last_error_message();
    EXPECT(m != NULL);
    EXPECT_STREQ(m, "");
    EXPECT(berth_last_error_status() == BERTH_OK);
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/only/on/the/thread"), BERTH_ERR_NOT_FOUND);
    m = berth_last_error_message();
    EXPECT(m != NULL);
    snprintf(thread_error_seen, sizeof thread_error_seen, "%s", m ? m : "");
    return NULL;
}

static void test_last_error_per_thread(void) {
    berth_fs fs = {live[K_FS]};
    char *s = NULL;
    pthread_t t;
    EXPECT_STATUS(berth_fs_stat(&s, fs, "/only/on/main"), BERTH_ERR_NOT_FOUND);
    REQUIRE(pthread_create(&t, NULL, fresh_thread, &live[K_FS]) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    EXPECT_CONTAINS(thread_error_seen, "/only/on/the/thread");
    EXPECT_CONTAINS(berth_last_error_message(), "/only/on/main");
    EXPECT(berth_last_error_status() == BERTH_ERR_NOT_FOUND);
}

/* ---- 5. the daemon functions (containers, execs, pods, pull, push, events, snapshots) -------
 *
 * Without a daemon: the sample's oci-archive runtime has none of them (NOT_SUPPORTED),
 * and container, exec and pod handles can only be forged (test_daemon.c closes real
 * ones and passes them where another kind belongs). What must hold: NULL pointers,
 * bad handles, bad JSON, empty names and bad UTF-8 come back as their statuses, before
 * anything reaches a backend; outputs of failed calls stay untouched. */

#define KIND_BYTE_CONTAINER 7ull
#define KIND_BYTE_EXEC 11ull
#define KIND_BYTE_POD 9ull

enum dkind { D_RUNTIME, D_CONTAINER, D_EXEC, D_POD };
static const char *dkind_names[] = {"runtime", "container", "exec", "pod"};

static void after_container(berth_status st, berth_container o, const char *name) {
    if (st == BERTH_OK) {
        berth_container_close(o);
    } else if (o.id != 0) {
        char what[256];
        snprintf(what, sizeof what, "%s failed (%s) but set *out", name, berth_status_string(st));
        check_failed(__FILE__, __LINE__, what, 0);
    }
}

static void after_pod(berth_status st, berth_pod o, const char *name) {
    if (st == BERTH_OK) {
        berth_pod_close(o);
    } else if (o.id != 0) {
        char what[256];
        snprintf(what, sizeof what, "%s failed (%s) but set *out", name, berth_status_string(st));
        check_failed(__FILE__, __LINE__, what, 0);
    }
}

static void after_exec(berth_status st, berth_exec o, const char *name) {
    if (st == BERTH_OK) {
        berth_exec_close(o);
    } else if (o.id != 0) {
        char what[256];
        snprintf(what, sizeof what, "%s failed (%s) but set *out", name, berth_status_string(st));
        check_failed(__FILE__, __LINE__, what, 0);
    }
}

#define CONTAINER_PROBE(fname, CALL)                                             \
    static berth_status probe_##fname(uint64_t id) {                             \
        berth_runtime h = {id};                                                  \
        berth_container o = {0};                                                 \
        berth_status st = CALL;                                                  \
        after_container(st, o, #fname);                                          \
        return st;                                                               \
    }

STRING_PROBE(runtime_list_containers, berth_runtime, berth_runtime_list_containers(&s, h, NULL))
STRING_PROBE(runtime_find_containers, berth_runtime, berth_runtime_find_containers(&s, h, "abc"))
CONTAINER_PROBE(runtime_create_container, berth_runtime_create_container(&o, h, "{\"image\":\"sample\"}"))
CONTAINER_PROBE(runtime_open_container, berth_runtime_open_container(&o, h, "abc"))
PLAIN_PROBE(runtime_tag_image, berth_runtime, berth_runtime_tag_image(h, "sample", "sample:other"))
PLAIN_PROBE(runtime_remove_image, berth_runtime, berth_runtime_remove_image(h, "sample:other"))
STRING_PROBE(runtime_import_images, berth_runtime, berth_runtime_import_images(&s, h, "/nonexistent/x.tar"))
PLAIN_PROBE(runtime_export_images, berth_runtime, berth_runtime_export_images(h, "[\"sample\"]", "/nonexistent/x.tar"))
HANDLE_PROBE(runtime_pull, berth_runtime, berth_stream, K_STREAM, berth_runtime_pull(&o, h, "example.com/x:1", NULL))
HANDLE_PROBE(runtime_events, berth_runtime, berth_stream, K_STREAM, berth_runtime_events(&o, h, NULL))
HANDLE_PROBE(runtime_push, berth_runtime, berth_stream, K_STREAM, berth_runtime_push(&o, h, "example.com/x:1", NULL))
STRING_PROBE(runtime_list_pods, berth_runtime, berth_runtime_list_pods(&s, h))
#define POD_PROBE(fname, CALL)                                                   \
    static berth_status probe_##fname(uint64_t id) {                             \
        berth_runtime h = {id};                                                  \
        berth_pod o = {0};                                                       \
        berth_status st = CALL;                                                  \
        after_pod(st, o, #fname);                                                \
        return st;                                                               \
    }
POD_PROBE(runtime_create_pod, berth_runtime_create_pod(&o, h, "{\"name\":\"p\"}"))
POD_PROBE(runtime_open_pod, berth_runtime_open_pod(&o, h, "p"))
STRING_PROBE(runtime_snapshots_list, berth_runtime, berth_runtime_snapshots_list(&s, h, NULL))
STRING_PROBE(runtime_snapshots_stat, berth_runtime, berth_runtime_snapshots_stat(&s, h, NULL, "k"))
STRING_PROBE(runtime_snapshots_prepare, berth_runtime, berth_runtime_snapshots_prepare(&s, h, NULL, "k", NULL))
STRING_PROBE(runtime_snapshots_view, berth_runtime, berth_runtime_snapshots_view(&s, h, "overlayfs", "k", "p"))
PLAIN_PROBE(runtime_snapshots_commit, berth_runtime, berth_runtime_snapshots_commit(h, NULL, "n", "k"))
STRING_PROBE(runtime_snapshots_mounts, berth_runtime, berth_runtime_snapshots_mounts(&s, h, NULL, "k"))
STRING_PROBE(runtime_snapshots_usage, berth_runtime, berth_runtime_snapshots_usage(&s, h, NULL, "k"))
PLAIN_PROBE(runtime_snapshots_remove, berth_runtime, berth_runtime_snapshots_remove(h, NULL, "k"))

PLAIN_PROBE(container_close, berth_container, berth_container_close(h))
STRING_PROBE(container_id, berth_container, berth_container_id(&s, h))
STRING_PROBE(container_inspect, berth_container, berth_container_inspect(&s, h))
PLAIN_PROBE(container_start, berth_container, berth_container_start(h))
PLAIN_PROBE(container_kill, berth_container, berth_container_kill(h, 9))
PLAIN_PROBE(container_pause, berth_container, berth_container_pause(h))
PLAIN_PROBE(container_resume, berth_container, berth_container_resume(h))
PLAIN_PROBE(container_delete, berth_container, berth_container_delete(h, true))
PLAIN_PROBE(container_update_resources, berth_container, berth_container_update_resources(h, "{\"pids_limit\":10}"))
STRING_PROBE(container_processes, berth_container, berth_container_processes(&s, h))
HANDLE_PROBE(container_filesystem, berth_container, berth_fs, K_FS, berth_container_filesystem(&o, h))
STRING_PROBE(container_changes, berth_container, berth_container_changes(&s, h))
HANDLE_PROBE(container_logs, berth_container, berth_stream, K_STREAM, berth_container_logs(&o, h, "{\"tail\":5}"))
HANDLE_PROBE(container_stats, berth_container, berth_stream, K_STREAM, berth_container_stats(&o, h, false))
PLAIN_PROBE(container_rename, berth_container, berth_container_rename(h, "new-name"))
PLAIN_PROBE(container_export, berth_container, berth_container_export(h, "/nonexistent/x.tar"))
STRING_PROBE(container_commit, berth_container, berth_container_commit(&s, h, "{\"reference\":\"example.com/x:1\"}"))
PLAIN_PROBE(container_archive, berth_container, berth_container_archive(h, "/etc", "/nonexistent/x.tar"))
static berth_status probe_container_attach(uint64_t id) {
    berth_container h = {id};
    berth_exec o = {0};
    berth_status st = berth_container_attach(&o, h);
    after_exec(st, o, "container_attach");
    return st;
}

PLAIN_PROBE(pod_close, berth_pod, berth_pod_close(h))
STRING_PROBE(pod_id, berth_pod, berth_pod_id(&s, h))
STRING_PROBE(pod_inspect, berth_pod, berth_pod_inspect(&s, h))
PLAIN_PROBE(pod_start, berth_pod, berth_pod_start(h))
PLAIN_PROBE(pod_stop, berth_pod, berth_pod_stop(h, 10))
PLAIN_PROBE(pod_kill, berth_pod, berth_pod_kill(h, 9))
PLAIN_PROBE(pod_pause, berth_pod, berth_pod_pause(h))
PLAIN_PROBE(pod_resume, berth_pod, berth_pod_resume(h))
PLAIN_PROBE(pod_remove, berth_pod, berth_pod_remove(h, true))
static berth_status probe_container_stop(uint64_t id) {
    berth_container h = {id};
    int32_t code = 12345;
    berth_status st = berth_container_stop(&code, h, 10);
    if (st != BERTH_OK) EXPECT(code == 12345);
    return st;
}
static berth_status probe_container_wait(uint64_t id) {
    berth_container h = {id};
    int32_t code = 12345;
    berth_status st = berth_container_wait(&code, h, 10);
    if (st != BERTH_OK) EXPECT(code == 12345);
    return st;
}
static berth_status probe_container_exec_output(uint64_t id) {
    berth_container h = {id};
    berth_exec_output o;
    memset(&o, 0xa5, sizeof o);
    berth_status st = berth_container_exec_output(&o, h, "{\"args\":[\"/bin/true\"]}", (const uint8_t *)"in", 2, 1000);
    if (st == BERTH_OK) berth_exec_output_free(o);
    else EXPECT(o.exit_code == 0 && o.stdout_data.data == NULL && o.stdout_data.len == 0 &&
                o.stderr_data.data == NULL && o.stderr_data.len == 0);
    return st;
}
static berth_status probe_container_exec(uint64_t id) {
    berth_container h = {id};
    berth_exec o = {0};
    berth_status st = berth_container_exec(&o, h, "{\"args\":[\"/bin/true\"],\"stdin\":true}");
    after_exec(st, o, "container_exec");
    return st;
}

PLAIN_PROBE(exec_write_stdin, berth_exec, berth_exec_write_stdin(h, (const uint8_t *)"data", 4))
PLAIN_PROBE(exec_close_stdin, berth_exec, berth_exec_close_stdin(h))
PLAIN_PROBE(exec_resize, berth_exec, berth_exec_resize(h, 80, 24))
PLAIN_PROBE(exec_kill, berth_exec, berth_exec_kill(h, 15))
PLAIN_PROBE(exec_close, berth_exec, berth_exec_close(h))
static berth_status probe_exec_next(uint64_t id) {
    berth_exec h = {id};
    berth_exec_event ev;
    memset(&ev, 0xa5, sizeof ev);
    berth_status st = berth_exec_next(&ev, h, 10);
    if (st == BERTH_OK) berth_bytes_free(ev.data);
    else EXPECT(ev.kind == 0 && ev.exit_code == 0 && ev.data.data == NULL && ev.data.len == 0);
    return st;
}

struct dprobe {
    const char *name;
    enum dkind kind;
    probe_fn fn;
};
#define DP(fname, kind) {#fname, kind, probe_##fname}
static const struct dprobe dprobes[] = {
    DP(runtime_list_containers, D_RUNTIME), DP(runtime_find_containers, D_RUNTIME),
    DP(runtime_create_container, D_RUNTIME), DP(runtime_open_container, D_RUNTIME),
    DP(runtime_tag_image, D_RUNTIME), DP(runtime_remove_image, D_RUNTIME),
    DP(runtime_import_images, D_RUNTIME), DP(runtime_export_images, D_RUNTIME),
    DP(runtime_pull, D_RUNTIME), DP(runtime_events, D_RUNTIME), DP(runtime_push, D_RUNTIME),
    DP(runtime_list_pods, D_RUNTIME), DP(runtime_create_pod, D_RUNTIME), DP(runtime_open_pod, D_RUNTIME),
    DP(runtime_snapshots_list, D_RUNTIME), DP(runtime_snapshots_stat, D_RUNTIME),
    DP(runtime_snapshots_prepare, D_RUNTIME), DP(runtime_snapshots_view, D_RUNTIME),
    DP(runtime_snapshots_commit, D_RUNTIME), DP(runtime_snapshots_mounts, D_RUNTIME),
    DP(runtime_snapshots_usage, D_RUNTIME), DP(runtime_snapshots_remove, D_RUNTIME),
    DP(container_close, D_CONTAINER), DP(container_id, D_CONTAINER), DP(container_inspect, D_CONTAINER),
    DP(container_start, D_CONTAINER), DP(container_stop, D_CONTAINER), DP(container_kill, D_CONTAINER),
    DP(container_pause, D_CONTAINER), DP(container_resume, D_CONTAINER), DP(container_delete, D_CONTAINER),
    DP(container_wait, D_CONTAINER), DP(container_update_resources, D_CONTAINER),
    DP(container_processes, D_CONTAINER), DP(container_filesystem, D_CONTAINER),
    DP(container_changes, D_CONTAINER), DP(container_exec_output, D_CONTAINER), DP(container_exec, D_CONTAINER),
    DP(container_logs, D_CONTAINER), DP(container_attach, D_CONTAINER), DP(container_stats, D_CONTAINER),
    DP(container_rename, D_CONTAINER), DP(container_export, D_CONTAINER), DP(container_commit, D_CONTAINER),
    DP(container_archive, D_CONTAINER),
    DP(exec_write_stdin, D_EXEC), DP(exec_close_stdin, D_EXEC), DP(exec_next, D_EXEC),
    DP(exec_resize, D_EXEC), DP(exec_kill, D_EXEC), DP(exec_close, D_EXEC),
    DP(pod_close, D_POD), DP(pod_id, D_POD), DP(pod_inspect, D_POD), DP(pod_start, D_POD), DP(pod_stop, D_POD),
    DP(pod_kill, D_POD), DP(pod_pause, D_POD), DP(pod_resume, D_POD), DP(pod_remove, D_POD),
};
#define N_DPROBES (sizeof dprobes / sizeof dprobes[0])

static void expect_dinvalid(const struct dprobe *p, uint64_t id, const char *why) {
    if (p->kind == D_RUNTIME && id == live[K_RUNTIME]) return; /* a forged number that is live */
    berth_status st = p->fn(id);
    if (st == BERTH_ERR_INVALID_HANDLE && strstr(berth_last_error_message(), "handle") != NULL) {
        check_passed();
        return;
    }
    char what[768];
    snprintf(what, sizeof what, "berth_%s with a %s %s handle 0x%016llx returned %s (%d), want invalid_handle (message: %.300s)",
             p->name, why, dkind_names[p->kind], (unsigned long long)id, berth_status_string(st), (int)st,
             berth_last_error_message());
    check_failed(__FILE__, __LINE__, what, 0);
    repair_live(what);
}

static void test_daemon_bad_handles(void) {
    /* 22 runtime functions, 23 container functions, 6 exec functions, 9 pod functions. */
    EXPECT(N_DPROBES == 60);
    for (size_t i = 0; i < N_DPROBES; i++) {
        const struct dprobe *p = &dprobes[i];
        uint64_t byte = p->kind == D_RUNTIME     ? (live[K_RUNTIME] >> 56)
                        : p->kind == D_CONTAINER ? KIND_BYTE_CONTAINER
                        : p->kind == D_EXEC      ? KIND_BYTE_EXEC
                                                 : KIND_BYTE_POD;
        expect_dinvalid(p, 0, "zero");
        expect_dinvalid(p, UINT64_MAX, "forged (UINT64_MAX)");
        expect_dinvalid(p, 1, "forged (1)");
        expect_dinvalid(p, byte << 56, "forged (kind byte only)");
        expect_dinvalid(p, (byte << 56) | H_GENERATION_1, "forged (generation 1, slot 0)");
        /* Every live object of another kind, as is, and under this kind's byte (the
         * table must check the object's kind, not only the byte). */
        for (int k = 0; k < N_KINDS; k++) {
            if (p->kind == D_RUNTIME && k == K_RUNTIME) continue;
            expect_dinvalid(p, live[k], "wrong-kind");
            expect_dinvalid(p, (byte << 56) | (live[k] & 0x00ffffffffffffffull), "forged (this kind's byte, another kind's live slot)");
        }
        /* The other daemon kinds' bytes (a pod's where a container belongs, ...). */
        static const uint64_t daemon_bytes[] = {KIND_BYTE_CONTAINER, KIND_BYTE_EXEC, KIND_BYTE_POD};
        for (size_t b = 0; b < sizeof daemon_bytes / sizeof daemon_bytes[0]; b++)
            if (daemon_bytes[b] != byte)
                expect_dinvalid(p, (daemon_bytes[b] << 56) | (H_GENERATION_1 | 0xffull), "forged (another daemon kind's byte)");
        for (int r = 0; r < 32; r++) {
            uint64_t x = (byte << 56) | (rng() & 0x00ffffffffffffffull);
            if (p->kind == D_RUNTIME && x == live[K_RUNTIME]) continue;
            expect_dinvalid(p, x, "forged (random, right kind)");
        }
        for (int r = 0; r < 16; r++) {
            uint64_t x = rng();
            if (x == live[K_RUNTIME]) continue;
            expect_dinvalid(p, x, "forged (random)");
        }
    }
    /* A closed and a double-closed runtime. */
    berth_runtime closed = {0};
    REQUIRE_OK(berth_runtime_open(&closed, endpoint, NULL));
    EXPECT_OK(berth_runtime_close(closed));
    for (size_t i = 0; i < N_DPROBES; i++)
        if (dprobes[i].kind == D_RUNTIME) expect_dinvalid(&dprobes[i], closed.id, "closed");
    EXPECT_STATUS(berth_runtime_close(closed), BERTH_ERR_INVALID_HANDLE);
    for (size_t i = 0; i < N_DPROBES; i++)
        if (dprobes[i].kind == D_RUNTIME) expect_dinvalid(&dprobes[i], closed.id, "double-closed");
}

static void test_daemon_null_arguments(void) {
    berth_runtime rt = {live[K_RUNTIME]};
    berth_container c = {(KIND_BYTE_CONTAINER << 56) | (H_GENERATION_1 | 0xffull)}; /* forged */
    berth_exec e = {(KIND_BYTE_EXEC << 56) | (H_GENERATION_1 | 0xffull)};           /* forged */
    berth_pod p = {(KIND_BYTE_POD << 56) | (H_GENERATION_1 | 0xffull)};             /* forged */
    char *s = NULL;
    berth_container c_out = {0};
    berth_stream stream_out = {0};
    berth_exec e_out = {0};
    berth_pod p_out = {0};
    berth_exec_output o = {0, {NULL, 0}, {NULL, 0}};
    const char *opts = "{\"args\":[\"/bin/true\"]}";
    berth_status st;

#define EXPECT_NULL_ARG(call, argname)                                   \
    do {                                                                 \
        EXPECT_STATUS(call, BERTH_ERR_NULL_ARGUMENT);                    \
        EXPECT_CONTAINS(berth_last_error_message(), argname);            \
    } while (0)

    EXPECT_NULL_ARG(berth_runtime_list_containers(NULL, rt, NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_find_containers(NULL, rt, "x"), "out");
    EXPECT_NULL_ARG(berth_runtime_find_containers(&s, rt, NULL), "pattern");
    EXPECT_NULL_ARG(berth_runtime_create_container(NULL, rt, "{\"image\":\"sample\"}"), "out");
    EXPECT_NULL_ARG(berth_runtime_create_container(&c_out, rt, NULL), "options_json");
    EXPECT_NULL_ARG(berth_runtime_open_container(NULL, rt, "x"), "out");
    EXPECT_NULL_ARG(berth_runtime_open_container(&c_out, rt, NULL), "pattern");
    EXPECT_NULL_ARG(berth_runtime_tag_image(rt, NULL, "sample:other"), "source");
    EXPECT_NULL_ARG(berth_runtime_tag_image(rt, "sample", NULL), "target");
    EXPECT_NULL_ARG(berth_runtime_remove_image(rt, NULL), "pattern");
    EXPECT_NULL_ARG(berth_runtime_import_images(NULL, rt, "/x.tar"), "out");
    EXPECT_NULL_ARG(berth_runtime_import_images(&s, rt, NULL), "path");
    EXPECT_NULL_ARG(berth_runtime_export_images(rt, NULL, "/x.tar"), "patterns_json");
    EXPECT_NULL_ARG(berth_runtime_export_images(rt, "[\"sample\"]", NULL), "path");
    EXPECT_NULL_ARG(berth_runtime_pull(NULL, rt, "example.com/x:1", NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_pull(&stream_out, rt, NULL, NULL), "reference");
    EXPECT_NULL_ARG(berth_runtime_events(NULL, rt, NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_push(NULL, rt, "example.com/x:1", NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_push(&stream_out, rt, NULL, NULL), "reference");
    EXPECT_NULL_ARG(berth_runtime_push(&stream_out, rt, NULL, "{\"plain_http\":true}"), "reference");
    EXPECT_NULL_ARG(berth_runtime_list_pods(NULL, rt), "out");
    EXPECT_NULL_ARG(berth_runtime_create_pod(NULL, rt, NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_create_pod(NULL, rt, "{\"name\":\"p\"}"), "out");
    EXPECT_NULL_ARG(berth_runtime_open_pod(NULL, rt, "p"), "out");
    EXPECT_NULL_ARG(berth_runtime_open_pod(&p_out, rt, NULL), "pattern");
    EXPECT_NULL_ARG(berth_runtime_snapshots_list(NULL, rt, NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_snapshots_stat(NULL, rt, NULL, "k"), "out");
    EXPECT_NULL_ARG(berth_runtime_snapshots_stat(&s, rt, NULL, NULL), "key");
    EXPECT_NULL_ARG(berth_runtime_snapshots_prepare(NULL, rt, NULL, "k", NULL), "out");
    EXPECT_NULL_ARG(berth_runtime_snapshots_prepare(&s, rt, NULL, NULL, "p"), "key");
    EXPECT_NULL_ARG(berth_runtime_snapshots_view(NULL, rt, NULL, "k", "p"), "out");
    EXPECT_NULL_ARG(berth_runtime_snapshots_view(&s, rt, NULL, NULL, "p"), "key");
    EXPECT_NULL_ARG(berth_runtime_snapshots_commit(rt, NULL, NULL, "k"), "name");
    EXPECT_NULL_ARG(berth_runtime_snapshots_commit(rt, NULL, "n", NULL), "key");
    EXPECT_NULL_ARG(berth_runtime_snapshots_mounts(NULL, rt, NULL, "k"), "out");
    EXPECT_NULL_ARG(berth_runtime_snapshots_mounts(&s, rt, NULL, NULL), "key");
    EXPECT_NULL_ARG(berth_runtime_snapshots_usage(NULL, rt, NULL, "k"), "out");
    EXPECT_NULL_ARG(berth_runtime_snapshots_usage(&s, rt, NULL, NULL), "key");
    EXPECT_NULL_ARG(berth_runtime_snapshots_remove(rt, NULL, NULL), "key");

    /* Container and exec functions: arguments are checked before the handle, so a
     * forged handle still gives NULL_ARGUMENT. */
    EXPECT_NULL_ARG(berth_container_id(NULL, c), "out");
    EXPECT_NULL_ARG(berth_container_inspect(NULL, c), "out");
    EXPECT_NULL_ARG(berth_container_stop(NULL, c, 0), "out");
    EXPECT_NULL_ARG(berth_container_wait(NULL, c, 0), "out");
    EXPECT_NULL_ARG(berth_container_update_resources(c, NULL), "resources_json");
    EXPECT_NULL_ARG(berth_container_processes(NULL, c), "out");
    EXPECT_NULL_ARG(berth_container_filesystem(NULL, c), "out");
    EXPECT_NULL_ARG(berth_container_changes(NULL, c), "out");
    EXPECT_NULL_ARG(berth_container_exec_output(NULL, c, opts, NULL, 0, 0), "out");
    EXPECT_NULL_ARG(berth_container_exec_output(&o, c, NULL, NULL, 0, 0), "options_json");
    EXPECT_NULL_ARG(berth_container_exec_output(&o, c, opts, NULL, 1, 0), "stdin_data");
    EXPECT_NULL_ARG(berth_container_exec_output(&o, c, opts, NULL, SIZE_MAX, -1), "stdin_data");
    EXPECT_NULL_ARG(berth_container_exec(NULL, c, opts), "out");
    EXPECT_NULL_ARG(berth_container_exec(&e_out, c, NULL), "options_json");
    EXPECT_NULL_ARG(berth_container_logs(NULL, c, NULL), "out");
    EXPECT_NULL_ARG(berth_container_logs(NULL, c, "{\"follow\":true}"), "out");
    EXPECT_NULL_ARG(berth_container_attach(NULL, c), "out");
    EXPECT_NULL_ARG(berth_container_stats(NULL, c, false), "out");
    EXPECT_NULL_ARG(berth_container_stats(NULL, c, true), "out");
    EXPECT_NULL_ARG(berth_container_rename(c, NULL), "name");
    EXPECT_NULL_ARG(berth_container_export(c, NULL), "path");
    EXPECT_NULL_ARG(berth_container_commit(NULL, c, NULL), "out");
    EXPECT_NULL_ARG(berth_container_commit(NULL, c, "{}"), "out");
    EXPECT_NULL_ARG(berth_container_archive(c, NULL, "/tmp/x.tar"), "path");
    EXPECT_NULL_ARG(berth_container_archive(c, "/etc", NULL), "dest");
    EXPECT_NULL_ARG(berth_container_archive(c, NULL, NULL), "path");
    EXPECT_NULL_ARG(berth_pod_id(NULL, p), "out");
    EXPECT_NULL_ARG(berth_pod_inspect(NULL, p), "out");
    EXPECT_NULL_ARG(berth_exec_write_stdin(e, NULL, 1), "data");
    EXPECT_NULL_ARG(berth_exec_write_stdin(e, NULL, SIZE_MAX), "data");
    EXPECT_NULL_ARG(berth_exec_next(NULL, e, 0), "out");
    /* NULL with length 0 is "no bytes": only the handle is wrong then. */
    EXPECT_STATUS(berth_exec_write_stdin(e, NULL, 0), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_container_exec_output(&o, c, opts, NULL, 0, 0), BERTH_ERR_INVALID_HANDLE);
#undef EXPECT_NULL_ARG

    /* Nothing was written to the outputs of the failed calls. */
    EXPECT(s == NULL && c_out.id == 0 && stream_out.id == 0 && e_out.id == 0 && p_out.id == 0);
    /* NULL options are the defaults: only the (forged) handle is wrong then. */
    EXPECT_STATUS(berth_container_logs(&stream_out, c, NULL), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_container_commit(&s, c, NULL), BERTH_ERR_INVALID_HANDLE);
    EXPECT(s == NULL && stream_out.id == 0);
    EXPECT(o.stdout_data.data == NULL && o.stderr_data.data == NULL);

    /* NULL where documented: filters, options, snapshotter and parent. On the offline
     * runtime each is then just NOT_SUPPORTED. */
    EXPECT_STATUS(berth_runtime_list_containers(&s, rt, NULL), BERTH_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(berth_runtime_events(&stream_out, rt, NULL), BERTH_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(berth_runtime_snapshots_prepare(&s, rt, NULL, "k", NULL), BERTH_ERR_NOT_SUPPORTED);
    st = berth_runtime_pull(&stream_out, rt, "example.com/x:1", NULL);
    if (EXPECT_OK(st)) EXPECT_OK(berth_stream_close(stream_out));
    st = berth_runtime_push(&stream_out, rt, "example.com/x:1", NULL);
    if (EXPECT_OK(st)) EXPECT_OK(berth_stream_close(stream_out));
    EXPECT_STATUS(berth_runtime_create_pod(&p_out, rt, NULL), BERTH_ERR_NOT_SUPPORTED);
    EXPECT(p_out.id == 0);

    /* The free function ignores empty values. */
    berth_exec_output empty = {0, {NULL, 0}, {NULL, 0}};
    berth_exec_output_free(empty);
    berth_exec_output_free(o);
}

/* The oci-archive runtime has no containers, pulls, events or snapshots: NOT_SUPPORTED,
 * naming the backend. */
static void test_daemon_not_supported(void) {
    berth_runtime rt = {live[K_RUNTIME]};
    char *s = NULL;
    berth_container c = {0};
    berth_stream st_out = {0};

#define EXPECT_NOT_SUPPORTED(call)                                           \
    do {                                                                     \
        EXPECT_STATUS(call, BERTH_ERR_NOT_SUPPORTED);                        \
        EXPECT_CONTAINS(berth_last_error_message(), "oci-archive");          \
    } while (0)
    EXPECT_NOT_SUPPORTED(berth_runtime_list_containers(&s, rt, NULL));
    EXPECT_NOT_SUPPORTED(berth_runtime_list_containers(&s, rt, "[\"labels.a==b\"]"));
    EXPECT_NOT_SUPPORTED(berth_runtime_find_containers(&s, rt, "abc"));
    EXPECT_NOT_SUPPORTED(berth_runtime_create_container(&c, rt, "{\"image\":\"sample\",\"args\":[\"/bin/true\"]}"));
    EXPECT_NOT_SUPPORTED(berth_runtime_open_container(&c, rt, "abc"));
    EXPECT_NOT_SUPPORTED(berth_runtime_tag_image(rt, "sample", "sample:other"));
    EXPECT_NOT_SUPPORTED(berth_runtime_remove_image(rt, "sample"));
    EXPECT_NOT_SUPPORTED(berth_runtime_import_images(&s, rt, "/nonexistent/x.tar"));
    EXPECT_NOT_SUPPORTED(berth_runtime_export_images(rt, "[\"sample\"]", "/nonexistent/x.tar"));
    EXPECT_NOT_SUPPORTED(berth_runtime_events(&st_out, rt, NULL));
    EXPECT_NOT_SUPPORTED(berth_runtime_events(&st_out, rt, "[\"topic==\\\"/tasks/exit\\\"\"]"));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_list(&s, rt, NULL));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_list(&s, rt, ""));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_stat(&s, rt, "overlayfs", "k"));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_prepare(&s, rt, NULL, "k", "p"));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_view(&s, rt, NULL, "k", ""));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_commit(rt, NULL, "n", "k"));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_mounts(&s, rt, NULL, "k"));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_usage(&s, rt, NULL, "k"));
    EXPECT_NOT_SUPPORTED(berth_runtime_snapshots_remove(rt, NULL, "k"));
    berth_pod p_out = {0};
    EXPECT_NOT_SUPPORTED(berth_runtime_list_pods(&s, rt));
    EXPECT_NOT_SUPPORTED(berth_runtime_create_pod(&p_out, rt, NULL));
    EXPECT_NOT_SUPPORTED(berth_runtime_create_pod(&p_out, rt, "{\"name\":\"p\",\"labels\":{\"a\":\"b\"},\"network\":\"host\"}"));
    EXPECT_NOT_SUPPORTED(berth_runtime_open_pod(&p_out, rt, "p"));
    EXPECT(s == NULL && c.id == 0 && st_out.id == 0 && p_out.id == 0);

    /* A pull is a stream: its error comes from the first next, once; then the end. It
     * is not a walk. */
    berth_stream p = {0};
    REQUIRE_OK(berth_runtime_pull(&p, rt, "example.com/x:1", "{\"plain_http\":true}"));
    EXPECT_STATUS(berth_stream_skip_dir(p), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_NOT_SUPPORTED(berth_stream_next(&s, p, 60000));
    EXPECT(s == NULL);
    EXPECT_STATUS(berth_stream_next(&s, p, 0), BERTH_END);
    EXPECT_STATUS(berth_stream_next(&s, p, -1), BERTH_END);
    EXPECT(s == NULL);
    EXPECT_OK(berth_stream_close(p));
    EXPECT_STATUS(berth_stream_close(p), BERTH_ERR_INVALID_HANDLE);
    /* Closed before it was read: the work is cancelled, nothing leaks. */
    for (int i = 0; i < 20; i++) {
        REQUIRE_OK(berth_runtime_pull(&p, rt, "example.com/x:1", NULL));
        EXPECT_OK(berth_stream_close(p));
    }
    /* A push likewise. */
    REQUIRE_OK(berth_runtime_push(&p, rt, "example.com/x:1", "{\"plain_http\":true,\"username\":\"u\",\"password\":\"p\"}"));
    EXPECT_STATUS(berth_stream_skip_dir(p), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_NOT_SUPPORTED(berth_stream_next(&s, p, 60000));
    EXPECT(s == NULL);
    EXPECT_STATUS(berth_stream_next(&s, p, 0), BERTH_END);
    EXPECT(s == NULL);
    EXPECT_OK(berth_stream_close(p));
    for (int i = 0; i < 20; i++) {
        REQUIRE_OK(berth_runtime_push(&p, rt, "example.com/x:1", NULL));
        EXPECT_OK(berth_stream_close(p));
    }
#undef EXPECT_NOT_SUPPORTED
}

/* Bad JSON, empty names, bad UTF-8 and bad numbers: INVALID_ARGUMENT, checked before
 * the handle (forged container and exec handles here) and before the backend. */
static void test_daemon_bad_arguments(void) {
    berth_runtime rt = {live[K_RUNTIME]};
    berth_container c = {(KIND_BYTE_CONTAINER << 56) | (H_GENERATION_1 | 0xffull)};
    berth_exec e = {(KIND_BYTE_EXEC << 56) | (H_GENERATION_1 | 0xffull)};
    berth_pod p = {(KIND_BYTE_POD << 56) | (H_GENERATION_1 | 0xffull)};
    char *s = NULL;
    berth_container c_out = {0};
    berth_stream st_out = {0};
    berth_exec e_out = {0};
    berth_pod p_out = {0};
    berth_exec_output o = {0, {NULL, 0}, {NULL, 0}};
    int32_t code = 12345;

#define EXPECT_INVALID(call)                                      \
    EXPECT_STATUS(call, BERTH_ERR_INVALID_ARGUMENT)

    /* Filters and patterns: a JSON array of strings. */
    static const char *bad_arrays[] = {"{", "{}", "[1]", "\"x\"", "[\"a\",2]", "[[\"a\"]]", "null", "1", "[\"a\"] x", "[\"a\""};
    for (size_t i = 0; i < sizeof bad_arrays / sizeof bad_arrays[0]; i++) {
        EXPECT_INVALID(berth_runtime_list_containers(&s, rt, bad_arrays[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "filters_json");
        EXPECT_INVALID(berth_runtime_events(&st_out, rt, bad_arrays[i]));
        EXPECT_INVALID(berth_runtime_export_images(rt, bad_arrays[i], "/tmp/x.tar"));
        EXPECT_CONTAINS(berth_last_error_message(), "patterns_json");
    }
    /* Export needs at least one pattern, none empty; an empty path is refused. */
    EXPECT_INVALID(berth_runtime_export_images(rt, "[]", "/tmp/x.tar"));
    EXPECT_INVALID(berth_runtime_export_images(rt, "", "/tmp/x.tar"));
    EXPECT_INVALID(berth_runtime_export_images(rt, "[\"\"]", "/tmp/x.tar"));
    EXPECT_INVALID(berth_runtime_export_images(rt, "[\"sample\",\" \"]", "/tmp/x.tar"));
    EXPECT_INVALID(berth_runtime_export_images(rt, "[\"sample\"]", ""));
    /* An empty filter list is no filter. */
    EXPECT_STATUS(berth_runtime_list_containers(&s, rt, ""), BERTH_ERR_NOT_SUPPORTED);
    EXPECT_STATUS(berth_runtime_list_containers(&s, rt, "[]"), BERTH_ERR_NOT_SUPPORTED);

    /* Create options: an object, known fields, an image. */
    static const char *bad_create[] = {
        "", "{", "[]", "[\"sample\"]", "\"sample\"", "null", "{}", "{\"image\":\"\"}", "{\"image\":\"  \"}",
        "{\"image\":5}", "{\"image\":\"sample\",\"bogus\":1}", "{\"image\":\"sample\",\"args\":\"/bin/sh\"}",
        "{\"image\":\"sample\",\"network\":\"bridge\"}", "{\"image\":\"sample\",\"resources\":{\"memory\":1}}",
        "{\"image\":\"sample\",\"mounts\":[{\"source\":\"/\",\"destination\":\"/x\",\"bogus\":true}]}",
        "{\"image\":\"sample\",\"tty\":\"yes\"}",
    };
    for (size_t i = 0; i < sizeof bad_create / sizeof bad_create[0]; i++) {
        EXPECT_INVALID(berth_runtime_create_container(&c_out, rt, bad_create[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "options_json");
    }

    /* Pull options: NULL, "" and {} are the defaults; the rest must be known fields. */
    static const char *bad_pull[] = {"{", "[]", "\"x\"", "{\"plain_http\":\"yes\"}", "{\"bogus\":1}", "{\"username\":1}"};
    for (size_t i = 0; i < sizeof bad_pull / sizeof bad_pull[0]; i++)
        EXPECT_INVALID(berth_runtime_pull(&st_out, rt, "example.com/x:1", bad_pull[i]));
    static const char *good_pull[] = {"", "{}", "{\"plain_http\":true,\"platform\":\"linux/amd64\",\"username\":\"u\",\"password\":\"p\"}"};
    for (size_t i = 0; i < sizeof good_pull / sizeof good_pull[0]; i++) {
        berth_stream p = {0};
        if (EXPECT_OK(berth_runtime_pull(&p, rt, "example.com/x:1", good_pull[i]))) EXPECT_OK(berth_stream_close(p));
    }

    /* Push options: like a pull's, without a platform (a push sends what it has). */
    static const char *bad_push[] = {"{", "[]", "\"x\"", "null", "{\"plain_http\":\"yes\"}", "{\"bogus\":1}",
                                     "{\"username\":1}", "{\"platform\":\"linux/amd64\"}"};
    for (size_t i = 0; i < sizeof bad_push / sizeof bad_push[0]; i++) {
        EXPECT_INVALID(berth_runtime_push(&st_out, rt, "example.com/x:1", bad_push[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "options_json");
    }
    static const char *good_push[] = {"", "{}", "{\"plain_http\":true,\"username\":\"u\",\"password\":\"p\"}"};
    for (size_t i = 0; i < sizeof good_push / sizeof good_push[0]; i++) {
        berth_stream ps = {0};
        if (EXPECT_OK(berth_runtime_push(&ps, rt, "example.com/x:1", good_push[i]))) EXPECT_OK(berth_stream_close(ps));
    }

    /* Pod options: NULL, "" and {} are the defaults (then NOT_SUPPORTED here); the rest
     * an object of known fields. */
    static const char *bad_pod[] = {"{", "[]", "\"p\"", "null", "1", "{\"bogus\":1}", "{\"name\":5}",
                                    "{\"labels\":[\"a=b\"]}", "{\"network\":\"bridge\"}", "{\"hostname\":true}"};
    for (size_t i = 0; i < sizeof bad_pod / sizeof bad_pod[0]; i++) {
        EXPECT_INVALID(berth_runtime_create_pod(&p_out, rt, bad_pod[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "options_json");
    }
    static const char *good_pod[] = {"", "{}", "{\"name\":\"p\",\"labels\":{},\"hostname\":\"h\",\"network\":\"none\"}"};
    for (size_t i = 0; i < sizeof good_pod / sizeof good_pod[0]; i++)
        EXPECT_STATUS(berth_runtime_create_pod(&p_out, rt, good_pod[i]), BERTH_ERR_NOT_SUPPORTED);

    /* Log and commit options: objects of known fields, checked before the (forged)
     * container handle. */
    static const char *bad_logs[] = {"{", "[]", "\"x\"", "null", "{\"bogus\":1}", "{\"tail\":\"10\"}", "{\"tail\":-1}",
                                     "{\"follow\":1}", "{\"since\":\"yesterday\"}", "{\"stdout\":null,\"x\":1}"};
    for (size_t i = 0; i < sizeof bad_logs / sizeof bad_logs[0]; i++) {
        EXPECT_INVALID(berth_container_logs(&st_out, c, bad_logs[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "options_json");
    }
    static const char *good_logs[] = {"", "{}", "{\"follow\":true,\"since\":0,\"until\":2000000000,\"tail\":10,"
                                      "\"timestamps\":true,\"stdout\":true,\"stderr\":false}"};
    for (size_t i = 0; i < sizeof good_logs / sizeof good_logs[0]; i++)
        EXPECT_STATUS(berth_container_logs(&st_out, c, good_logs[i]), BERTH_ERR_INVALID_HANDLE);
    static const char *bad_commit[] = {"{", "[]", "\"x\"", "null", "{\"bogus\":1}", "{\"reference\":5}",
                                       "{\"changes\":\"CMD x\"}", "{\"changes\":[1]}", "{\"pause\":\"no\"}"};
    for (size_t i = 0; i < sizeof bad_commit / sizeof bad_commit[0]; i++) {
        EXPECT_INVALID(berth_container_commit(&s, c, bad_commit[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "options_json");
    }
    EXPECT_STATUS(berth_container_commit(&s, c, "{\"reference\":\"example.com/x:1\",\"message\":\"m\",\"author\":\"a\","
                                                 "\"changes\":[\"CMD [\\\"/bin/sh\\\"]\"],\"pause\":false}"),
                  BERTH_ERR_INVALID_HANDLE);

    /* Empty and blank names. */
    static const char *blank[] = {"", " ", "\t\n"};
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        const char *b = blank[i];
        EXPECT_INVALID(berth_runtime_find_containers(&s, rt, b));
        EXPECT_INVALID(berth_runtime_open_container(&c_out, rt, b));
        EXPECT_INVALID(berth_runtime_tag_image(rt, b, "sample:other"));
        EXPECT_INVALID(berth_runtime_tag_image(rt, "sample", b));
        EXPECT_INVALID(berth_runtime_remove_image(rt, b));
        EXPECT_INVALID(berth_runtime_import_images(&s, rt, b));
        EXPECT_INVALID(berth_runtime_pull(&st_out, rt, b, NULL));
        EXPECT_INVALID(berth_runtime_snapshots_stat(&s, rt, NULL, b));
        EXPECT_INVALID(berth_runtime_snapshots_prepare(&s, rt, NULL, b, NULL));
        EXPECT_INVALID(berth_runtime_snapshots_view(&s, rt, NULL, b, "p"));
        EXPECT_INVALID(berth_runtime_snapshots_commit(rt, NULL, b, "k"));
        EXPECT_INVALID(berth_runtime_snapshots_commit(rt, NULL, "n", b));
        EXPECT_INVALID(berth_runtime_snapshots_mounts(&s, rt, NULL, b));
        EXPECT_INVALID(berth_runtime_snapshots_usage(&s, rt, NULL, b));
        EXPECT_INVALID(berth_runtime_snapshots_remove(rt, NULL, b));
        EXPECT_INVALID(berth_runtime_push(&st_out, rt, b, NULL));
        EXPECT_INVALID(berth_runtime_open_pod(&p_out, rt, b));
        EXPECT_INVALID(berth_container_rename(c, b));
        EXPECT_CONTAINS(berth_last_error_message(), "name");
        EXPECT_INVALID(berth_container_export(c, b));
        EXPECT_INVALID(berth_container_archive(c, b, "/tmp/x.tar"));
        EXPECT_INVALID(berth_container_archive(c, "/etc", b));
    }

    /* Bad UTF-8 in every string argument. */
    for (size_t i = 0; i < N_BAD_UTF8; i++) {
        const char *bad = bad_utf8[i];
        EXPECT_INVALID(berth_runtime_list_containers(&s, rt, bad));
        EXPECT_CONTAINS(berth_last_error_message(), "UTF-8");
        EXPECT_INVALID(berth_runtime_find_containers(&s, rt, bad));
        EXPECT_INVALID(berth_runtime_create_container(&c_out, rt, bad));
        EXPECT_INVALID(berth_runtime_open_container(&c_out, rt, bad));
        EXPECT_INVALID(berth_runtime_tag_image(rt, bad, "sample:other"));
        EXPECT_INVALID(berth_runtime_tag_image(rt, "sample", bad));
        EXPECT_INVALID(berth_runtime_remove_image(rt, bad));
        EXPECT_INVALID(berth_runtime_import_images(&s, rt, bad));
        EXPECT_INVALID(berth_runtime_export_images(rt, bad, "/tmp/x.tar"));
        EXPECT_INVALID(berth_runtime_export_images(rt, "[\"sample\"]", bad));
        EXPECT_INVALID(berth_runtime_pull(&st_out, rt, bad, NULL));
        EXPECT_INVALID(berth_runtime_pull(&st_out, rt, "example.com/x:1", bad));
        EXPECT_INVALID(berth_runtime_events(&st_out, rt, bad));
        EXPECT_INVALID(berth_runtime_snapshots_list(&s, rt, bad));
        EXPECT_INVALID(berth_runtime_snapshots_stat(&s, rt, bad, "k"));
        EXPECT_INVALID(berth_runtime_snapshots_stat(&s, rt, NULL, bad));
        EXPECT_INVALID(berth_runtime_snapshots_prepare(&s, rt, NULL, "k", bad));
        EXPECT_INVALID(berth_runtime_snapshots_view(&s, rt, bad, "k", NULL));
        EXPECT_INVALID(berth_runtime_snapshots_commit(rt, NULL, bad, "k"));
        EXPECT_INVALID(berth_runtime_snapshots_mounts(&s, rt, NULL, bad));
        EXPECT_INVALID(berth_runtime_snapshots_usage(&s, rt, bad, "k"));
        EXPECT_INVALID(berth_runtime_snapshots_remove(rt, NULL, bad));
        EXPECT_INVALID(berth_container_update_resources(c, bad));
        EXPECT_INVALID(berth_container_exec_output(&o, c, bad, NULL, 0, 0));
        EXPECT_INVALID(berth_container_exec(&e_out, c, bad));
        EXPECT_INVALID(berth_runtime_push(&st_out, rt, bad, NULL));
        EXPECT_INVALID(berth_runtime_push(&st_out, rt, "example.com/x:1", bad));
        EXPECT_INVALID(berth_runtime_create_pod(&p_out, rt, bad));
        EXPECT_INVALID(berth_runtime_open_pod(&p_out, rt, bad));
        EXPECT_INVALID(berth_container_logs(&st_out, c, bad));
        EXPECT_INVALID(berth_container_rename(c, bad));
        EXPECT_INVALID(berth_container_export(c, bad));
        EXPECT_INVALID(berth_container_commit(&s, c, bad));
        EXPECT_INVALID(berth_container_archive(c, bad, "/tmp/x.tar"));
        EXPECT_INVALID(berth_container_archive(c, "/etc", bad));
        EXPECT_CONTAINS(berth_last_error_message(), "UTF-8");
    }

    /* Resources: an object of known fields. */
    static const char *bad_resources[] = {"", "{", "[]", "null", "{\"memory\":1}", "{\"pids_limit\":\"10\"}", "{\"cpu_shares\":-1}"};
    for (size_t i = 0; i < sizeof bad_resources / sizeof bad_resources[0]; i++) {
        EXPECT_INVALID(berth_container_update_resources(c, bad_resources[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "resources_json");
    }
    EXPECT_STATUS(berth_container_update_resources(c, "{}"), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_container_update_resources(c, "{\"memory_bytes\":67108864,\"pids_limit\":10}"), BERTH_ERR_INVALID_HANDLE);

    /* Exec options: an object of known fields, with a program to run. */
    static const char *bad_exec[] = {"", "{", "[]", "[\"/bin/true\"]", "{}", "{\"args\":[]}", "{\"args\":\"/bin/true\"}",
                                     "{\"args\":[\"/bin/true\"],\"bogus\":1}", "{\"args\":[1]}", "{\"args\":[\"/bin/true\"],\"tty\":1}"};
    for (size_t i = 0; i < sizeof bad_exec / sizeof bad_exec[0]; i++) {
        EXPECT_INVALID(berth_container_exec_output(&o, c, bad_exec[i], (const uint8_t *)"x", 1, 1000));
        EXPECT_CONTAINS(berth_last_error_message(), "options_json");
        EXPECT_INVALID(berth_container_exec(&e_out, c, bad_exec[i]));
    }
    EXPECT(o.stdout_data.data == NULL && e_out.id == 0);

    /* Signals 1 to 64; a terminal of at least 1x1. */
    static const int32_t bad_signals[] = {0, -1, -9, 65, 1000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_signals / sizeof bad_signals[0]; i++) {
        EXPECT_INVALID(berth_container_kill(c, bad_signals[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "signal");
        EXPECT_INVALID(berth_exec_kill(e, bad_signals[i]));
        EXPECT_INVALID(berth_pod_kill(p, bad_signals[i]));
        EXPECT_CONTAINS(berth_last_error_message(), "signal");
    }
    EXPECT_STATUS(berth_pod_kill(p, 1), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_pod_kill(p, 64), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_pod_stop(p, UINT32_MAX), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_pod_remove(p, false), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_container_kill(c, 1), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_container_kill(c, 64), BERTH_ERR_INVALID_HANDLE);
    EXPECT_INVALID(berth_exec_resize(e, 0, 24));
    EXPECT_INVALID(berth_exec_resize(e, 80, 0));
    EXPECT_STATUS(berth_exec_resize(e, UINT32_MAX, UINT32_MAX), BERTH_ERR_INVALID_HANDLE);

    /* Timeouts of any value are fine; the handle is what is wrong. */
    static const int64_t timeouts[] = {-1, 0, 1, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        berth_exec_event ev = {7, 7, {NULL, 0}};
        EXPECT_STATUS(berth_container_wait(&code, c, timeouts[i]), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_exec_next(&ev, e, timeouts[i]), BERTH_ERR_INVALID_HANDLE);
        EXPECT(ev.kind == 0 && ev.exit_code == 0 && ev.data.data == NULL);
        EXPECT_STATUS(berth_container_exec_output(&o, c, "{\"args\":[\"/bin/true\"]}", NULL, 0, timeouts[i]),
                      BERTH_ERR_INVALID_HANDLE);
    }
    EXPECT_STATUS(berth_container_stop(&code, c, UINT32_MAX), BERTH_ERR_INVALID_HANDLE);
    EXPECT(code == 12345);
    EXPECT(s == NULL && c_out.id == 0 && st_out.id == 0 && p_out.id == 0);
#undef EXPECT_INVALID
}

/* ---- 4. threads ------------------------------------------------------------------------- */

static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static long iterations_done;
static int stop_now;

struct closing_shared {
    berth_runtime rt;
    berth_image image;
    berth_layer layer;
    berth_fs fs;
    berth_file file;
};
struct closing_result {
    long ok, invalid, other;
    long final_ok; /* calls that still succeeded on the last round, after every close */
};

/* OK or INVALID_HANDLE only; anything else fails the test. */
static int tally(struct closing_result *r, berth_status st, const char *what, int final) {
    if (st == BERTH_OK || st == BERTH_END) {
        r->ok++;
        if (final) r->final_ok++;
        return 1;
    }
    if (st == BERTH_ERR_INVALID_HANDLE) {
        r->invalid++;
        return 0;
    }
    r->other++;
    char msg[512];
    snprintf(msg, sizeof msg, "%s from a thread while handles were being closed: %s (%d)", what,
             berth_status_string(st), (int)st);
    check_failed(__FILE__, __LINE__, msg, 0);
    return 0;
}

static void closing_round(const struct closing_shared *sh, struct closing_result *r, long round, int final) {
    char *s = NULL;
    berth_bytes b = {NULL, 0};
    unsigned char buf[256];
    size_t n = 0;

    if (tally(r, berth_runtime_info(&s, sh->rt), "berth_runtime_info", final)) berth_string_free(s);
    s = NULL;
    if (tally(r, berth_runtime_find_images(&s, sh->rt, "sample"), "berth_runtime_find_images", final)) {
        EXPECT_CONTAINS(s, "sample:latest");
        berth_string_free(s);
    }
    s = NULL;
    if (round % 4 == 0) {
        berth_image im = {0};
        if (tally(r, berth_runtime_open_image(&im, sh->rt, "sample"), "berth_runtime_open_image", final)) {
            berth_fs ifs = {0};
            if (EXPECT_OK(berth_image_filesystem(&ifs, im))) {
                EXPECT_OK(berth_fs_read_file(&b, ifs, "/etc/os-release", 0));
                EXPECT(b.len == OS_RELEASE_LEN);
                berth_bytes_free(b);
                b.data = NULL;
                b.len = 0;
                EXPECT_OK(berth_fs_close(ifs));
            }
            EXPECT_OK(berth_image_close(im));
        }
    }
    if (tally(r, berth_image_id(&s, sh->image), "berth_image_id", final)) berth_string_free(s);
    s = NULL;
    if (tally(r, berth_image_inspect(&s, sh->image), "berth_image_inspect", final)) berth_string_free(s);
    s = NULL;
    size_t layers = 0;
    if (tally(r, berth_image_layer_count(&layers, sh->image), "berth_image_layer_count", final)) EXPECT(layers == 2);
    {
        berth_layer l = {0};
        if (tally(r, berth_image_layer(&l, sh->image, 1), "berth_image_layer", final)) {
            EXPECT_OK(berth_layer_changes(&s, l));
            berth_string_free(s);
            s = NULL;
            EXPECT_OK(berth_layer_close(l));
        }
    }
    if (round % 3 == 0) {
        berth_fs ifs = {0};
        if (tally(r, berth_image_filesystem(&ifs, sh->image), "berth_image_filesystem", final))
            EXPECT_OK(berth_fs_close(ifs));
    }
    if (tally(r, berth_layer_inspect(&s, sh->layer), "berth_layer_inspect", final)) berth_string_free(s);
    s = NULL;
    if (tally(r, berth_layer_changes(&s, sh->layer), "berth_layer_changes", final)) berth_string_free(s);
    s = NULL;

    if (tally(r, berth_fs_stat(&s, sh->fs, "/etc/os-release"), "berth_fs_stat", final)) {
        EXPECT_CONTAINS(s, "\"size\":125");
        berth_string_free(s);
    }
    s = NULL;
    if (tally(r, berth_fs_read_file(&b, sh->fs, "/usr/lib/os-release", 0), "berth_fs_read_file", final)) {
        EXPECT(b.len == OS_RELEASE_LEN && memcmp(b.data, os_release, OS_RELEASE_LEN) == 0);
        berth_bytes_free(b);
    }
    b.data = NULL;
    b.len = 0;
    {
        berth_file f = {0};
        if (tally(r, berth_fs_open(&f, sh->fs, "/etc/os-release"), "berth_fs_open", final)) {
            EXPECT_OK(berth_file_read(&n, f, buf, sizeof buf));
            EXPECT(n == OS_RELEASE_LEN && memcmp(buf, os_release, OS_RELEASE_LEN) == 0);
            EXPECT_OK(berth_file_close(f));
        }
    }
    {
        berth_stream w = {0};
        if (tally(r, berth_fs_walk(&w, sh->fs, "/"), "berth_fs_walk", final)) {
            int items = 0;
            berth_status st;
            while ((st = berth_stream_next(&s, w, -1)) == BERTH_OK) {
                items++;
                berth_string_free(s);
            }
            s = NULL;
            EXPECT_STATUS(st, BERTH_END);
            EXPECT(items == 16);
            EXPECT_OK(berth_stream_close(w));
        }
    }
    if (tally(r, berth_file_read_at(&n, sh->file, buf, sizeof buf, 10), "berth_file_read_at", final))
        EXPECT(n == OS_RELEASE_LEN - 10 && memcmp(buf, os_release + 10, n) == 0);
    if (tally(r, berth_file_stat(&s, sh->file), "berth_file_stat", final)) berth_string_free(s);
    s = NULL;
}

struct closing_arg {
    const struct closing_shared *sh;
    struct closing_result result;
};

static void *closing_thread(void *p) {
    struct closing_arg *a = p;
    for (long round = 0;; round++) {
        pthread_mutex_lock(&progress_lock);
        int stop = stop_now;
        pthread_mutex_unlock(&progress_lock);
        /* One more round after the stop: every handle is closed by then. */
        closing_round(a->sh, &a->result, round, stop);
        pthread_mutex_lock(&progress_lock);
        iterations_done++;
        pthread_mutex_unlock(&progress_lock);
        if (stop) break;
    }
    return NULL;
}

/* Waits until the threads have finished `more` more rounds (at most 120 s). */
static void wait_rounds(long more) {
    pthread_mutex_lock(&progress_lock);
    long target = iterations_done + more;
    pthread_mutex_unlock(&progress_lock);
    for (int waited = 0; waited < 120000; waited += 2) {
        pthread_mutex_lock(&progress_lock);
        long done = iterations_done;
        pthread_mutex_unlock(&progress_lock);
        if (done >= target) return;
        sleep_ms(2);
    }
    REQUIRE(!"the threads stopped making progress");
}

static void test_close_while_in_use(void) {
    enum { THREADS = 4 };
    struct closing_shared sh;
    struct closing_arg args[THREADS];
    pthread_t threads[THREADS];

    memset(&sh, 0, sizeof sh);
    REQUIRE_OK(berth_runtime_open(&sh.rt, endpoint, NULL));
    REQUIRE_OK(berth_runtime_open_image(&sh.image, sh.rt, "sample"));
    REQUIRE_OK(berth_image_layer(&sh.layer, sh.image, 1));
    REQUIRE_OK(berth_image_filesystem(&sh.fs, sh.image));
    REQUIRE_OK(berth_fs_open(&sh.file, sh.fs, "/etc/os-release"));
    iterations_done = 0;
    stop_now = 0;
    for (int i = 0; i < THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].sh = &sh;
        REQUIRE(pthread_create(&threads[i], NULL, closing_thread, &args[i]) == 0);
    }
    /* Each step waits for more rounds than there are threads, so at least one round
     * starts after each close. */
    wait_rounds(THREADS);
    EXPECT_OK(berth_runtime_close(sh.rt));
    wait_rounds(THREADS + 2);
    EXPECT_OK(berth_image_close(sh.image));
    wait_rounds(THREADS + 2);
    EXPECT_OK(berth_layer_close(sh.layer));
    wait_rounds(THREADS + 2);
    EXPECT_OK(berth_fs_close(sh.fs));
    wait_rounds(THREADS + 2);
    EXPECT_OK(berth_file_close(sh.file));
    wait_rounds(THREADS + 2);
    pthread_mutex_lock(&progress_lock);
    stop_now = 1;
    pthread_mutex_unlock(&progress_lock);
    long ok = 0, invalid = 0, other = 0;
    for (int i = 0; i < THREADS; i++) {
        REQUIRE(pthread_join(threads[i], NULL) == 0);
        ok += args[i].result.ok;
        invalid += args[i].result.invalid;
        other += args[i].result.other;
        EXPECT(args[i].result.final_ok == 0); /* everything was closed by the last round */
    }
    printf("close while in use: %ld rounds, %ld calls ok, %ld invalid_handle, %ld other\n",
           iterations_done, ok, invalid, other);
    EXPECT(ok > 0 && invalid > 0 && other == 0);
    /* Closing again is just INVALID_HANDLE. */
    EXPECT_STATUS(berth_runtime_close(sh.rt), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_image_close(sh.image), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_layer_close(sh.layer), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_fs_close(sh.fs), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_file_close(sh.file), BERTH_ERR_INVALID_HANDLE);
}

/* 8 threads on one runtime, one filesystem, one file and one walk. */
struct sharing {
    berth_runtime rt;
    berth_fs fs;
    berth_file file;
    berth_stream walk;
    pthread_mutex_t lock;
    char walked[32][128];
    int n_walked;
};

static void *sharing_thread(void *p) {
    struct sharing *sh = p;
    unsigned char buf[256];
    size_t n;
    char *s = NULL;
    char mine[64];
    snprintf(mine, sizeof mine, "/missing/thread-%p", (void *)&mine);

    /* The shared walk: each item goes to exactly one thread. */
    for (;;) {
        berth_status st = berth_stream_next(&s, sh->walk, -1);
        if (st == BERTH_END) break;
        if (!EXPECT_OK(st)) break;
        const char *path = strstr(s, "\"path\":\"");
        pthread_mutex_lock(&sh->lock);
        if (path && sh->n_walked < 32) {
            snprintf(sh->walked[sh->n_walked], sizeof sh->walked[0], "%.*s",
                     (int)(strchr(path + 8, '"') - (path + 8)), path + 8);
            sh->n_walked++;
        }
        pthread_mutex_unlock(&sh->lock);
        berth_string_free(s);
        s = NULL;
    }

    for (int i = 0; i < 40; i++) {
        berth_bytes b = {NULL, 0};
        if (EXPECT_OK(berth_fs_read_file(&b, sh->fs, "/etc/os-release", 0))) {
            EXPECT(b.len == OS_RELEASE_LEN && memcmp(b.data, os_release, OS_RELEASE_LEN) == 0);
            berth_bytes_free(b);
        }
        /* Its own handle to the same file, read in odd-sized chunks. */
        berth_file f = {0};
        if (EXPECT_OK(berth_fs_open(&f, sh->fs, "/usr/lib/os-release"))) {
            size_t total = 0, chunk = (size_t)(i % 13) + 1;
            while (total < sizeof buf && berth_file_read(&n, f, buf + total, chunk) == BERTH_OK && n > 0)
                total += n;
            EXPECT(total == OS_RELEASE_LEN && memcmp(buf, os_release, OS_RELEASE_LEN) == 0);
            EXPECT_OK(berth_file_close(f));
        }
        /* The shared file handle: positional reads only (its position is shared). */
        uint64_t off = (uint64_t)(i * 7) % OS_RELEASE_LEN;
        if (EXPECT_OK(berth_file_read_at(&n, sh->file, buf, 32, off))) {
            size_t want = OS_RELEASE_LEN - off < 32 ? OS_RELEASE_LEN - off : 32;
            EXPECT(n == want && memcmp(buf, os_release + off, want) == 0);
        }
        if (EXPECT_OK(berth_fs_stat(&s, sh->fs, "/etc/motd"))) {
            EXPECT_CONTAINS(s, "\"size\":55");
            berth_string_free(s);
        }
        s = NULL;
        if (i % 8 == 0) {
            if (EXPECT_OK(berth_runtime_find_images(&s, sh->rt, "sample:latest"))) {
                EXPECT_CONTAINS(s, "sample:latest");
                berth_string_free(s);
            }
            s = NULL;
        }
        /* Last errors stay per thread while all of them fail at once. */
        EXPECT_STATUS(berth_fs_stat(&s, sh->fs, mine), BERTH_ERR_NOT_FOUND);
        EXPECT_CONTAINS(berth_last_error_message(), mine);
    }
    return NULL;
}

static void test_shared_by_eight(void) {
    enum { THREADS = 8 };
    struct sharing sh;
    pthread_t threads[THREADS];
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.lock, NULL);
    REQUIRE_OK(berth_runtime_open(&sh.rt, endpoint, NULL));
    berth_image image = {0};
    REQUIRE_OK(berth_runtime_open_image(&image, sh.rt, "sample"));
    REQUIRE_OK(berth_image_filesystem(&sh.fs, image));
    REQUIRE_OK(berth_fs_open(&sh.file, sh.fs, "/etc/os-release"));
    REQUIRE_OK(berth_fs_walk(&sh.walk, sh.fs, "/"));
    for (int i = 0; i < THREADS; i++) REQUIRE(pthread_create(&threads[i], NULL, sharing_thread, &sh) == 0);
    for (int i = 0; i < THREADS; i++) REQUIRE(pthread_join(threads[i], NULL) == 0);

    /* The walk's 16 entries went out once each. */
    EXPECT(sh.n_walked == 16);
    for (int i = 0; i < sh.n_walked; i++)
        for (int j = i + 1; j < sh.n_walked; j++)
            if (strcmp(sh.walked[i], sh.walked[j]) == 0) {
                EXPECT(!"a walk entry was handed to two threads");
                fprintf(stderr, "    duplicate: %s\n", sh.walked[i]);
            }
    EXPECT_OK(berth_stream_close(sh.walk));
    EXPECT_OK(berth_file_close(sh.file));
    EXPECT_OK(berth_fs_close(sh.fs));
    EXPECT_OK(berth_image_close(image));
    EXPECT_OK(berth_runtime_close(sh.rt));
    pthread_mutex_destroy(&sh.lock);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s oci-archive:///ABS/PATH/sample/sample.oci.tar\n", argv[0]);
        return 2;
    }
    endpoint = argv[1];

    for (int k = 0; k < N_KINDS; k++) {
        live[k] = open_one((enum kind)k);
        REQUIRE(live[k] != 0);
    }
    {
        berth_fs fs = {live[K_FS]};
        berth_bytes b = {NULL, 0};
        REQUIRE_OK(berth_fs_read_file(&b, fs, "/usr/lib/os-release", 0));
        REQUIRE(b.len == OS_RELEASE_LEN);
        memcpy(os_release, b.data, OS_RELEASE_LEN);
        berth_bytes_free(b);
    }

    test_last_error_per_thread();
    test_null_arguments();
    test_bad_handles();
    test_bad_strings();
    test_lengths_offsets_seeks();
    test_streams_and_statuses();
    test_daemon_null_arguments();
    test_daemon_bad_handles();
    test_daemon_not_supported();
    test_daemon_bad_arguments();

    /* The tidy order: streams and files, filesystems, layers, images, runtime. */
    static const enum kind order[] = {K_STREAM, K_FILE, K_FS, K_LAYER, K_IMAGE, K_RUNTIME};
    for (size_t i = 0; i < N_KINDS; i++) EXPECT_OK(close_one(order[i], live[order[i]]));
    for (size_t i = 0; i < N_KINDS; i++) EXPECT_STATUS(close_one(order[i], live[order[i]]), BERTH_ERR_INVALID_HANDLE);

    test_close_while_in_use();
    test_shared_by_eight();

    return check_summary("test_misuse");
}
