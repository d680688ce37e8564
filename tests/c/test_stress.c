/*
 * test_stress: 16 threads x 1,000 mixed calls on SHARED handles, every result compared
 * with a serial run of the same calls (issue 11, "Stress").
 *
 *   test_stress ENDPOINT PATTERN [ENDPOINT PATTERN]...
 *
 * tests/c/run.sh passes the offline sample image and the bigger image of
 * tests/stress_image.py (2,000 files in two gzip layers, a 6 MiB file).
 *
 * Each thread has its own list of calls, drawn from a seeded generator: open an image,
 * open a filesystem, stat, lstat, read_dir, open a file and read it whole, read_at on a
 * file handle every thread shares, walk a directory, and the "victim" calls: use or close
 * one of a pool of handles (filesystems, files and images) that the threads close under
 * each other. Every call's result (its status and a hash of what it returned) is
 * recorded; the same lists run first in one thread, with nothing closed, and then on 16
 * threads at once. A call must give the serial result, except a call on a victim:
 *   - started after its victim's close returned: BERTH_ERR_INVALID_HANDLE, always;
 *   - running while its victim is closed: the serial result or INVALID_HANDLE;
 * and of the closes of one victim exactly one succeeds. Then 8 pairs of threads race 50
 * times each: one closes a file and a filesystem just as the other starts a 1 MiB read_at
 * and a walk on them; the reader must get the serial result or INVALID_HANDLE, and the
 * handles are dead afterwards. Descriptors and threads of the
 * process must come back to their count before the run, and every handle made is dead
 * after its close (a second close is INVALID_HANDLE). Run under AddressSanitizer (and
 * LeakSanitizer) by tests/c/run.sh.
 */
#include "check.h"

#include <berth.h>
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 16
#define CALLS 1000
#define MAX_IMAGES 4
#define VICTIMS_PER_IMAGE 24
#define MAX_VICTIMS (MAX_IMAGES * VICTIMS_PER_IMAGE)

/* ---- the images and their shared handles ------------------------------------------ */

typedef struct {
    const char *endpoint, *pattern;
    berth_runtime rt;
    berth_image image;
    berth_fs fs;
    berth_file shared_file; /* the biggest file, read_at by every thread */
    uint64_t shared_size;
    size_t biggest; /* its index in files */
    char **files; /* regular files, sizes below */
    uint64_t *sizes;
    size_t nfiles;
    char **dirs;
    size_t ndirs;
    char **all; /* every path, for stat and lstat */
    size_t nall;
} image_ctx;

static image_ctx images[MAX_IMAGES];
static size_t nimages;

static char *xstrdup(const char *s) {
    char *d = malloc(strlen(s) + 1);
    REQUIRE(d != NULL);
    strcpy(d, s);
    return d;
}

static void push(char ***list, size_t *n, const char *s) {
    *list = realloc(*list, (*n + 1) * sizeof **list);
    REQUIRE(*list != NULL);
    (*list)[(*n)++] = xstrdup(s);
}

/* The unsigned number value of "key" in a flat JSON document (0 when absent). */
static uint64_t json_u64(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    return p ? strtoull(p + strlen(pattern), NULL, 10) : 0;
}

