/*
 * ls-image: list every file of an image, like `find` with sizes, through libberth.
 *
 *   make -C examples/c            # builds with `pkg-config --cflags --libs berth`
 *   ./ls-image oci-archive://sample/sample.oci.tar sample
 */
#include <berth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints berth's message for a failed call and exits. */
static void check(berth_status status, const char *what) {
    if (status != BERTH_OK) {
        fprintf(stderr, "ls-image: %s: %s: %s\n", what, berth_status_string(status),
                berth_last_error_message());
        exit(1);
    }
}

/* Pulls a string field out of one flat JSON object, enough for this example. */
static void field(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    out[0] = '\0';
    if (!p) return;
    p += strlen(pattern);
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && n + 1 < size; p++) out[n++] = *p;
    } else {
        for (; *p && *p != ',' && *p != '}' && n + 1 < size; p++) out[n++] = *p;
    }
    out[n] = '\0';
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ENDPOINT IMAGE\n", argv[0]);
        return 2;
    }
    berth_runtime rt;
    berth_image image;
    berth_fs fs;
    berth_stream walk;
    check(berth_runtime_open(&rt, argv[1], NULL), "open runtime");
    check(berth_runtime_open_image(&image, rt, argv[2]), "open image");
    check(berth_image_filesystem(&fs, image), "read layers");
    check(berth_fs_walk(&walk, fs, "/"), "walk");

    char *entry = NULL;
    berth_status status;
    while ((status = berth_stream_next(&entry, walk, -1)) == BERTH_OK) {
        char path[4096], type[16], size[32], link[4096];
        field(entry, "path", path, sizeof path);
        field(entry, "type", type, sizeof type);
        field(entry, "size", size, sizeof size);
        field(entry, "link", link, sizeof link);
        if (strcmp(type, "symlink") == 0)
            printf("%-8s %10s %s -> %s\n", type, size, path, link);
        else
            printf("%-8s %10s %s\n", type, size, path);
        berth_string_free(entry);
    }
    if (status != BERTH_END) check(status, "walk");

    /* Files and streams first, runtimes last (any order is safe; this one is tidy). */
    berth_stream_close(walk);
    berth_fs_close(fs);
    berth_image_close(image);
    berth_runtime_close(rt);
    return 0;
}
