/*
 * The C side of the ABI benchmark: the cost of a trivial handle call (berth_image_id)
 * and of reading a 1 MiB file through the ABI. Prints one "name median_ns" per line.
 * Usage: abi-bench ENDPOINT
 */
#define _POSIX_C_SOURCE 200809L
#include <berth.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return v[n / 2];
}

#define CHECK(call) do { berth_status s_ = (call); if (s_ != BERTH_OK) { \
    fprintf(stderr, "%s: %s: %s\n", #call, berth_status_string(s_), berth_last_error_message()); exit(1); } } while (0)

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s ENDPOINT\n", argv[0]); return 2; }
    berth_runtime rt; berth_image img; berth_fs fs;
    CHECK(berth_runtime_open(&rt, argv[1], NULL));
    CHECK(berth_runtime_open_image(&img, rt, "abi:bench"));
    CHECK(berth_image_filesystem(&fs, img));

    /* A trivial handle call: batches of 1000 calls, the median batch per call. */
    enum { BATCHES = 2001, PER = 1000 };
    static double per_call[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < PER; i++) {
            char *id;
            CHECK(berth_image_id(&id, img));
            berth_string_free(id);
        }
        per_call[b] = (now_ns() - t0) / PER;
    }
    printf("image_id_ns %.1f\n", median(per_call, BATCHES));

    /* Read /data/1mib.bin whole in 64 KiB chunks, open to close. */
    enum { READS = 201 };
    static double per_read[READS];
    static unsigned char buf[64 * 1024];
    for (int r = 0; r < READS; r++) {
        double t0 = now_ns();
        berth_file f;
        size_t n, total = 0;
        CHECK(berth_fs_open(&f, fs, "/data/1mib.bin"));
        do { CHECK(berth_file_read(&n, f, buf, sizeof buf)); total += n; } while (n > 0);
        berth_file_close(f);
        per_read[r] = now_ns() - t0;
        if (total != 1 << 20) { fprintf(stderr, "read %zu bytes\n", total); return 1; }
    }
    printf("read_1mib_ns %.0f\n", median(per_read, READS));

    berth_fs_close(fs);
    berth_image_close(img);
    berth_runtime_close(rt);
    return 0;
}