/* Opens the image's shared handles and lists its paths (one serial walk). */
static void open_image(image_ctx *im) {
    berth_stream walk;
    char *entry = NULL;
    berth_status st;
    char path[4096], type[32], biggest[4096] = "";
    REQUIRE_OK(berth_runtime_open(&im->rt, im->endpoint, NULL));
    REQUIRE_OK(berth_runtime_open_image(&im->image, im->rt, im->pattern));
    REQUIRE_OK(berth_image_filesystem(&im->fs, im->image));
    REQUIRE_OK(berth_fs_walk(&walk, im->fs, "/"));
    while ((st = berth_stream_next(&entry, walk, -1)) == BERTH_OK) {
        json_str(entry, "path", path, sizeof path);
        json_str(entry, "type", type, sizeof type);
        push(&im->all, &im->nall, path);
        if (strcmp(type, "dir") == 0) push(&im->dirs, &im->ndirs, path);
        if (strcmp(type, "file") == 0) {
            uint64_t size = json_u64(entry, "size");
            push(&im->files, &im->nfiles, path);
            im->sizes = realloc(im->sizes, im->nfiles * sizeof *im->sizes);
            REQUIRE(im->sizes != NULL);
            im->sizes[im->nfiles - 1] = size;
            if (size >= im->shared_size) {
                im->shared_size = size;
                im->biggest = im->nfiles - 1;
                snprintf(biggest, sizeof biggest, "%s", path);
            }
        }
        berth_string_free(entry);
    }
    REQUIRE_STATUS(st, BERTH_END);
    REQUIRE_OK(berth_stream_close(walk));
    REQUIRE(im->nfiles > 0 && im->ndirs > 0);
    REQUIRE_OK(berth_fs_open(&im->shared_file, im->fs, biggest));
    printf("   %s %s: %zu paths, %zu files, %zu dirs, biggest %s (%llu bytes)\n", im->endpoint, im->pattern, im->nall,
           im->nfiles, im->ndirs, biggest, (unsigned long long)im->shared_size);
}

static void close_image(image_ctx *im) {
    EXPECT_OK(berth_file_close(im->shared_file));
    EXPECT_OK(berth_fs_close(im->fs));
    EXPECT_OK(berth_image_close(im->image));
    EXPECT_OK(berth_runtime_close(im->rt));
    /* Dead everywhere once closed. */
    EXPECT_STATUS(berth_file_close(im->shared_file), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_fs_close(im->fs), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_image_close(im->image), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_runtime_close(im->rt), BERTH_ERR_INVALID_HANDLE);
    for (size_t i = 0; i < im->nall; i++) free(im->all[i]);
    for (size_t i = 0; i < im->nfiles; i++) free(im->files[i]);
    for (size_t i = 0; i < im->ndirs; i++) free(im->dirs[i]);
    free(im->all);
    free(im->files);
    free(im->dirs);
    free(im->sizes);
}

/* ---- victims: handles the threads close under each other --------------------------- */

enum { V_FS, V_FILE, V_IMAGE };

typedef struct {
    int kind;
    size_t img;
    size_t file; /* V_FILE: index into the image's files; V_FS: a path index */
    berth_fs fs;
    berth_file f;
    berth_image image;
    int closed;    /* set (release) once a close of it returned OK */
    int close_oks; /* how many closes returned OK: exactly one in the end */
} victim;

static victim victims[MAX_VICTIMS];
static size_t nvictims;

static void open_victims(void) {
    for (size_t i = 0; i < nvictims; i++) {
        victim *v = &victims[i];
        image_ctx *im = &images[v->img];
        v->closed = 0;
        v->close_oks = 0;
        switch (v->kind) {
        case V_FS: REQUIRE_OK(berth_image_filesystem(&v->fs, im->image)); break;
        case V_FILE: REQUIRE_OK(berth_fs_open(&v->f, im->fs, im->files[v->file])); break;
        default: REQUIRE_OK(berth_runtime_open_image(&v->image, im->rt, im->pattern)); break;
        }
    }
}

static berth_status close_victim(victim *v) {
    switch (v->kind) {
    case V_FS: return berth_fs_close(v->fs);
    case V_FILE: return berth_file_close(v->f);
    default: return berth_image_close(v->image);
    }
}

/* ---- the calls ------------------------------------------------------------------- */

enum {
    OP_OPEN_IMAGE,
    OP_OPEN_FS,
    OP_STAT,
    OP_LSTAT,
    OP_READ_DIR,
    OP_READ_FILE,
    OP_READ_AT_SHARED,
    OP_WALK,
    OP_VICTIM_USE,
    OP_VICTIM_CLOSE,
    OPS
};
static const char *op_names[OPS] = {"open image", "open fs", "stat", "lstat", "read_dir",
                                    "open+read+close file", "read_at shared file", "walk", "use a victim",
                                    "close a victim"};

typedef struct {
    int op;
    size_t img, arg, victim;
    uint64_t offset;
} call_t;

typedef struct {
    berth_status status;
    uint64_t hash;
} result_t;

