/*
 * soak: open/read/close cycles through libberth for a given time, on a few threads,
 * with the process's resident memory sampled as it goes (bench/soak/soak.sh runs it).
 *
 *   soak SECONDS INTERVAL THREADS ENDPOINT PATTERN [ENDPOINT PATTERN]...
 *
 * One cycle, on one image: open the runtime, open the image, its filesystem, stat and
 * read_dir of a few paths, open three files and read them whole (one of them the
 * image's biggest, read at a few offsets), walk a directory, close everything in the
 * tidy order. Every INTERVAL seconds one line: "sample SECONDS RSS_KIB CYCLES". A
 * failed call ends the run (exit 1): a soak that starts failing is not flat, whatever
 * its memory does. The verdict on the curve is soak.sh's.
 */
#include <berth.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char **endpoints, **patterns;
static int nimages;
static volatile int stop;
static unsigned long cycles_done; /* atomically updated */

#define CHECK(call)                                                                                      \
    do {                                                                                                 \
        berth_status st_ = (call);                                                                       \
        if (st_ != BERTH_OK) {                                                                           \
            fprintf(stderr, "soak: %s: %s: %s\n", #call, berth_status_string(st_), berth_last_error_message()); \
            exit(1);                                                                                     \
        }                                                                                                \
    } while (0)

static void json_field(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    size_t n = 0;
    if (p)
        for (p += strlen(pattern); *p && *p != '"' && n + 1 < size; p++) out[n++] = *p;
    out[n] = '\0';
}

static void read_whole(berth_fs fs, const char *path, unsigned char *buf, size_t len) {
    berth_file f;
    size_t n;
    CHECK(berth_fs_open(&f, fs, path));
    do CHECK(berth_file_read(&n, f, buf, len));
    while (n > 0);
    CHECK(berth_file_close(f));
}

/* The image's paths, found once: the three files and the directory a cycle reads. */
typedef struct {
    char small[3][1024];
    char dir[1024];
    char biggest[1024];
    uint64_t biggest_size;
} plan_t;

static plan_t plans[8];

static void make_plan(int i) {
    berth_runtime rt;
    berth_image image;
    berth_fs fs;
    berth_stream walk;
    char *entry;
    int files = 0;
    CHECK(berth_runtime_open(&rt, endpoints[i], NULL));
    CHECK(berth_runtime_open_image(&image, rt, patterns[i]));
    CHECK(berth_image_filesystem(&fs, image));
    CHECK(berth_fs_walk(&walk, fs, "/"));
    while (berth_stream_next(&entry, walk, -1) == BERTH_OK) {
        char path[1024], type[16];
        const char *size_at = strstr(entry, "\"size\":");
        uint64_t size = size_at ? strtoull(size_at + 7, NULL, 10) : 0;
        json_field(entry, "path", path, sizeof path);
        json_field(entry, "type", type, sizeof type);
        if (strcmp(type, "file") == 0) {
            if (files < 3 && size < (1u << 20)) snprintf(plans[i].small[files++], 1024, "%s", path);
            if (size >= plans[i].biggest_size) {
                plans[i].biggest_size = size;
                snprintf(plans[i].biggest, 1024, "%s", path);
            }
        } else if (strcmp(type, "dir") == 0 && strcmp(path, "/") != 0 && !plans[i].dir[0]) {
            snprintf(plans[i].dir, 1024, "%s", path);
        }
        berth_string_free(entry);
    }
    CHECK(berth_stream_close(walk));
    while (files < 3) snprintf(plans[i].small[files++], 1024, "%s", plans[i].biggest);
    if (!plans[i].dir[0]) snprintf(plans[i].dir, 1024, "/");
    CHECK(berth_fs_close(fs));
    CHECK(berth_image_close(image));
    CHECK(berth_runtime_close(rt));
}

static void cycle(int i, unsigned char *buf, size_t len) {
    const plan_t *p = &plans[i];
    berth_runtime rt;
    berth_image image;
    berth_fs fs;
    berth_file big;
    berth_stream walk;
    char *doc;
    size_t n;
    CHECK(berth_runtime_open(&rt, endpoints[i], NULL));
    CHECK(berth_runtime_open_image(&image, rt, patterns[i]));
    CHECK(berth_image_filesystem(&fs, image));
    CHECK(berth_fs_stat(&doc, fs, p->small[0]));
    berth_string_free(doc);
    CHECK(berth_fs_read_dir(&doc, fs, p->dir));
    berth_string_free(doc);
    for (int k = 0; k < 3; k++) read_whole(fs, p->small[k], buf, len);
    CHECK(berth_fs_open(&big, fs, p->biggest));
    for (uint64_t off = 0; off < p->biggest_size; off += p->biggest_size / 4 + 1)
        CHECK(berth_file_read_at(&n, big, buf, len, off));
    CHECK(berth_file_close(big));
    CHECK(berth_fs_walk(&walk, fs, p->dir));
    while (berth_stream_next(&doc, walk, -1) == BERTH_OK) berth_string_free(doc);
    CHECK(berth_stream_close(walk));
    CHECK(berth_fs_close(fs));
    CHECK(berth_image_close(image));
    CHECK(berth_runtime_close(rt));
}

static void *worker(void *arg) {
    size_t t = (size_t)arg;
    unsigned char *buf = malloc(65536);
    if (!buf) exit(1);
    for (unsigned long k = t; !__atomic_load_n(&stop, __ATOMIC_RELAXED); k++) {
        cycle((int)(k % (unsigned long)nimages), buf, 65536);
        __atomic_add_fetch(&cycles_done, 1, __ATOMIC_RELAXED);
    }
    free(buf);
    return NULL;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 6 || (argc - 4) % 2 != 0 || (argc - 4) / 2 > 8) {
        fprintf(stderr, "usage: %s SECONDS INTERVAL THREADS ENDPOINT PATTERN [ENDPOINT PATTERN]...\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[1]), interval = atof(argv[2]);
    int threads = atoi(argv[3]);
    if (threads < 1 || threads > 64 || interval <= 0) return 2;
    nimages = (argc - 4) / 2;
    endpoints = malloc(sizeof *endpoints * (size_t)nimages);
    patterns = malloc(sizeof *patterns * (size_t)nimages);
    if (!endpoints || !patterns) return 1;
    for (int i = 0; i < nimages; i++) {
        endpoints[i] = argv[4 + 2 * i];
        patterns[i] = argv[5 + 2 * i];
        make_plan(i);
    }
    pthread_t *ids = malloc(sizeof *ids * (size_t)threads);
    if (!ids) return 1;
    double t0 = now();
    printf("sample 0 %ld 0\n", rss_kib());
    fflush(stdout);
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, worker, (void *)(size_t)t);
    for (double next = t0 + interval; next <= t0 + seconds + 1e-9; next += interval) {
        while (now() < next) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        printf("sample %.0f %ld %lu\n", next - t0, rss_kib(), __atomic_load_n(&cycles_done, __ATOMIC_RELAXED));
        fflush(stdout);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    printf("done %lu cycles\n", __atomic_load_n(&cycles_done, __ATOMIC_RELAXED));
    free(ids);
    free(endpoints);
    free(patterns);
    return 0;
}