static call_t calls[THREADS][CALLS];
static result_t serial[THREADS][CALLS];
static result_t concurrent[THREADS][CALLS];
/* For victim uses: was the victim's close already done when the call started, and
 * when it ended? */
static int started_closed[THREADS][CALLS];
static int ended_closed[THREADS][CALLS];

static uint64_t fnv(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}
#define FNV_START 14695981039346656037ULL

static uint64_t fnv_str(uint64_t h, const char *s) { return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "", 1); }

static uint64_t next_random(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The calls of one thread, drawn with its own seed. */
static void make_calls(int t) {
    uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(t + 1);
    for (int i = 0; i < CALLS; i++) {
        call_t *c = &calls[t][i];
        uint64_t r = next_random(&x);
        c->img = (size_t)(r % nimages);
        image_ctx *im = &images[c->img];
        r = next_random(&x);
        /* Weights: the victim calls often enough that closes meet uses. */
        static const int weights[OPS] = {4, 4, 14, 8, 10, 14, 14, 6, 24, 2};
        int total = 0, pick;
        for (int k = 0; k < OPS; k++) total += weights[k];
        pick = (int)(r % (uint64_t)total);
        for (c->op = 0; pick >= weights[c->op]; c->op++) pick -= weights[c->op];
        r = next_random(&x);
        switch (c->op) {
        case OP_STAT:
        case OP_LSTAT: c->arg = (size_t)(r % im->nall); break;
        case OP_READ_DIR: c->arg = (size_t)(r % im->ndirs); break;
        case OP_READ_FILE: {
            /* Whole reads of files up to 256 KiB; big ones are read_at's. */
            size_t tries = 0;
            do c->arg = (size_t)(next_random(&x) % im->nfiles);
            while (im->sizes[c->arg] > (256u << 10) && ++tries < 50);
            break;
        }
        case OP_READ_AT_SHARED: c->offset = im->shared_size ? r % im->shared_size : 0; break;
        case OP_WALK: c->arg = (size_t)(r % im->ndirs); break;
        case OP_VICTIM_USE:
            /* Half of the uses go to the victims being closed about now (see below),
             * so that closes meet calls in progress; the others to any victim. */
            if (r % 2)
                c->victim = ((size_t)i * nvictims / CALLS + (size_t)(r / 2 % 4)) % nvictims;
            else
                c->victim = (size_t)(r / 2 % nvictims);
            c->offset = next_random(&x);
            break;
        case OP_VICTIM_CLOSE:
            /* Victims are closed in turn over the run (each thread goes through them
             * as its list goes on), so that uses meet them open, being closed, and
             * closed. */
            c->victim = ((size_t)i * nvictims / CALLS + (size_t)(r % 3)) % nvictims;
            break;
        default: break;
        }
    }
}

/* A document or a string (or NULL) folded into the result's hash, then freed. */
static uint64_t take_string(uint64_t h, char *s) {
    h = fnv_str(h, s);
    berth_string_free(s);
    return h;
}

/* Reads a file handle to its end in 64 KiB chunks. */
static berth_status read_whole(berth_file f, uint64_t *h) {
    static __thread unsigned char buf[65536];
    size_t n;
    berth_status st;
    while ((st = berth_file_read(&n, f, buf, sizeof buf)) == BERTH_OK && n > 0) *h = fnv(*h, buf, n);
    return st;
}

static result_t run_call(const call_t *c, int concurrent_run) {
    image_ctx *im = &images[c->img];
    uint64_t h = FNV_START;
    berth_status st = BERTH_OK;
    char *doc = NULL;
    switch (c->op) {
    case OP_OPEN_IMAGE: {
        berth_image image;
        st = berth_runtime_open_image(&image, im->rt, im->pattern);
        if (st == BERTH_OK) {
            st = berth_image_id(&doc, image);
            h = take_string(h, doc);
            EXPECT_OK(berth_image_close(image));
            EXPECT_STATUS(berth_image_close(image), BERTH_ERR_INVALID_HANDLE);
        }
        break;
    }
    case OP_OPEN_FS: {
        berth_fs fs;
        st = berth_image_filesystem(&fs, im->image);
        if (st == BERTH_OK) {
            st = berth_fs_stat(&doc, fs, "/");
            h = take_string(h, doc);
            EXPECT_OK(berth_fs_close(fs));
            EXPECT_STATUS(berth_fs_close(fs), BERTH_ERR_INVALID_HANDLE);
        }
        break;
    }
    case OP_STAT: st = berth_fs_stat(&doc, im->fs, im->all[c->arg]); h = take_string(h, doc); break;
    case OP_LSTAT: st = berth_fs_lstat(&doc, im->fs, im->all[c->arg]); h = take_string(h, doc); break;
    case OP_READ_DIR: st = berth_fs_read_dir(&doc, im->fs, im->dirs[c->arg]); h = take_string(h, doc); break;
    case OP_READ_FILE: {
        berth_file f;
        st = berth_fs_open(&f, im->fs, im->files[c->arg]);
        if (st == BERTH_OK) {
            st = read_whole(f, &h);
            EXPECT_OK(berth_file_close(f));
            EXPECT_STATUS(berth_file_close(f), BERTH_ERR_INVALID_HANDLE);
        }
        break;
    }
    case OP_READ_AT_SHARED: {
        static __thread unsigned char buf[65536];
        size_t n = 0;
        st = berth_file_read_at(&n, im->shared_file, buf, sizeof buf, c->offset);
        h = fnv(h, buf, n);
        h = fnv(h, &n, sizeof n);
        break;
    }
    case OP_WALK: {
        berth_stream walk;
        st = berth_fs_walk(&walk, im->fs, im->dirs[c->arg]);
        if (st == BERTH_OK) {
            while ((st = berth_stream_next(&doc, walk, -1)) == BERTH_OK) h = take_string(h, doc);
            if (st == BERTH_END) st = BERTH_OK; /* the walk's normal end */
            EXPECT_OK(berth_stream_close(walk));
        }
        break;
    }
    case OP_VICTIM_USE: {
        victim *v = &victims[c->victim];
        image_ctx *vim = &images[v->img];
        switch (v->kind) {
        case V_FS:
            if (c->offset % 2) {
                st = berth_fs_stat(&doc, v->fs, vim->all[c->offset % vim->nall]);
                h = take_string(h, doc);
            } else {
                /* A walk: a long use, which a close from another thread may meet. */
                berth_stream walk;
                st = berth_fs_walk(&walk, v->fs, vim->dirs[c->offset % vim->ndirs]);
                if (st == BERTH_OK) {
                    while ((st = berth_stream_next(&doc, walk, -1)) == BERTH_OK) h = take_string(h, doc);
                    if (st == BERTH_END) st = BERTH_OK;
                    EXPECT_OK(berth_stream_close(walk));
                }
            }
            break;
        case V_FILE: {
            /* 256 KiB of the image's biggest file: a long read (a gzip decode). */
            static __thread unsigned char buf[256 << 10];
            size_t n = 0;
            uint64_t size = vim->sizes[v->file];
            st = berth_file_read_at(&n, v->f, buf, sizeof buf, size ? c->offset % size : 0);
            h = fnv(h, buf, n);
            break;
        }
        default: st = berth_image_id(&doc, v->image); h = take_string(h, doc); break;
        }
        break;
    }
    case OP_VICTIM_CLOSE:
        if (!concurrent_run) break; /* the serial run closes nothing */
        {
            victim *v = &victims[c->victim];
            st = close_victim(v);
            if (st == BERTH_OK) {
                __atomic_add_fetch(&v->close_oks, 1, __ATOMIC_SEQ_CST);
                __atomic_store_n(&v->closed, 1, __ATOMIC_RELEASE);
            }
        }
        break;
    default: break;
    }
    return (result_t){st, fnv(h, &st, sizeof st)};
}

typedef struct {
    int t;
} worker_arg;

static void *worker(void *p) {
    int t = ((worker_arg *)p)->t;
    for (int i = 0; i < CALLS; i++) {
        const call_t *c = &calls[t][i];
        if (c->op == OP_VICTIM_USE)
            started_closed[t][i] = __atomic_load_n(&victims[c->victim].closed, __ATOMIC_ACQUIRE);
        concurrent[t][i] = run_call(c, 1);
        if (c->op == OP_VICTIM_USE)
            ended_closed[t][i] = __atomic_load_n(&victims[c->victim].closed, __ATOMIC_ACQUIRE);
    }
    return NULL;
}

/* ---- close races: one thread closes a handle just as another starts a call on it ------ */

#define PAIRS (THREADS / 2)
#define ROUNDS 50

typedef struct {
    int pair;
    int closer;
} race_arg;

static pthread_barrier_t race_start[PAIRS], race_end[PAIRS];
static berth_file race_file[PAIRS];
static berth_fs race_fs[PAIRS];
static result_t race_want_read[PAIRS][ROUNDS], race_want_walk[PAIRS][ROUNDS];
static unsigned long race_same, race_invalid, race_wrong;

static size_t race_img(int pair, int round) { return (size_t)(pair + round) % nimages; }
static uint64_t race_offset(int pair, int round) {
    image_ctx *im = &images[race_img(pair, round)];
    return im->shared_size ? (uint64_t)(pair * 7919 + round * 104729) % im->shared_size : 0;
}

/* What the user of a race does: a 1 MiB read_at of the image's biggest file, then a
 * walk of the whole image (the file and the filesystem both about to be closed). */
static result_t race_read(berth_file f, uint64_t offset) {
    static __thread unsigned char buf[1 << 20];
    size_t n = 0;
    berth_status st = berth_file_read_at(&n, f, buf, sizeof buf, offset);
    uint64_t h = fnv(FNV_START, buf, st == BERTH_OK ? n : 0);
    return (result_t){st, fnv(h, &st, sizeof st)};
}

static result_t race_walk(berth_fs fs) {
    berth_stream walk;
    char *doc;
    uint64_t h = FNV_START;
    berth_status st = berth_fs_walk(&walk, fs, "/");
    if (st == BERTH_OK) {
        while ((st = berth_stream_next(&doc, walk, -1)) == BERTH_OK) h = take_string(h, doc);
        if (st == BERTH_END) st = BERTH_OK;
        EXPECT_OK(berth_stream_close(walk));
    }
    return (result_t){st, fnv(h, &st, sizeof st)};
}

static void race_check(result_t got, result_t want) {
    unsigned long *counter = &race_wrong;
    if (got.status == want.status && got.hash == want.hash) counter = &race_same;
    else if (got.status == BERTH_ERR_INVALID_HANDLE) counter = &race_invalid;
    __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

static void *race_worker(void *p) {
    race_arg *a = p;
    for (int r = 0; r < ROUNDS; r++) {
        image_ctx *im = &images[race_img(a->pair, r)];
        if (!a->closer) {
            REQUIRE_OK(berth_fs_open(&race_file[a->pair], im->fs, im->files[im->biggest]));
            REQUIRE_OK(berth_image_filesystem(&race_fs[a->pair], im->image));
        }
        pthread_barrier_wait(&race_start[a->pair]);
        if (a->closer) {
            /* A varying head start for the reader (0 to 490 us), so that the closes
             * land before, at and after the start of its calls. */
            struct timespec ts = {0, (long)((a->pair * 31 + r * 17) % 50) * 10000L};
            nanosleep(&ts, NULL);
            EXPECT_OK(berth_file_close(race_file[a->pair]));
            EXPECT_OK(berth_fs_close(race_fs[a->pair]));
        } else {
            race_check(race_read(race_file[a->pair], race_offset(a->pair, r)), race_want_read[a->pair][r]);
            race_check(race_walk(race_fs[a->pair]), race_want_walk[a->pair][r]);
        }
        pthread_barrier_wait(&race_end[a->pair]);
        if (!a->closer) {
            /* Closed by the other thread: dead now, whatever the race's outcome. */
            EXPECT_STATUS(berth_file_close(race_file[a->pair]), BERTH_ERR_INVALID_HANDLE);
            EXPECT_STATUS(berth_fs_close(race_fs[a->pair]), BERTH_ERR_INVALID_HANDLE);
        }
    }
    return NULL;
}

static void close_races(void) {
    for (int p = 0; p < PAIRS; p++)
        for (int r = 0; r < ROUNDS; r++) {
            image_ctx *im = &images[race_img(p, r)];
            berth_file f;
            REQUIRE_OK(berth_fs_open(&f, im->fs, im->files[im->biggest]));
            race_want_read[p][r] = race_read(f, race_offset(p, r));
            REQUIRE_OK(berth_file_close(f));
            race_want_walk[p][r] = race_walk(im->fs);
            REQUIRE(race_want_read[p][r].status == BERTH_OK && race_want_walk[p][r].status == BERTH_OK);
        }
    pthread_t ids[THREADS];
    race_arg args[THREADS];
    for (int p = 0; p < PAIRS; p++) {
        REQUIRE(pthread_barrier_init(&race_start[p], NULL, 2) == 0);
        REQUIRE(pthread_barrier_init(&race_end[p], NULL, 2) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        args[t] = (race_arg){t / 2, t % 2};
        REQUIRE(pthread_create(&ids[t], NULL, race_worker, &args[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) REQUIRE(pthread_join(ids[t], NULL) == 0);
    for (int p = 0; p < PAIRS; p++) {
        pthread_barrier_destroy(&race_start[p]);
        pthread_barrier_destroy(&race_end[p]);
    }
    EXPECT(race_wrong == 0);
    printf("   close races (%d pairs x %d rounds, a read_at and a walk each): %lu identical to the serial result, "
           "%lu INVALID_HANDLE, %lu wrong\n",
           PAIRS, ROUNDS, race_same, race_invalid, race_wrong);
}

/* ---- descriptors and threads -------------------------------------------------------- */

static size_t count_dir(const char *path) {
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *e;
    REQUIRE(d != NULL);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - (strcmp(path, "/proc/self/fd") == 0 ? 1 : 0); /* opendir's own */
}

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the test ---------------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc < 3 || argc % 2 == 0 || (size_t)(argc - 1) / 2 > MAX_IMAGES) {
        fprintf(stderr, "usage: %s ENDPOINT PATTERN [ENDPOINT PATTERN]... (at most %d)\n", argv[0], MAX_IMAGES);
        return 2;
    }
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i + 1 < argc; i += 2) {
        images[nimages].endpoint = argv[i];
        images[nimages].pattern = argv[i + 1];
        open_image(&images[nimages++]);
    }
    /* The victims: per image, file handles (read_at), filesystems (stat) and images. */
    for (size_t img = 0; img < nimages; img++)
        for (int k = 0; k < VICTIMS_PER_IMAGE; k++) {
            victim *v = &victims[nvictims++];
            v->img = img;
            v->kind = k % 3 == 0 ? V_IMAGE : k % 3 == 1 ? V_FS : V_FILE;
            v->file = images[img].biggest;
        }
    for (int t = 0; t < THREADS; t++) make_calls(t);

    /* The serial run, on victims that stay open. */
    unsigned long serial_not_found = 0;
    open_victims();
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < CALLS; i++) {
            serial[t][i] = run_call(&calls[t][i], 0);
            /* Only a dangling symlink's stat may fail (the stress image has some: links
             * to whited-out files); anything else would make the comparison hollow. */
            if (serial[t][i].status == BERTH_ERR_NOT_FOUND &&
                (calls[t][i].op == OP_STAT || calls[t][i].op == OP_VICTIM_USE)) {
                serial_not_found++;
            } else if (serial[t][i].status != BERTH_OK) {
                fprintf(stderr, "serial call %d/%d (%s) failed: %s: %s\n", t, i, op_names[calls[t][i].op],
                        berth_status_string(serial[t][i].status), berth_last_error_message());
                check_failed(__FILE__, __LINE__, "every serial call succeeds", 0);
            }
        }
    for (size_t i = 0; i < nvictims; i++) EXPECT_OK(close_victim(&victims[i]));
    EXPECT(serial_not_found < THREADS * CALLS / 20);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    /* Counted with the shared handles open and the runtime warm. */
    size_t fds_before = count_dir("/proc/self/fd"), threads_before = count_dir("/proc/self/task");

    /* The same calls on 16 threads at once, on fresh victims. */
    open_victims();
    pthread_t threads[THREADS];
    worker_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t].t = t;
        REQUIRE(pthread_create(&threads[t], NULL, worker, &args[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) REQUIRE(pthread_join(threads[t], NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);

    /* Compare. */
    unsigned long per_op[OPS] = {0}, same = 0, invalid_while_open = 0, invalid_after_close = 0, mismatches = 0,
                  overlapped = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < CALLS; i++) {
            const call_t *c = &calls[t][i];
            result_t s = serial[t][i], r = concurrent[t][i];
            per_op[c->op]++;
            if (c->op == OP_VICTIM_CLOSE) {
                if (r.status != BERTH_OK && r.status != BERTH_ERR_INVALID_HANDLE) {
                    fprintf(stderr, "call %d/%d: closing victim %zu: %s\n", t, i, c->victim, berth_status_string(r.status));
                    mismatches++;
                }
                continue;
            }
            if (c->op == OP_VICTIM_USE && started_closed[t][i]) {
                if (r.status == BERTH_ERR_INVALID_HANDLE) {
                    invalid_after_close++;
                } else {
                    fprintf(stderr, "call %d/%d: victim %zu used after its close returned: %s, want INVALID_HANDLE\n", t,
                            i, c->victim, berth_status_string(r.status));
                    mismatches++;
                }
                continue;
            }
            if (c->op == OP_VICTIM_USE && ended_closed[t][i]) overlapped++; /* closed during the call */
            if (r.status == s.status && r.hash == s.hash) {
                same++;
            } else if (c->op == OP_VICTIM_USE && r.status == BERTH_ERR_INVALID_HANDLE) {
                invalid_while_open++; /* closed by another thread while this call ran */
            } else {
                fprintf(stderr, "call %d/%d (%s): %s (hash %016llx), serial %s (hash %016llx)\n", t, i, op_names[c->op],
                        berth_status_string(r.status), (unsigned long long)r.hash, berth_status_string(s.status),
                        (unsigned long long)s.hash);
                mismatches++;
            }
        }
    EXPECT(mismatches == 0);
    /* Of the closes of a victim, exactly one succeeded; the rest are closed now. */
    unsigned long closed_by_threads = 0;
    for (size_t i = 0; i < nvictims; i++) {
        victim *v = &victims[i];
        if (v->close_oks) {
            closed_by_threads++;
            EXPECT(v->close_oks == 1);
        } else {
            EXPECT_OK(close_victim(v));
        }
        EXPECT_STATUS(close_victim(v), BERTH_ERR_INVALID_HANDLE);
    }
    EXPECT(invalid_after_close > 0); /* the run did use handles after their close */
    close_races();

    /* Nothing left behind: the process's descriptors and threads are back (idle
     * blocking-pool threads may take a few seconds to end). */
    size_t fds_after = 0, threads_after = 0;
    for (int tries = 0; tries < 200; tries++) {
        fds_after = count_dir("/proc/self/fd");
        threads_after = count_dir("/proc/self/task");
        if (fds_after <= fds_before && threads_after <= threads_before) break;
        pause_ms(100);
    }
    EXPECT(fds_after <= fds_before);
    EXPECT(threads_after <= threads_before);

    double serial_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double concurrent_s = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
    printf("   %d threads x %d calls: %lu identical to the serial run, %lu uses of a victim closed during the call "
           "(%lu of them INVALID_HANDLE, the rest identical), %lu INVALID_HANDLE after a close, %lu mismatches; %lu of "
           "%zu victims closed by the threads\n",
           THREADS, CALLS, same, overlapped, invalid_while_open, invalid_after_close, mismatches, closed_by_threads,
           nvictims);
    printf("   calls:");
    for (int k = 0; k < OPS; k++) printf(" %s %lu%s", op_names[k], per_op[k], k + 1 < OPS ? "," : "\n");
    printf("   fds %zu -> %zu, threads %zu -> %zu; setup and serial run %.2f s, concurrent run %.2f s\n", fds_before,
           fds_after, threads_before, threads_after, serial_s, concurrent_s);
    for (size_t i = 0; i < nimages; i++) close_image(&images[i]);
    return check_summary("test_stress");
}
