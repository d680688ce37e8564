/*
 * test_daemon: the container, exec, image, event, log, stats, pod and snapshot functions
 * of libberth against a real daemon of the test harness (tests/harness/README.md):
 * containerd, Docker or Podman, whichever the endpoint names.
 *
 *   test_daemon [ENDPOINT]
 *
 * ENDPOINT is containerd://SOCK?namespace=NS&runc_root=DIR, docker:///PATH/docker.sock or
 * podman:///PATH/podman.sock; without it, containerd://$BERTH_TEST_CONTAINERD?namespace=
 * $BERTH_TEST_NAMESPACE&runc_root=$BERTH_TEST_RUNC_ROOT. The image is $BERTH_TEST_IMAGE
 * (busybox), the pull and push tests use $BERTH_TEST_REGISTRY_IMAGE and
 * $BERTH_TEST_REGISTRY (a plain-HTTP registry), snapshots $BERTH_TEST_SNAPSHOTTER (NULL,
 * the runtime's default, when unset).
 *
 * The same behaviour is asked of every runtime; what only one has is tested where it
 * is (snapshots on containerd, pods on Podman) and must be NOT_SUPPORTED elsewhere
 * (logs, attach, stats, rename, export, commit, archive, push and pods on containerd;
 * pods on Docker). IDs differ: containerd's ID is the name, Docker's and Podman's are
 * hex, so events and finds are checked against berth_container_id.
 *
 * Every container is named ctest-PID-N, labelled berth.ctest=ctest-PID, and deleted;
 * everything opened is closed and every string freed: tests/c/run.sh runs this under
 * valgrind and AddressSanitizer.
 */
#include "check.h"

#include <berth.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Generous: under valgrind everything is 20 to 50 times slower. */
#define LONG_MS 120000

enum runtime_kind { RT_CONTAINERD, RT_DOCKER, RT_PODMAN };
static enum runtime_kind kind;
static const char *kind_name;

static berth_runtime rt;
static const char *image;
static char prefix[64];
static int counter;

/* ---- small helpers ------------------------------------------------------------- */

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A container name of this run: ctest-PID-N. */
static void unique(char *out, size_t size) {
    snprintf(out, size, "%s-%d", prefix, counter++);
}

/* Creates (not starts) a container of `img` (NULL: the test image); `extra` is more
 * JSON fields (with a leading comma) or "", `labels` more label members or "". Every
 * container carries the label berth.ctest=PREFIX, by which cleanup() finds them. */
static berth_container create_of(const char *img, char *name, size_t name_size, const char *args_json,
                                 const char *extra, const char *labels) {
    char options[2048];
    berth_container c = {0};
    unique(name, name_size);
    snprintf(options, sizeof options, "{\"image\":\"%s\",\"name\":\"%s\",\"args\":%s%s,\"labels\":{\"berth.ctest\":\"%s\"%s%s}}",
             img ? img : image, name, args_json, extra, prefix, *labels ? "," : "", labels);
    REQUIRE_OK(berth_runtime_create_container(&c, rt, options));
    REQUIRE(c.id != 0);
    return c;
}

static berth_container create(char *name, size_t name_size, const char *args_json, const char *extra) {
    return create_of(NULL, name, name_size, args_json, extra, "");
}

static berth_container run(char *name, size_t name_size, const char *args_json) {
    berth_container c = create(name, name_size, args_json, "");
    REQUIRE_OK(berth_container_start(c));
    return c;
}

/* The container's ID (its name on containerd, hex on Docker and Podman) into `out`. */
static void id_of(berth_container c, char *out, size_t size) {
    char *s = NULL;
    out[0] = '\0';
    if (EXPECT_OK(berth_container_id(&s, c))) {
        snprintf(out, size, "%s", s);
        berth_string_free(s);
    }
}

/* The container's state status ("running", "stopped", ...) into `out`. */
static void status_of(berth_container c, char *out, size_t size) {
    char *info = NULL;
    out[0] = '\0';
    if (EXPECT_OK(berth_container_inspect(&info, c))) {
        const char *state = strstr(info, "\"state\":");
        json_str(state, "status", out, size);
        berth_string_free(info);
    }
}

/* Deletes a stopped container and closes its handle. */
static void delete_and_close(berth_container c) {
    EXPECT_OK(berth_container_delete(c, false));
    EXPECT_OK(berth_container_close(c));
}

static int bytes_eq(berth_bytes b, const char *want) {
    size_t n = strlen(want);
    return b.len == n && (n == 0 ? b.data == NULL : memcmp(b.data, want, n) == 0);
}

/* The number after "key": in a JSON document (-1 if absent). */
static long long json_num(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = json ? strstr(json, pattern) : NULL;
    if (!p) return -1;
    p += strlen(pattern);
    if (*p < '0' || *p > '9') return -1;
    return strtoll(p, NULL, 10);
}

/* Appends `n` bytes to a NUL-terminated buffer of `size`, cutting what does not fit. */
static void append(char *buf, size_t size, const unsigned char *data, size_t n) {
    size_t have = strlen(buf);
    size_t take = n < size - 1 - have ? n : size - 1 - have;
    memcpy(buf + have, data, take);
    buf[have + take] = '\0';
}

/* Decodes standard base64 (with padding) into `out`; the decoded length, or -1. */
static long base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_size) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    if (in_len % 4 != 0) return -1;
    for (size_t i = 0; i < in_len; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char ch = in[i + j];
            const char *pos = ch ? strchr(alphabet, ch) : NULL;
            if (ch == '=' && i + 4 == in_len && j >= 2) {
                pad++;
                v <<= 6;
            } else if (pos && !pad) {
                v = v << 6 | (unsigned)(pos - alphabet);
            } else {
                return -1;
            }
        }
        for (int j = 0; j < 3 - pad; j++) {
            if (n >= out_size) return -1;
            out[n++] = (unsigned char)(v >> (16 - 8 * j));
        }
    }
    return (long)n;
}

/* Reads a whole host file (malloc'd; free it); NULL when it cannot. */
static unsigned char *read_host_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *data = malloc(cap);
    REQUIRE(data != NULL);
    size_t got;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap);
            REQUIRE(data != NULL);
        }
    }
    fclose(f);
    *len = n;
    return data;
}

/* Looks for `name` (no leading "./" or "/", no trailing "/") in a tar file: -2 if the
 * file cannot be read or is not a tar, -1 if the entry is not there, else the entry's
 * size, with up to `content_size - 1` bytes of its content NUL-terminated in `content`
 * (when not NULL). ustar names (prefix/name) and PAX `path` records are understood. */
static long tar_entry(const char *tar_path, const char *name, char *content, size_t content_size) {
    size_t len = 0;
    unsigned char *tar = read_host_file(tar_path, &len);
    if (!tar) return -2;
    long found = len >= 512 ? -1 : -2;
    char pax_path[1024] = "";
    for (size_t off = 0; off + 512 <= len; ) {
        const unsigned char *h = tar + off;
        if (h[0] == '\0') break; /* the end: two zero blocks */
        if (memcmp(h + 257, "ustar", 5) != 0) {
            found = -2;
            break;
        }
        char size_field[13];
        memcpy(size_field, h + 124, 12);
        size_field[12] = '\0';
        size_t size = (size_t)strtoull(size_field, NULL, 8);
        char full[1024];
        if (pax_path[0]) {
            snprintf(full, sizeof full, "%s", pax_path);
            pax_path[0] = '\0';
        } else if (h[345]) {
            snprintf(full, sizeof full, "%.155s/%.100s", (const char *)h + 345, (const char *)h);
        } else {
            snprintf(full, sizeof full, "%.100s", (const char *)h);
        }
        const unsigned char *data = h + 512;
        if (off + 512 + size > len) {
            found = -2;
            break;
        }
        if (h[156] == 'x') {
            /* PAX: "LEN path=VALUE\n" records. */
            for (size_t i = 0; i < size; ) {
                size_t rec = (size_t)strtoul((const char *)data + i, NULL, 10);
                if (rec == 0 || i + rec > size) break;
                const char *kv = memchr(data + i, ' ', rec);
                if (kv && strncmp(kv + 1, "path=", 5) == 0) {
                    size_t vlen = (size_t)((const char *)data + i + rec - 1 - (kv + 6));
                    if (vlen < sizeof pax_path) {
                        memcpy(pax_path, kv + 6, vlen);
                        pax_path[vlen] = '\0';
                    }
                }
                i += rec;
            }
        } else {
            const char *n = full;
            while (n[0] == '.' && n[1] == '/') n += 2;
            while (n[0] == '/') n++;
            size_t nl = strlen(n);
            while (nl > 0 && n[nl - 1] == '/') nl--;
            if (nl == strlen(name) && strncmp(n, name, nl) == 0) {
                found = (long)size;
                if (content && content_size > 0) {
                    size_t take = size < content_size - 1 ? size : content_size - 1;
                    memcpy(content, data, take);
                    content[take] = '\0';
                }
                break;
            }
        }
        off += 512 + (size + 511) / 512 * 512;
    }
    free(tar);
    return found;
}

/* A temporary directory of this run; rm_tree() takes it away. */
static void temp_dir(char *out, size_t size) {
    snprintf(out, size, "/tmp/berth-ctest-XXXXXX");
    REQUIRE(mkdtemp(out) != NULL);
}

/* Removes the files of a directory made by temp_dir (flat), then the directory. A file
 * other than `allowed` (NULL-terminated list) is reported: berth left it behind. */
static void rm_tree(const char *dir, const char *const *allowed) {
    DIR *d = opendir(dir);
    struct dirent *entry;
    while (d && (entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        int ok = 0;
        for (const char *const *a = allowed; a && *a; a++) ok |= strcmp(name, *a) == 0;
        if (!ok) {
            char what[800];
            snprintf(what, sizeof what, "%s/%s was left behind", dir, name);
            check_failed(__FILE__, __LINE__, what, 0);
        } else {
            check_passed();
        }
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        unlink(path);
    }
    if (d) closedir(d);
    EXPECT(rmdir(dir) == 0);
}

/* ---- run a container: a file, exit 3, its filesystem, events -------------------------- */

/* Event filters in the runtime's syntax: the exits of containers, and none at all. */
static const char *exit_filter(void) {
    return kind == RT_CONTAINERD ? "[\"topic==\\\"/tasks/exit\\\"\"]" : "[\"event=die\"]";
}
static const char *quiet_filter(void) {
    return kind == RT_CONTAINERD ? "[\"topic==\\\"/no/such/topic\\\"\"]" : "[\"container=no-such-container-anywhere\"]";
}

static void test_run_and_filesystem(void) {
    char name[128], id[128], st[32], *s = NULL;
    berth_stream events = {0};
    int32_t code = -1;

    /* The event stream first: it sees the task's exit. */
    REQUIRE_OK(berth_runtime_events(&events, rt, NULL));

    berth_container c = create(name, sizeof name,
                               "[\"/bin/sh\",\"-c\",\"echo written-inside > /result.txt; rm /bin/echo; exit 3\"]", "");
    id_of(c, id, sizeof id);
    if (kind == RT_CONTAINERD) EXPECT_STREQ(id, name);
    else EXPECT(strlen(id) == 64);
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "created");
    REQUIRE_OK(berth_container_start(c));
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 3);
    /* Waiting again gives the same exit at once. */
    code = -1;
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 3);
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "stopped");
    if (EXPECT_OK(berth_container_inspect(&s, c))) {
        EXPECT_CONTAINS(s, "\"exit_code\":3");
        /* containerd keeps the OCI spec; Docker and Podman have their own inspect. */
        EXPECT_CONTAINS(s, kind == RT_CONTAINERD ? "\"spec\":{" : "\"native\":{");
        EXPECT_CONTAINS(s, name);
        EXPECT_CONTAINS(s, id);
        EXPECT_CONTAINS(s, "\"berth.ctest\":");
        berth_string_free(s);
        s = NULL;
    }

    /* The container's rootfs: the image plus what it changed. */
    berth_fs fs = {0};
    if (EXPECT_OK(berth_container_filesystem(&fs, c))) {
        berth_bytes b = {NULL, 0};
        if (EXPECT_OK(berth_fs_read_file(&b, fs, "/result.txt", 0))) {
            EXPECT(bytes_eq(b, "written-inside\n"));
            berth_bytes_free(b);
        }
        EXPECT_STATUS(berth_fs_lstat(&s, fs, "/bin/echo"), BERTH_ERR_NOT_FOUND);
        if (EXPECT_OK(berth_fs_lstat(&s, fs, "/bin/busybox"))) {
            EXPECT_CONTAINS(s, "\"type\":\"file\"");
            berth_string_free(s);
            s = NULL;
        }
        EXPECT_OK(berth_fs_close(fs));
    }
    if (EXPECT_OK(berth_container_changes(&s, c))) {
        EXPECT_CONTAINS(s, "{\"path\":\"/result.txt\",\"kind\":\"added\"}");
        EXPECT_CONTAINS(s, "{\"path\":\"/bin/echo\",\"kind\":\"deleted\"}");
        berth_string_free(s);
        s = NULL;
    }

    /* Stopping a stopped container is a conflict. */
    EXPECT_STATUS(berth_container_stop(&code, c, 100), BERTH_ERR_CONFLICT);

    /* The events: this container's task-exit with code 3 comes within the timeout. */
    int seen_exit = 0, items = 0;
    char *ev = NULL;
    for (int i = 0; i < 200 && !seen_exit; i++) {
        berth_status r = berth_stream_next(&ev, events, 20000);
        if (!EXPECT_OK(r)) break;
        items++;
        char ev_kind[64], ev_id[128];
        json_str(ev, "kind", ev_kind, sizeof ev_kind);
        json_str(ev, "container_id", ev_id, sizeof ev_id);
        /* The runtime's own topic: "/tasks/exit" (containerd), "container/die" (Docker). */
        EXPECT_CONTAINS(ev, kind == RT_CONTAINERD ? "\"topic\":\"/" : "\"topic\":\"");
        if (strcmp(ev_kind, "task-exit") == 0 && strcmp(ev_id, id) == 0) {
            seen_exit = 1;
            EXPECT_CONTAINS(ev, "\"exit_code\":3");
        }
        berth_string_free(ev);
        ev = NULL;
    }
    EXPECT(seen_exit);

    EXPECT_OK(berth_container_delete(c, false));
    EXPECT_STATUS(berth_container_inspect(&s, c), BERTH_ERR_NOT_FOUND);
    EXPECT(s == NULL);
    EXPECT_OK(berth_container_close(c));
    EXPECT_STATUS(berth_container_close(c), BERTH_ERR_INVALID_HANDLE);

    /* When nothing happens, a short wait times out and the stream stays usable. Other
     * events of the delete may still be queued: read them first. */
    berth_status r = BERTH_OK;
    for (int i = 0; i < 100 && r == BERTH_OK; i++) {
        r = berth_stream_next(&ev, events, 300);
        if (r == BERTH_OK) {
            berth_string_free(ev);
            ev = NULL;
        }
    }
    EXPECT_STATUS(r, BERTH_ERR_TIMEOUT);
    EXPECT(ev == NULL);
    EXPECT_STATUS(berth_stream_next(&ev, events, 0), BERTH_ERR_TIMEOUT);
    /* Still usable: a new container's create event arrives. */
    berth_container c2 = create(name, sizeof name, "[\"/bin/true\"]", "");
    id_of(c2, id, sizeof id);
    int seen_create = 0;
    for (int i = 0; i < 20 && !seen_create; i++) {
        if (!EXPECT_OK(berth_stream_next(&ev, events, 20000))) break;
        seen_create = strstr(ev, "\"kind\":\"container-create\"") && strstr(ev, id);
        berth_string_free(ev);
        ev = NULL;
    }
    EXPECT(seen_create);
    delete_and_close(c2);
    EXPECT_OK(berth_stream_close(events));
    EXPECT_STATUS(berth_stream_next(&ev, events, 0), BERTH_ERR_INVALID_HANDLE);

    /* A filtered stream sees only its kind of event. */
    REQUIRE_OK(berth_runtime_events(&events, rt, exit_filter()));
    c2 = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"exit 4\"]");
    id_of(c2, id, sizeof id);
    if (EXPECT_STATUS(berth_stream_next(&ev, events, kind == RT_PODMAN ? 5000 : 20000), BERTH_OK)) {
        EXPECT_CONTAINS(ev, "\"kind\":\"task-exit\"");
        EXPECT_CONTAINS(ev, id);
        EXPECT_CONTAINS(ev, "\"exit_code\":4");
        berth_string_free(ev);
    }
    EXPECT_OK(berth_container_wait(&code, c2, LONG_MS));
    EXPECT(code == 4);
    delete_and_close(c2);
    EXPECT_OK(berth_stream_close(events));
    printf("run/filesystem/events: %d events read\n", items);
}

/* ---- exec: one-shot and streaming -------------------------------------------------- */

/* pids.max of the cgroup of the container's first process, read on the host (cgroup v1
 * or v2): the limit itself, 0 for "max", -1 when it cannot be read, -2 when this host
 * shows no pids controller for it. */
static long host_pids_max(berth_container c) {
    char *procs = NULL;
    if (!EXPECT_OK(berth_container_processes(&procs, c))) return -1;
    long long pid = json_num(procs, "host_pid");
    berth_string_free(procs);
    if (pid <= 0) return -1;
    char path[600], line[512], file[1200];
    snprintf(path, sizeof path, "/proc/%lld/cgroup", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long found = -2;
    while (found == -2 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        /* "N:pids:/path" (v1) or "0::/path" (v2) */
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *controllers = c1 + 1, *cg = c2 + 1;
        if (strcmp(controllers, "pids") == 0 || strstr(controllers, "pids,") || strstr(controllers, ",pids"))
            snprintf(file, sizeof file, "/sys/fs/cgroup/pids%s/pids.max", cg);
        else if (*controllers == '\0')
            snprintf(file, sizeof file, "/sys/fs/cgroup%s/pids.max", cg);
        else
            continue;
        FILE *m = fopen(file, "r");
        if (!m) continue;
        char value[64] = "";
        if (fgets(value, sizeof value, m)) found = strncmp(value, "max", 3) == 0 ? 0 : strtol(value, NULL, 10);
        fclose(m);
    }
    fclose(f);
    return found;
}

/* Reads a streaming exec (or attach) to its end: stdout and stderr appended to the
 * buffers, the exit code returned (-1000 when none came). */
static int drain_exec(berth_exec e, char *out, size_t out_size, char *err, size_t err_size) {
    berth_exec_event ev;
    berth_status r;
    int exit_code = -1000, exits = 0;
    out[0] = err[0] = '\0';
    while ((r = berth_exec_next(&ev, e, LONG_MS)) == BERTH_OK) {
        if (ev.kind == BERTH_EXEC_STDOUT || ev.kind == BERTH_EXEC_STDERR) {
            EXPECT(ev.data.len > 0 && ev.data.data != NULL);
            if (ev.kind == BERTH_EXEC_STDOUT) append(out, out_size, ev.data.data, ev.data.len);
            else append(err, err_size, ev.data.data, ev.data.len);
            EXPECT(exits == 0); /* all output comes before the exit */
        } else {
            EXPECT(ev.kind == BERTH_EXEC_EXIT);
            EXPECT(ev.data.data == NULL && ev.data.len == 0);
            exit_code = ev.exit_code;
            exits++;
        }
        berth_bytes_free(ev.data);
    }
    EXPECT_STATUS(r, BERTH_END);
    EXPECT(exits == 1);
    EXPECT(ev.kind == 0 && ev.data.data == NULL);
    /* The end stays the end. */
    EXPECT_STATUS(berth_exec_next(&ev, e, 0), BERTH_END);
    return exit_code;
}

static void test_exec(void) {
    char name[128], out[4096], err[4096], *s = NULL;
    berth_container c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
    berth_exec_output o;

    /* One-shot: cat with stdin. */
    static const char input[] = "from stdin\nline two\n";
    if (EXPECT_OK(berth_container_exec_output(&o, c, "{\"args\":[\"/bin/cat\"]}", (const uint8_t *)input,
                                              strlen(input), LONG_MS))) {
        EXPECT(o.exit_code == 0);
        EXPECT(bytes_eq(o.stdout_data, input));
        EXPECT(bytes_eq(o.stderr_data, ""));
        berth_exec_output_free(o);
    }
    /* stdout and stderr apart, a non-zero exit is no error; no stdin at all. */
    if (EXPECT_OK(berth_container_exec_output(
            &o, c, "{\"args\":[\"/bin/sh\",\"-c\",\"echo out; echo err >&2; exit 5\"],\"env\":[\"X=1\"]}", NULL, 0,
            LONG_MS))) {
        EXPECT(o.exit_code == 5);
        EXPECT(bytes_eq(o.stdout_data, "out\n"));
        EXPECT(bytes_eq(o.stderr_data, "err\n"));
        berth_exec_output_free(o);
    }
    /* An empty stdin (non-NULL, length 0): cat reads EOF at once. */
    if (EXPECT_OK(berth_container_exec_output(&o, c, "{\"args\":[\"/bin/cat\"]}", (const uint8_t *)"", 0, LONG_MS))) {
        EXPECT(o.exit_code == 0);
        EXPECT(o.stdout_data.len == 0 && o.stdout_data.data == NULL);
        berth_exec_output_free(o);
    }
    /* env, cwd and user reach the process. */
    if (EXPECT_OK(berth_container_exec_output(
            &o, c, "{\"args\":[\"/bin/sh\",\"-c\",\"echo $X $(pwd) $(id -u)\"],\"env\":[\"X=hello\"],\"cwd\":\"/tmp\",\"user\":\"1000:1000\"}",
            NULL, 0, LONG_MS))) {
        EXPECT(o.exit_code == 0);
        EXPECT(bytes_eq(o.stdout_data, "hello /tmp 1000\n"));
        berth_exec_output_free(o);
    }
    /* Too slow: killed, TIMEOUT, nothing to free. */
    o.exit_code = 99;
    EXPECT_STATUS(berth_container_exec_output(&o, c, "{\"args\":[\"/bin/sleep\",\"60\"]}", NULL, 0, 500), BERTH_ERR_TIMEOUT);
    EXPECT(o.exit_code == 0 && o.stdout_data.data == NULL && o.stderr_data.data == NULL);
    /* A program that does not exist. */
    berth_status missing = berth_container_exec_output(&o, c, "{\"args\":[\"/no/such/program\"]}", NULL, 0, LONG_MS);
    if (missing == BERTH_OK) {
        EXPECT(o.exit_code != 0);
        berth_exec_output_free(o);
    } else {
        /* containerd says "unknown" (INTERNAL) today; NOT_FOUND would be better. */
        EXPECT(missing != BERTH_ERR_PANIC);
        EXPECT(o.stdout_data.data == NULL && o.stderr_data.data == NULL);
    }

    /* Streaming: stdin written in two parts then closed; stdout, stderr, exit 7. */
    berth_exec e = {0};
    REQUIRE_OK(berth_container_exec(&e, c, "{\"args\":[\"/bin/sh\",\"-c\",\"cat; echo err >&2; exit 7\"],\"stdin\":true}"));
    REQUIRE(e.id != 0);
    EXPECT_OK(berth_exec_write_stdin(e, (const uint8_t *)"hello ", 6));
    EXPECT_OK(berth_exec_write_stdin(e, (const uint8_t *)"world\n", 6));
    EXPECT_OK(berth_exec_write_stdin(e, NULL, 0));
    EXPECT_OK(berth_exec_close_stdin(e));
    EXPECT_STATUS(berth_exec_write_stdin(e, (const uint8_t *)"late", 4), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_exec_resize(e, 80, 24), BERTH_ERR_INVALID_ARGUMENT); /* no tty */
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 7);
    EXPECT_STREQ(out, "hello world\n");
    EXPECT_STREQ(err, "err\n");
    EXPECT_OK(berth_exec_close(e));
    EXPECT_STATUS(berth_exec_close(e), BERTH_ERR_INVALID_HANDLE);

    /* Streaming with an empty stdin: EOF at once. */
    REQUIRE_OK(berth_container_exec(&e, c, "{\"args\":[\"/bin/cat\"],\"stdin\":true}"));
    EXPECT_OK(berth_exec_close_stdin(e));
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 0);
    EXPECT_STREQ(out, "");
    EXPECT_OK(berth_exec_close(e));

    /* Without "stdin": writing is refused. */
    REQUIRE_OK(berth_container_exec(&e, c, "{\"args\":[\"/bin/sh\",\"-c\",\"echo no-stdin\"]}"));
    EXPECT_STATUS(berth_exec_write_stdin(e, (const uint8_t *)"x", 1), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 0);
    EXPECT_STREQ(out, "no-stdin\n");
    EXPECT_OK(berth_exec_close(e));

    /* Nothing within the timeout: TIMEOUT, and the exec is still usable; a kill ends it. */
    REQUIRE_OK(berth_container_exec(&e, c, "{\"args\":[\"/bin/sleep\",\"600\"]}"));
    berth_exec_event ev;
    EXPECT_STATUS(berth_exec_next(&ev, e, 200), BERTH_ERR_TIMEOUT);
    EXPECT(ev.kind == 0 && ev.data.data == NULL);
    EXPECT_STATUS(berth_exec_next(&ev, e, 0), BERTH_ERR_TIMEOUT);
    EXPECT_STATUS(berth_exec_kill(e, 0), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_OK(berth_exec_kill(e, 9));
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 137);
    EXPECT_OK(berth_exec_close(e));

    /* A tty: output is stdout only; resize reaches it. */
    REQUIRE_OK(berth_container_exec(&e, c, "{\"args\":[\"/bin/sh\",\"-c\",\"sleep 1; stty size; echo e >&2\"],\"tty\":true}"));
    EXPECT_OK(berth_exec_resize(e, 100, 40));
    EXPECT_STATUS(berth_exec_resize(e, 0, 40), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 0);
    EXPECT_CONTAINS(out, "40 100");
    EXPECT_CONTAINS(out, "e");
    EXPECT_STREQ(err, "");
    EXPECT_OK(berth_exec_close(e));

    /* Closing an exec while its process runs: the handle goes, nothing leaks. */
    REQUIRE_OK(berth_container_exec(&e, c, "{\"args\":[\"/bin/sleep\",\"2\"]}"));
    EXPECT_OK(berth_exec_close(e));
    EXPECT_STATUS(berth_exec_next(&ev, e, 0), BERTH_ERR_INVALID_HANDLE);

    /* The processes: sleep 600 is pid 1. */
    if (EXPECT_OK(berth_container_processes(&s, c))) {
        EXPECT_CONTAINS(s, "\"pid\":1,");
        EXPECT_CONTAINS(s, "\"cmdline\":[\"/bin/sleep\",\"600\"]");
        berth_string_free(s);
        s = NULL;
    }
    /* Resources of a running container. */
    EXPECT_OK(berth_container_update_resources(c, "{\"pids_limit\":200}"));
    long pids_max = host_pids_max(c);
    if (pids_max != -2) EXPECT(pids_max == 200); /* -2: no pids controller found on this host */
    printf("update_resources: pids.max on the host %ld\n", pids_max);
    EXPECT_OK(berth_container_update_resources(c, "{}"));
    if (pids_max != -2) EXPECT(host_pids_max(c) == 200); /* {} changes nothing */
    EXPECT_STATUS(berth_container_update_resources(c, "{\"pids\":200}"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_container_update_resources(c, "[]"), BERTH_ERR_INVALID_ARGUMENT);

    /* Pause and resume. */
    char st[32];
    EXPECT_OK(berth_container_pause(c));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "paused");
    EXPECT_OK(berth_container_resume(c));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");

    /* Delete needs force while it runs; a conflict changes nothing. */
    EXPECT_STATUS(berth_container_delete(c, false), BERTH_ERR_CONFLICT);
    EXPECT_CONTAINS(berth_last_error_message(), "running");
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");

    /* Kill: SIGKILL, exit 137. */
    int32_t code = -1;
    EXPECT_STATUS(berth_container_kill(c, 65), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_OK(berth_container_kill(c, 9));
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 137);
    EXPECT_OK(berth_container_delete(c, false));
    EXPECT_OK(berth_container_close(c));
}

/* ---- stop, wait timeout, forced delete ------------------------------------------------ */

static void test_stop_and_delete(void) {
    char name[128], st[32], *s = NULL;
    int32_t code = -1;

    /* A container that ignores SIGTERM: stop kills it after the grace period. */
    berth_container c = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"trap '' TERM; while :; do sleep 1; done\"]");
    EXPECT_STATUS(berth_container_wait(&code, c, 300), BERTH_ERR_TIMEOUT);
    EXPECT(code == -1);
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    EXPECT_OK(berth_container_stop(&code, c, 1000));
    EXPECT(code == 137);
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "stopped");
    EXPECT_OK(berth_container_delete(c, false));
    EXPECT_OK(berth_container_close(c));

    /* One that honours SIGTERM exits with its own code. */
    c = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"trap 'exit 42' TERM; while :; do sleep 0.1; done\"]");
    sleep_ms(500); /* let the trap be set */
    EXPECT_OK(berth_container_stop(&code, c, 60000));
    EXPECT(code == 42);
    EXPECT_OK(berth_container_delete(c, false));
    EXPECT_OK(berth_container_close(c));

    /* Forced delete of a running container. */
    c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
    EXPECT_STATUS(berth_container_delete(c, false), BERTH_ERR_CONFLICT);
    EXPECT_OK(berth_container_delete(c, true));
    EXPECT_STATUS(berth_container_inspect(&s, c), BERTH_ERR_NOT_FOUND);
    EXPECT_OK(berth_container_close(c));
    berth_container gone = {0};
    EXPECT_STATUS(berth_runtime_open_container(&gone, rt, name), BERTH_ERR_NOT_FOUND);
    EXPECT(gone.id == 0);
}


/* ---- list, find, open ---------------------------------------------------------------- */

static void test_list_and_find(void) {
    char name[128], id[128], label[160], labels[300], filter[320], *s = NULL;
    snprintf(label, sizeof label, "%s-label", prefix);
    snprintf(labels, sizeof labels, "\"berth.test\":\"%s\"", label);
    berth_container c = create_of(NULL, name, sizeof name, "[\"/bin/true\"]", "", labels);
    id_of(c, id, sizeof id);
    char other_name[128], other_id[128];
    berth_container other = create(other_name, sizeof other_name, "[\"/bin/true\"]", "");
    id_of(other, other_id, sizeof other_id);

    if (EXPECT_OK(berth_runtime_list_containers(&s, rt, NULL))) {
        EXPECT_CONTAINS(s, name);
        EXPECT_CONTAINS(s, other_name);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_list_containers(&s, rt, "[]"))) {
        EXPECT_CONTAINS(s, name);
        berth_string_free(s);
    }
    /* containerd's label filter syntax works everywhere. */
    snprintf(filter, sizeof filter, "[\"labels.\\\"berth.test\\\"==%s\"]", label);
    if (EXPECT_OK(berth_runtime_list_containers(&s, rt, filter))) {
        EXPECT_CONTAINS(s, name);
        EXPECT(strstr(s, other_name) == NULL);
        EXPECT_CONTAINS(s, "\"berth.test\":");
        EXPECT_CONTAINS(s, "\"status\":\"created\"");
        berth_string_free(s);
    }
    EXPECT_STATUS(berth_runtime_list_containers(&s, rt, "{\"labels\":1}"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_runtime_list_containers(&s, rt, "[1]"), BERTH_ERR_INVALID_ARGUMENT);

    if (EXPECT_OK(berth_runtime_find_containers(&s, rt, name))) {
        EXPECT_CONTAINS(s, name);
        EXPECT(strstr(s, other_name) == NULL);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_find_containers(&s, rt, "no-such-container-anywhere"))) {
        EXPECT_STREQ(s, "[]");
        berth_string_free(s);
    }
    berth_container o = {0};
    if (kind == RT_CONTAINERD) {
        /* An ID prefix that both share (the ID is the name) is ambiguous for open, fine
         * for find. */
        if (EXPECT_OK(berth_runtime_find_containers(&s, rt, prefix))) {
            EXPECT_CONTAINS(s, name);
            EXPECT_CONTAINS(s, other_name);
            berth_string_free(s);
        }
        EXPECT_STATUS(berth_runtime_open_container(&o, rt, prefix), BERTH_ERR_AMBIGUOUS);
        EXPECT_CONTAINS(berth_last_error_message(), name);
        EXPECT(o.id == 0);
    } else {
        /* A name is no ID prefix; the first 12 hex digits of the ID are. */
        if (EXPECT_OK(berth_runtime_find_containers(&s, rt, prefix))) {
            EXPECT_STREQ(s, "[]");
            berth_string_free(s);
        }
        char short_id[16];
        snprintf(short_id, sizeof short_id, "%.12s", other_id);
        if (EXPECT_OK(berth_runtime_find_containers(&s, rt, short_id))) {
            EXPECT_CONTAINS(s, other_name);
            EXPECT(strstr(s, name) == NULL || strstr(name, other_name) != NULL);
            berth_string_free(s);
        }
        if (EXPECT_OK(berth_runtime_open_container(&o, rt, short_id))) {
            char got[128];
            id_of(o, got, sizeof got);
            EXPECT_STREQ(got, other_id);
            EXPECT_OK(berth_container_close(o));
            o.id = 0;
        }
    }
    EXPECT_STATUS(berth_runtime_open_container(&o, rt, "no-such-container-anywhere"), BERTH_ERR_NOT_FOUND);
    if (EXPECT_OK(berth_runtime_open_container(&o, rt, name))) {
        EXPECT(o.id != c.id);
        if (EXPECT_OK(berth_container_id(&s, o))) {
            EXPECT_STREQ(s, id);
            berth_string_free(s);
        }
        /* Two handles, one container: deleting through one shows through the other. */
        EXPECT_OK(berth_container_delete(o, false));
        EXPECT_STATUS(berth_container_inspect(&s, c), BERTH_ERR_NOT_FOUND);
        EXPECT_OK(berth_container_close(o));
    }
    delete_and_close(other);
    EXPECT_OK(berth_container_close(c));

    /* Create errors. */
    berth_container bad = {0};
    EXPECT_STATUS(berth_runtime_create_container(&bad, rt, "{\"image\":\"no-such-image:nowhere\"}"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_runtime_create_container(&bad, rt, "{\"args\":[\"/bin/true\"]}"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(berth_runtime_create_container(&bad, rt, "{\"image\":\"x\",\"bogus\":1}"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(bad.id == 0);
    /* A name that is taken. */
    c = create(name, sizeof name, "[\"/bin/true\"]", "");
    char dup[512];
    snprintf(dup, sizeof dup, "{\"image\":\"%s\",\"name\":\"%s\"}", image, name);
    EXPECT_STATUS(berth_runtime_create_container(&bad, rt, dup), BERTH_ERR_ALREADY_EXISTS);
    EXPECT(bad.id == 0);
    delete_and_close(c);
}

/* ---- images: pull, push, tag, remove, export, import ---------------------------------- */

/* Reads a pull or push stream to its end: the number of progress items; `complete`
 * set when the last item was {"status":"complete",...}, which is then checked for
 * `want` (NULL: not checked). The status that ended the stream is returned. */
static berth_status drain_progress(berth_stream p, int *progress, int *complete, const char *want) {
    char *item = NULL;
    berth_status r;
    *progress = *complete = 0;
    while ((r = berth_stream_next(&item, p, LONG_MS)) == BERTH_OK) {
        EXPECT(!*complete); /* "complete" is the last item */
        char status[64];
        json_str(item, "status", status, sizeof status);
        if (strcmp(status, "complete") == 0) {
            *complete = 1;
            if (want) EXPECT_CONTAINS(item, want);
        } else {
            (*progress)++;
            EXPECT_CONTAINS(item, "\"digest\":\"");
            EXPECT_CONTAINS(item, "\"total\":");
            /* containerd names blobs by digest, Docker by short layer ID. */
            if (kind == RT_CONTAINERD) EXPECT_CONTAINS(item, "\"digest\":\"sha256:");
        }
        berth_string_free(item);
        item = NULL;
    }
    EXPECT(item == NULL);
    return r;
}

static void test_images(void) {
    const char *pulled = getenv("BERTH_TEST_REGISTRY_IMAGE");
    const char *registry = getenv("BERTH_TEST_REGISTRY");
    char *s = NULL, *item = NULL;
    berth_stream p = {0};
    int progress = 0, complete = 0;
    if (!EXPECT(pulled != NULL && *pulled && registry != NULL && *registry)) return;

    REQUIRE_OK(berth_runtime_pull(&p, rt, pulled, "{\"plain_http\":true}"));
    EXPECT_STATUS(drain_progress(p, &progress, &complete, "\"image\":{"), BERTH_END);
    EXPECT(complete);
    /* Podman's own pull (plain HTTP) says only which blobs it copied; containerd reports
     * every blob, also those it has. Docker says nothing of layers when it has the image
     * (the registry's image is the test image under another name). */
    if (kind != RT_DOCKER) EXPECT(progress > 0);
    EXPECT_OK(berth_stream_close(p));
    printf("pull: %d progress items, then complete\n", progress);

    if (EXPECT_OK(berth_runtime_find_images(&s, rt, pulled))) {
        EXPECT_CONTAINS(s, pulled);
        EXPECT_CONTAINS(s, "\"id\":\"sha256:");
        berth_string_free(s);
    }
    /* Its files are readable. */
    berth_image img = {0};
    if (EXPECT_OK(berth_runtime_open_image(&img, rt, pulled))) {
        berth_fs fs = {0};
        if (EXPECT_OK(berth_image_filesystem(&fs, img))) {
            if (EXPECT_OK(berth_fs_stat(&s, fs, "/bin/sh"))) berth_string_free(s);
            EXPECT_OK(berth_fs_close(fs));
        }
        EXPECT_OK(berth_image_close(img));
    }

    /* A failing pull reports its error through the stream, once, then the end. */
    char missing[512];
    snprintf(missing, sizeof missing, "%s-no-such-tag", pulled);
    REQUIRE_OK(berth_runtime_pull(&p, rt, missing, "{\"plain_http\":true}"));
    EXPECT_STATUS(drain_progress(p, &progress, &complete, NULL), BERTH_ERR_NOT_FOUND);
    EXPECT(!complete);
    EXPECT_STATUS(berth_stream_next(&item, p, LONG_MS), BERTH_END);
    EXPECT_OK(berth_stream_close(p));

    /* Closing a pull at once cancels it: no crash, no leak. */
    REQUIRE_OK(berth_runtime_pull(&p, rt, pulled, "{\"plain_http\":true}"));
    EXPECT_OK(berth_stream_close(p));
    EXPECT_STATUS(berth_stream_next(&item, p, 0), BERTH_ERR_INVALID_HANDLE);

    /* Tag, find, remove the tag; the image stays. */
    char tag[256];
    snprintf(tag, sizeof tag, "example.com/%s-tag:v2", prefix);
    EXPECT_OK(berth_runtime_tag_image(rt, pulled, tag));
    if (EXPECT_OK(berth_runtime_find_images(&s, rt, tag))) {
        EXPECT_CONTAINS(s, tag);
        EXPECT_CONTAINS(s, pulled);
        berth_string_free(s);
    }
    EXPECT_OK(berth_runtime_remove_image(rt, tag));
    if (EXPECT_OK(berth_runtime_find_images(&s, rt, tag))) {
        EXPECT_STREQ(s, "[]");
        berth_string_free(s);
    }
    EXPECT_STATUS(berth_runtime_remove_image(rt, tag), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_runtime_tag_image(rt, "no-such-image:nowhere", tag), BERTH_ERR_NOT_FOUND);

    /* Push: a new name in the registry, pushed, removed here, pulled back. containerd
     * cannot push: its stream says NOT_SUPPORTED. */
    char pushed[300];
    snprintf(pushed, sizeof pushed, "%s/berth/%s-push:v1", registry, prefix);
    if (kind == RT_CONTAINERD) {
        REQUIRE_OK(berth_runtime_push(&p, rt, pulled, "{\"plain_http\":true}"));
        EXPECT_STATUS(berth_stream_next(&item, p, LONG_MS), BERTH_ERR_NOT_SUPPORTED);
        EXPECT_CONTAINS(berth_last_error_message(), "containerd");
        EXPECT(item == NULL);
        EXPECT_STATUS(berth_stream_next(&item, p, LONG_MS), BERTH_END);
        EXPECT_OK(berth_stream_close(p));
    } else {
        EXPECT_OK(berth_runtime_tag_image(rt, pulled, pushed));
        REQUIRE_OK(berth_runtime_push(&p, rt, pushed, "{\"plain_http\":true}"));
        char want[400];
        snprintf(want, sizeof want, "\"reference\":\"%s\"", pushed);
        EXPECT_STATUS(drain_progress(p, &progress, &complete, want), BERTH_END);
        EXPECT(complete);
        EXPECT_OK(berth_stream_close(p));
        printf("push: %d progress items, then complete\n", progress);
        EXPECT_OK(berth_runtime_remove_image(rt, pushed));
        REQUIRE_OK(berth_runtime_pull(&p, rt, pushed, "{\"plain_http\":true}"));
        EXPECT_STATUS(drain_progress(p, &progress, &complete, pushed), BERTH_END);
        EXPECT(complete);
        EXPECT_OK(berth_stream_close(p));
        EXPECT_OK(berth_runtime_remove_image(rt, pushed));
        /* A name the runtime does not have: the stream's error. */
        snprintf(pushed, sizeof pushed, "%s/berth/%s-never-tagged:v1", registry, prefix);
        REQUIRE_OK(berth_runtime_push(&p, rt, pushed, "{\"plain_http\":true}"));
        EXPECT_STATUS(drain_progress(p, &progress, &complete, NULL), BERTH_ERR_NOT_FOUND);
        EXPECT(!complete);
        EXPECT_OK(berth_stream_close(p));
    }

    /* Export the pulled image, remove it, import it back. */
    char dir[64], path[600];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/export.tar", dir);
    char patterns[600];
    snprintf(patterns, sizeof patterns, "[\"%s\"]", pulled);
    EXPECT_OK(berth_runtime_export_images(rt, patterns, path));
    EXPECT(access(path, R_OK) == 0);
    EXPECT_OK(berth_runtime_remove_image(rt, pulled));
    if (EXPECT_OK(berth_runtime_find_images(&s, rt, pulled))) {
        EXPECT_STREQ(s, "[]");
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_import_images(&s, rt, path))) {
        EXPECT_CONTAINS(s, pulled);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_find_images(&s, rt, pulled))) {
        EXPECT_CONTAINS(s, pulled);
        berth_string_free(s);
    }
    EXPECT_OK(berth_runtime_remove_image(rt, pulled));
    char missing_path[700];
    snprintf(missing_path, sizeof missing_path, "%s/missing.tar", dir);
    EXPECT_STATUS(berth_runtime_import_images(&s, rt, missing_path), BERTH_ERR_NOT_FOUND);
    static const char *const exported[] = {"export.tar", NULL};
    rm_tree(dir, exported);
}

/* ---- snapshots ----------------------------------------------------------------------- */

static void test_snapshots(void) {
    const char *snapshotter = getenv("BERTH_TEST_SNAPSHOTTER");
    char key[128], committed[128], view[128], *s = NULL;
    snprintf(key, sizeof key, "%s-active", prefix);
    snprintf(committed, sizeof committed, "%s-committed", prefix);
    snprintf(view, sizeof view, "%s-view", prefix);

    if (EXPECT_OK(berth_runtime_snapshots_prepare(&s, rt, snapshotter, key, NULL))) {
        EXPECT(s[0] == '[');
        EXPECT_CONTAINS(s, "\"type\":\"");
        EXPECT_CONTAINS(s, "\"source\":\"");
        berth_string_free(s);
    }
    EXPECT_STATUS(berth_runtime_snapshots_prepare(&s, rt, snapshotter, key, NULL), BERTH_ERR_ALREADY_EXISTS);
    if (EXPECT_OK(berth_runtime_snapshots_mounts(&s, rt, snapshotter, key))) {
        EXPECT_CONTAINS(s, "\"options\":[");
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_snapshots_stat(&s, rt, snapshotter, key))) {
        EXPECT_CONTAINS(s, "\"kind\":\"active\"");
        EXPECT_CONTAINS(s, key);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_snapshots_usage(&s, rt, snapshotter, key))) {
        EXPECT_CONTAINS(s, "\"size\":");
        EXPECT_CONTAINS(s, "\"inodes\":");
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_snapshots_list(&s, rt, snapshotter))) {
        EXPECT_CONTAINS(s, key);
        berth_string_free(s);
    }
    /* The default snapshotter ("" like NULL) is the harness's. */
    if (EXPECT_OK(berth_runtime_snapshots_list(&s, rt, ""))) {
        EXPECT_CONTAINS(s, key);
        berth_string_free(s);
    }
    EXPECT_OK(berth_runtime_snapshots_commit(rt, snapshotter, committed, key));
    EXPECT_STATUS(berth_runtime_snapshots_stat(&s, rt, snapshotter, key), BERTH_ERR_NOT_FOUND);
    if (EXPECT_OK(berth_runtime_snapshots_stat(&s, rt, snapshotter, committed))) {
        EXPECT_CONTAINS(s, "\"kind\":\"committed\"");
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_snapshots_view(&s, rt, snapshotter, view, committed))) {
        EXPECT(s[0] == '[');
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_snapshots_stat(&s, rt, snapshotter, view))) {
        EXPECT_CONTAINS(s, "\"kind\":\"view\"");
        EXPECT_CONTAINS(s, committed);
        berth_string_free(s);
    }
    /* A parent with a child cannot go first. */
    EXPECT_STATUS(berth_runtime_snapshots_remove(rt, snapshotter, committed), BERTH_ERR_CONFLICT);
    EXPECT_OK(berth_runtime_snapshots_remove(rt, snapshotter, view));
    EXPECT_OK(berth_runtime_snapshots_remove(rt, snapshotter, committed));
    EXPECT_STATUS(berth_runtime_snapshots_remove(rt, snapshotter, committed), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_runtime_snapshots_prepare(&s, rt, snapshotter, key, "no-such-parent"), BERTH_ERR_NOT_FOUND);
    s = NULL;
    berth_status st = berth_runtime_snapshots_list(&s, rt, "no-such-snapshotter");
    EXPECT(st == BERTH_ERR_NOT_FOUND || st == BERTH_ERR_INVALID_ARGUMENT); /* containerd: "not loaded: invalid argument" */
    EXPECT(s == NULL);
}


/* ---- logs: stdout and stderr apart, options, follow ------------------------------------ */

/* Reads a log stream to its end: stdout and stderr decoded into the buffers, the number
 * of items returned; the status that ended it in `*end`. */
static int drain_logs(berth_stream logs, char *out, size_t out_size, char *err, size_t err_size, berth_status *end) {
    char *item = NULL;
    int items = 0;
    out[0] = err[0] = '\0';
    while ((*end = berth_stream_next(&item, logs, LONG_MS)) == BERTH_OK) {
        char which[16], data[8192];
        unsigned char bytes[6144];
        items++;
        json_str(item, "stream", which, sizeof which);
        json_str(item, "data_base64", data, sizeof data);
        EXPECT(strcmp(which, "stdout") == 0 || strcmp(which, "stderr") == 0);
        long n = base64_decode(data, strlen(data), bytes, sizeof bytes);
        if (!EXPECT(n > 0)) fprintf(stderr, "    (log item: %s)\n", item);
        if (n > 0) {
            if (strcmp(which, "stderr") == 0) append(err, err_size, bytes, (size_t)n);
            else append(out, out_size, bytes, (size_t)n);
        }
        berth_string_free(item);
        item = NULL;
    }
    EXPECT(item == NULL);
    return items;
}

/* The number of lines in a text. */
static int lines_of(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_logs(void) {
    char name[128], out[4096], err[4096];
    berth_stream logs = {0};
    berth_status end;
    int32_t code = -1;

    berth_container c = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"echo out1; echo err1 >&2; echo out2; echo err2 >&2\"]");
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 0);

    /* All of it, the streams apart (NULL, "" and {} are the defaults). */
    static const char *defaults[] = {NULL, "", "{}", "{\"stdout\":true,\"stderr\":true}"};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        REQUIRE_OK(berth_container_logs(&logs, c, defaults[i]));
        int items = drain_logs(logs, out, sizeof out, err, sizeof err, &end);
        EXPECT_STATUS(end, BERTH_END);
        EXPECT(items >= 2);
        EXPECT_STREQ(out, "out1\nout2\n");
        EXPECT_STREQ(err, "err1\nerr2\n");
        /* The end stays the end. */
        char *item = NULL;
        EXPECT_STATUS(berth_stream_next(&item, logs, 0), BERTH_END);
        EXPECT(item == NULL);
        EXPECT_OK(berth_stream_close(logs));
    }
    /* One stream only. */
    REQUIRE_OK(berth_container_logs(&logs, c, "{\"stderr\":false}"));
    drain_logs(logs, out, sizeof out, err, sizeof err, &end);
    EXPECT_STATUS(end, BERTH_END);
    EXPECT_STREQ(out, "out1\nout2\n");
    EXPECT_STREQ(err, "");
    EXPECT_OK(berth_stream_close(logs));
    REQUIRE_OK(berth_container_logs(&logs, c, "{\"stdout\":false}"));
    drain_logs(logs, out, sizeof out, err, sizeof err, &end);
    EXPECT_STATUS(end, BERTH_END);
    EXPECT_STREQ(out, "");
    EXPECT_STREQ(err, "err1\nerr2\n");
    EXPECT_OK(berth_stream_close(logs));
    /* The last line only. */
    REQUIRE_OK(berth_container_logs(&logs, c, "{\"tail\":1}"));
    drain_logs(logs, out, sizeof out, err, sizeof err, &end);
    EXPECT_STATUS(end, BERTH_END);
    /* Which one is last depends on which pipe the runtime read first. */
    EXPECT(lines_of(out) + lines_of(err) == 1);
    EXPECT_OK(berth_stream_close(logs));
    /* Timestamps: "2026-...Z out1". */
    REQUIRE_OK(berth_container_logs(&logs, c, "{\"timestamps\":true,\"stderr\":false}"));
    drain_logs(logs, out, sizeof out, err, sizeof err, &end);
    EXPECT_STATUS(end, BERTH_END);
    EXPECT(out[0] >= '1' && out[0] <= '9');
    EXPECT_CONTAINS(out, "Z out1\n");
    EXPECT_CONTAINS(out, "Z out2\n");
    EXPECT_OK(berth_stream_close(logs));
    /* Since a time after the container ended: nothing. */
    char since[64];
    snprintf(since, sizeof since, "{\"since\":%lld}", (long long)time(NULL) + 3600);
    REQUIRE_OK(berth_container_logs(&logs, c, since));
    EXPECT(drain_logs(logs, out, sizeof out, err, sizeof err, &end) == 0);
    EXPECT_STATUS(end, BERTH_END);
    EXPECT_OK(berth_stream_close(logs));
    delete_and_close(c);
    /* A deleted container has no log. */
    EXPECT_STATUS(berth_container_logs(&logs, c, NULL), BERTH_ERR_INVALID_HANDLE);
    berth_container gone = {0};
    c = create(name, sizeof name, "[\"/bin/true\"]", "");
    EXPECT_OK(berth_runtime_open_container(&gone, rt, name));
    EXPECT_OK(berth_container_delete(c, false));
    logs.id = 0;
    EXPECT_STATUS(berth_container_logs(&logs, gone, NULL), BERTH_ERR_NOT_FOUND);
    EXPECT(logs.id == 0);
    EXPECT_OK(berth_container_close(gone));
    EXPECT_OK(berth_container_close(c));

    /* Follow: lines as they come, the end when the container stops. */
    c = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"echo first; sleep 2; echo second >&2; sleep 1; echo third\"]");
    REQUIRE_OK(berth_container_logs(&logs, c, "{\"follow\":true}"));
    drain_logs(logs, out, sizeof out, err, sizeof err, &end);
    EXPECT_STATUS(end, BERTH_END);
    EXPECT_STREQ(out, "first\nthird\n");
    EXPECT_STREQ(err, "second\n");
    EXPECT_OK(berth_stream_close(logs));
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    delete_and_close(c);

    /* Follow, closed while the container runs on: the stream goes, nothing leaks; a
     * short read meanwhile times out and leaves the stream usable. */
    c = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"echo started; sleep 600\"]");
    REQUIRE_OK(berth_container_logs(&logs, c, "{\"follow\":true}"));
    char *item = NULL;
    if (EXPECT_OK(berth_stream_next(&item, logs, LONG_MS))) {
        EXPECT_CONTAINS(item, "\"stream\":\"stdout\"");
        EXPECT_CONTAINS(item, "\"data_base64\":\"c3RhcnRlZAo=\""); /* "started\n" */
        berth_string_free(item);
        item = NULL;
    }
    EXPECT_STATUS(berth_stream_next(&item, logs, 200), BERTH_ERR_TIMEOUT);
    EXPECT(item == NULL);
    EXPECT_OK(berth_stream_close(logs));
    EXPECT_OK(berth_container_delete(c, true));
    EXPECT_OK(berth_container_close(c));
}

/* ---- stats ---------------------------------------------------------------------------- */

static void test_stats(void) {
    char name[128], *item = NULL;
    berth_stream stats = {0};
    berth_container c = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"sleep 600 & sleep 600\"]");

    /* One sample, then the end. */
    REQUIRE_OK(berth_container_stats(&stats, c, false));
    if (EXPECT_OK(berth_stream_next(&item, stats, LONG_MS))) {
        EXPECT_CONTAINS(item, "\"read\":");
        EXPECT_CONTAINS(item, "\"cpu_percent\":");
        EXPECT(json_num(item, "memory_usage") > 0);
        EXPECT(json_num(item, "memory_limit") > 0);
        EXPECT(json_num(item, "online_cpus") > 0);
        EXPECT(json_num(item, "pids") >= 2); /* two sleeps (sh execs the second) */
        EXPECT(json_num(item, "cpu_total_ns") >= 0);
        EXPECT(json_num(item, "network_rx_bytes") >= 0);
        EXPECT(json_num(item, "block_read_bytes") >= 0);
        berth_string_free(item);
        item = NULL;
    }
    EXPECT_STATUS(berth_stream_next(&item, stats, LONG_MS), BERTH_END);
    EXPECT_OK(berth_stream_close(stats));

    /* A stream of samples: two, then closed while it runs on. */
    REQUIRE_OK(berth_container_stats(&stats, c, true));
    for (int i = 0; i < 2; i++) {
        if (EXPECT_OK(berth_stream_next(&item, stats, LONG_MS))) {
            EXPECT(json_num(item, "pids") >= 2);
            berth_string_free(item);
            item = NULL;
        }
    }
    EXPECT_OK(berth_stream_close(stats));
    EXPECT_STATUS(berth_stream_next(&item, stats, 0), BERTH_ERR_INVALID_HANDLE);

    EXPECT_OK(berth_container_delete(c, true));
    EXPECT_STATUS(berth_container_stats(&stats, c, false), BERTH_ERR_NOT_FOUND);
    EXPECT_OK(berth_container_close(c));
}

/* ---- rename --------------------------------------------------------------------------- */

static void test_rename(void) {
    char name[128], id[128], other_name[128], new_name[160], *s = NULL;
    berth_container c = create(name, sizeof name, "[\"/bin/true\"]", "");
    berth_container other = create(other_name, sizeof other_name, "[\"/bin/true\"]", "");
    id_of(c, id, sizeof id);
    snprintf(new_name, sizeof new_name, "%s-renamed", name);

    EXPECT_OK(berth_container_rename(c, new_name));
    /* The ID stays; the name is the new one. */
    if (EXPECT_OK(berth_container_id(&s, c))) {
        EXPECT_STREQ(s, id);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_container_inspect(&s, c))) {
        char want[200];
        snprintf(want, sizeof want, "\"names\":[\"%s\"]", new_name);
        EXPECT_CONTAINS(s, want);
        berth_string_free(s);
    }
    berth_container o = {0};
    if (EXPECT_OK(berth_runtime_open_container(&o, rt, new_name))) {
        char got[128];
        id_of(o, got, sizeof got);
        EXPECT_STREQ(got, id);
        EXPECT_OK(berth_container_close(o));
        o.id = 0;
    }
    EXPECT_STATUS(berth_runtime_open_container(&o, rt, name), BERTH_ERR_NOT_FOUND);
    /* A name that is taken, like a create with it. */
    EXPECT_STATUS(berth_container_rename(c, other_name), BERTH_ERR_ALREADY_EXISTS);
    if (EXPECT_OK(berth_container_inspect(&s, c))) {
        EXPECT_CONTAINS(s, new_name);
        berth_string_free(s);
    }
    /* A name the runtime refuses. */
    EXPECT_STATUS(berth_container_rename(c, "bad name/with slash"), BERTH_ERR_INVALID_ARGUMENT);
    /* Back to the old name (free again). */
    EXPECT_OK(berth_container_rename(c, name));
    delete_and_close(c);
    delete_and_close(other);
}

/* ---- export, archive, commit: a container's files out, and as an image ---------------- */

static void test_export_archive_commit(void) {
    char name[128], dir[64], path[200], content[256], *s = NULL;
    int32_t code = -1;
    berth_container c = run(name, sizeof name,
                            "[\"/bin/sh\",\"-c\",\"mkdir -p /data/dir && echo made-here > /data/dir/a.txt && "
                            "echo second > /data/b.txt && rm /bin/echo\"]");
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 0);
    temp_dir(dir, sizeof dir);

    /* Export: the whole filesystem, with the container's changes. */
    snprintf(path, sizeof path, "%s/export.tar", dir);
    EXPECT_OK(berth_container_export(c, path));
    EXPECT(tar_entry(path, "data/dir/a.txt", content, sizeof content) == 10);
    EXPECT_STREQ(content, "made-here\n");
    EXPECT(tar_entry(path, "bin/busybox", NULL, 0) > 100000);
    EXPECT(tar_entry(path, "bin/echo", NULL, 0) == -1);
    /* Again, over the existing file. */
    EXPECT_OK(berth_container_export(c, path));
    EXPECT(tar_entry(path, "data/b.txt", content, sizeof content) == 7);

    /* Archive: one directory, named by its last component, or one file. */
    snprintf(path, sizeof path, "%s/data.tar", dir);
    EXPECT_OK(berth_container_archive(c, "/data", path));
    EXPECT(tar_entry(path, "data/dir/a.txt", content, sizeof content) == 10);
    EXPECT_STREQ(content, "made-here\n");
    EXPECT(tar_entry(path, "data/b.txt", NULL, 0) == 7);
    EXPECT(tar_entry(path, "bin/busybox", NULL, 0) == -1);
    snprintf(path, sizeof path, "%s/b.tar", dir);
    EXPECT_OK(berth_container_archive(c, "/data/b.txt", path));
    EXPECT(tar_entry(path, "b.txt", content, sizeof content) == 7);
    EXPECT_STREQ(content, "second\n");
    /* A path the container does not have: NOT_FOUND, and no file left behind. */
    snprintf(path, sizeof path, "%s/missing.tar", dir);
    EXPECT_STATUS(berth_container_archive(c, "/no/such/path", path), BERTH_ERR_NOT_FOUND);
    EXPECT(access(path, F_OK) != 0);
    /* A destination in a directory that is not there. */
    EXPECT_STATUS(berth_container_archive(c, "/data", "/nonexistent-dir/x.tar"), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_container_export(c, "/nonexistent-dir/x.tar"), BERTH_ERR_NOT_FOUND);

    /* Commit: an image of the container, with a new CMD; run it and read its log. */
    char reference[200], options[600];
    snprintf(reference, sizeof reference, "example.com/%s-commit:v1", prefix);
    snprintf(options, sizeof options,
             "{\"reference\":\"%s\",\"message\":\"berth test\",\"author\":\"ctest\","
             "\"changes\":[\"CMD [\\\"/bin/cat\\\", \\\"/data/dir/a.txt\\\"]\",\"ENV FROM_COMMIT=1\"]}",
             reference);
    char *image_id = NULL;
    if (EXPECT_OK(berth_container_commit(&image_id, c, options))) {
        EXPECT(strncmp(image_id, "sha256:", 7) == 0 && strlen(image_id) == 71);
        if (EXPECT_OK(berth_runtime_find_images(&s, rt, reference))) {
            EXPECT_CONTAINS(s, image_id);
            berth_string_free(s);
        }
        /* Its files: the container's, read through the image. */
        berth_image img = {0};
        if (EXPECT_OK(berth_runtime_open_image(&img, rt, reference))) {
            berth_fs fs = {0};
            if (EXPECT_OK(berth_image_filesystem(&fs, img))) {
                berth_bytes b = {NULL, 0};
                if (EXPECT_OK(berth_fs_read_file(&b, fs, "/data/dir/a.txt", 0))) {
                    EXPECT(bytes_eq(b, "made-here\n"));
                    berth_bytes_free(b);
                }
                EXPECT_STATUS(berth_fs_lstat(&s, fs, "/bin/echo"), BERTH_ERR_NOT_FOUND);
                EXPECT_OK(berth_fs_close(fs));
            }
            if (EXPECT_OK(berth_image_inspect(&s, img))) {
                EXPECT_CONTAINS(s, "FROM_COMMIT=1");
                berth_string_free(s);
            }
            EXPECT_OK(berth_image_close(img));
        }
        /* Its CMD: a container of it with no args cats the file. */
        char run_name[128], out[256], err[256];
        berth_stream logs = {0};
        berth_status end;
        berth_container r = create_of(reference, run_name, sizeof run_name, "[]", "", "");
        EXPECT_OK(berth_container_start(r));
        EXPECT_OK(berth_container_wait(&code, r, LONG_MS));
        EXPECT(code == 0);
        if (EXPECT_OK(berth_container_logs(&logs, r, NULL))) {
            drain_logs(logs, out, sizeof out, err, sizeof err, &end);
            EXPECT_STATUS(end, BERTH_END);
            EXPECT_STREQ(out, "made-here\n");
            EXPECT_OK(berth_stream_close(logs));
        }
        delete_and_close(r);
        EXPECT_OK(berth_runtime_remove_image(rt, image_id));
        berth_string_free(image_id);
    }
    /* Without options: an untagged image, removed by its ID. */
    image_id = NULL;
    if (EXPECT_OK(berth_container_commit(&image_id, c, NULL))) {
        EXPECT(strncmp(image_id, "sha256:", 7) == 0);
        if (EXPECT_OK(berth_runtime_find_images(&s, rt, image_id))) {
            EXPECT_CONTAINS(s, image_id);
            berth_string_free(s);
        }
        EXPECT_OK(berth_runtime_remove_image(rt, image_id));
        berth_string_free(image_id);
    }
    /* A malformed reference is refused before the daemon is asked. */
    image_id = NULL;
    EXPECT_STATUS(berth_container_commit(&image_id, c, "{\"reference\":\"Upper/Case:v1\"}"), BERTH_ERR_INVALID_ARGUMENT);
    EXPECT(image_id == NULL);
    delete_and_close(c);
    static const char *const files[] = {"export.tar", "data.tar", "b.tar", NULL};
    rm_tree(dir, files);
}

/* ---- attach: the init process's stdio --------------------------------------------------- */

static void test_attach(void) {
    char name[128], out[4096], err[4096];
    berth_exec e = {0};
    int32_t code = -1;

    /* stdin in, stdout and stderr apart, the exit. The process waits for its input, so
     * nothing it writes comes before the attach. */
    berth_container c = create(name, sizeof name, "[\"/bin/sh\",\"-c\",\"read x; echo got-$x; echo e >&2; exit 3\"]",
                               ",\"stdin\":true");
    REQUIRE_OK(berth_container_start(c));
    REQUIRE_OK(berth_container_attach(&e, c));
    REQUIRE(e.id != 0);
    EXPECT_STATUS(berth_exec_resize(e, 80, 24), BERTH_ERR_INVALID_ARGUMENT); /* no tty */
    EXPECT_OK(berth_exec_write_stdin(e, (const uint8_t *)"hello\n", 6));
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 3);
    EXPECT_STREQ(out, "got-hello\n");
    EXPECT_STREQ(err, "e\n");
    EXPECT_OK(berth_exec_close(e));
    EXPECT_STATUS(berth_exec_close(e), BERTH_ERR_INVALID_HANDLE);
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 3);
    delete_and_close(c);

    /* No stdin: writing is refused; a kill through the session stops the container. */
    c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
    REQUIRE_OK(berth_container_attach(&e, c));
    EXPECT_STATUS(berth_exec_write_stdin(e, (const uint8_t *)"x", 1), BERTH_ERR_INVALID_ARGUMENT);
    berth_exec_event ev;
    EXPECT_STATUS(berth_exec_next(&ev, e, 200), BERTH_ERR_TIMEOUT);
    EXPECT_OK(berth_exec_kill(e, 9));
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 137);
    EXPECT_OK(berth_exec_close(e));
    delete_and_close(c);

    /* A tty: the output is stdout only; resize reaches it. */
    c = create(name, sizeof name, "[\"/bin/sh\",\"-c\",\"read x; stty size; echo e >&2\"]", ",\"tty\":true,\"stdin\":true");
    REQUIRE_OK(berth_container_start(c));
    REQUIRE_OK(berth_container_attach(&e, c));
    EXPECT_OK(berth_exec_resize(e, 100, 40));
    EXPECT_OK(berth_exec_write_stdin(e, (const uint8_t *)"go\r", 3));
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 0);
    EXPECT_CONTAINS(out, "40 100");
    EXPECT_STREQ(err, "");
    EXPECT_OK(berth_exec_close(e));
    delete_and_close(c);

    /* Attached before the start, nothing is missed. */
    c = create(name, sizeof name, "[\"/bin/sh\",\"-c\",\"echo early; echo early-err >&2; exit 5\"]", "");
    REQUIRE_OK(berth_container_attach(&e, c));
    EXPECT_OK(berth_container_start(c));
    EXPECT(drain_exec(e, out, sizeof out, err, sizeof err) == 5);
    EXPECT_STREQ(out, "early\n");
    EXPECT_STREQ(err, "early-err\n");
    EXPECT_OK(berth_exec_close(e));
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    /* A stopped container: nothing to attach to. */
    e.id = 0;
    berth_status st_attach = berth_container_attach(&e, c);
    EXPECT_STATUS(st_attach, BERTH_ERR_CONFLICT);
    if (st_attach == BERTH_OK) EXPECT_OK(berth_exec_close(e));
    else EXPECT(e.id == 0);
    delete_and_close(c);

    /* Closing the session detaches: the container runs on. */
    c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
    REQUIRE_OK(berth_container_attach(&e, c));
    EXPECT_OK(berth_exec_close(e));
    char st[32];
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    EXPECT_OK(berth_container_delete(c, true));
    EXPECT_OK(berth_container_close(c));
}

/* ---- pods (Podman) ---------------------------------------------------------------------- */

static void test_pods(void) {
    char pod_name[128], pod_id[128], name[128], id[128], st[32], extra[200], *s = NULL;
    berth_pod p = {0};
    int32_t code = -1;
    snprintf(pod_name, sizeof pod_name, "%s-pod", prefix);

    char options[300];
    snprintf(options, sizeof options, "{\"name\":\"%s\",\"labels\":{\"berth.ctest\":\"%s\"},\"network\":\"none\"}",
             pod_name, prefix);
    REQUIRE_OK(berth_runtime_create_pod(&p, rt, options));
    REQUIRE(p.id != 0);
    if (EXPECT_OK(berth_pod_id(&s, p))) {
        snprintf(pod_id, sizeof pod_id, "%s", s);
        EXPECT(strlen(pod_id) == 64);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_pod_inspect(&s, p))) {
        char want[200];
        snprintf(want, sizeof want, "\"name\":\"%s\"", pod_name);
        EXPECT_CONTAINS(s, want);
        EXPECT_CONTAINS(s, pod_id);
        EXPECT_CONTAINS(s, "\"native\":{");
        EXPECT_CONTAINS(s, "\"berth.ctest\":");
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_list_pods(&s, rt))) {
        EXPECT(s[0] == '[');
        EXPECT_CONTAINS(s, pod_name);
        berth_string_free(s);
    }
    /* Open by name and by ID prefix; another name is NOT_FOUND. */
    berth_pod o = {0};
    if (EXPECT_OK(berth_runtime_open_pod(&o, rt, pod_name))) {
        EXPECT(o.id != p.id);
        if (EXPECT_OK(berth_pod_id(&s, o))) {
            EXPECT_STREQ(s, pod_id);
            berth_string_free(s);
        }
        EXPECT_OK(berth_pod_close(o));
    }
    char short_id[16];
    snprintf(short_id, sizeof short_id, "%.12s", pod_id);
    if (EXPECT_OK(berth_runtime_open_pod(&o, rt, short_id))) EXPECT_OK(berth_pod_close(o));
    o.id = 0;
    EXPECT_STATUS(berth_runtime_open_pod(&o, rt, "no-such-pod-anywhere"), BERTH_ERR_NOT_FOUND);
    EXPECT(o.id == 0);
    /* The name is taken. */
    EXPECT_STATUS(berth_runtime_create_pod(&o, rt, options), BERTH_ERR_ALREADY_EXISTS);
    EXPECT(o.id == 0);

    /* A container joins it at creation, by name. */
    snprintf(extra, sizeof extra, ",\"pod\":\"%s\"", pod_name);
    berth_container c = create(name, sizeof name, "[\"/bin/sleep\",\"600\"]", extra);
    id_of(c, id, sizeof id);
    if (EXPECT_OK(berth_container_inspect(&s, c))) {
        char want[200];
        snprintf(want, sizeof want, "\"pod\":\"%s\"", pod_id);
        EXPECT_CONTAINS(s, want);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_pod_inspect(&s, p))) {
        EXPECT_CONTAINS(s, id);
        berth_string_free(s);
    }
    /* A live pod handle is no container, a live container handle no pod. */
    berth_container pod_as_container = {p.id};
    berth_pod container_as_pod = {c.id};
    s = NULL;
    EXPECT_STATUS(berth_container_inspect(&s, pod_as_container), BERTH_ERR_INVALID_HANDLE);
    EXPECT_CONTAINS(berth_last_error_message(), "container handle");
    EXPECT_STATUS(berth_container_close(pod_as_container), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_pod_inspect(&s, container_as_pod), BERTH_ERR_INVALID_HANDLE);
    EXPECT_CONTAINS(berth_last_error_message(), "pod handle");
    EXPECT_STATUS(berth_pod_start(container_as_pod), BERTH_ERR_INVALID_HANDLE);
    EXPECT_STATUS(berth_pod_close(container_as_pod), BERTH_ERR_INVALID_HANDLE);
    EXPECT(s == NULL);
    /* A pod that is not there. */
    berth_container bad = {0};
    char bad_options[300];
    snprintf(bad_options, sizeof bad_options, "{\"image\":\"%s\",\"pod\":\"no-such-pod-anywhere\"}", image);
    EXPECT_STATUS(berth_runtime_create_container(&bad, rt, bad_options), BERTH_ERR_NOT_FOUND);
    EXPECT(bad.id == 0);

    /* Start, pause, resume, stop: its containers follow. */
    EXPECT_OK(berth_pod_start(p));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    /* Running: remove needs force; a conflict changes nothing. */
    EXPECT_STATUS(berth_pod_remove(p, false), BERTH_ERR_CONFLICT);
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    EXPECT_OK(berth_pod_pause(p));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "paused");
    EXPECT_OK(berth_pod_resume(p));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    EXPECT_OK(berth_pod_stop(p, 1000));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "stopped");
    /* Again, then killed. */
    EXPECT_OK(berth_pod_start(p));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    EXPECT_OK(berth_pod_kill(p, 9));
    EXPECT_OK(berth_container_wait(&code, c, LONG_MS));
    EXPECT(code == 137);

    /* Removed with its containers: both handles get NOT_FOUND. */
    EXPECT_OK(berth_pod_remove(p, false));
    EXPECT_STATUS(berth_pod_inspect(&s, p), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_container_inspect(&s, c), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_pod_start(p), BERTH_ERR_NOT_FOUND);
    EXPECT_STATUS(berth_runtime_open_pod(&o, rt, pod_name), BERTH_ERR_NOT_FOUND);
    EXPECT_OK(berth_container_close(c));
    EXPECT_OK(berth_pod_close(p));
    /* Closed, then double-closed: every pod function refuses the handle. */
    for (int round = 0; round < 2; round++) {
        s = NULL;
        EXPECT_STATUS(berth_pod_id(&s, p), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_inspect(&s, p), BERTH_ERR_INVALID_HANDLE);
        EXPECT(s == NULL);
        EXPECT_STATUS(berth_pod_start(p), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_stop(p, 0), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_kill(p, 9), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_pause(p), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_resume(p), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_remove(p, true), BERTH_ERR_INVALID_HANDLE);
        EXPECT_STATUS(berth_pod_close(p), BERTH_ERR_INVALID_HANDLE);
    }

    /* A running pod, removed by force; an unnamed one. */
    REQUIRE_OK(berth_runtime_create_pod(&p, rt, NULL));
    if (EXPECT_OK(berth_pod_id(&s, p))) {
        snprintf(pod_id, sizeof pod_id, "%s", s);
        berth_string_free(s);
    }
    snprintf(extra, sizeof extra, ",\"pod\":\"%s\"", pod_id);
    c = create(name, sizeof name, "[\"/bin/sleep\",\"600\"]", extra);
    EXPECT_OK(berth_container_start(c));
    status_of(c, st, sizeof st);
    EXPECT_STREQ(st, "running");
    EXPECT_OK(berth_pod_remove(p, true));
    EXPECT_STATUS(berth_container_inspect(&s, c), BERTH_ERR_NOT_FOUND);
    EXPECT_OK(berth_container_close(c));
    EXPECT_OK(berth_pod_close(p));
}

/* ---- what this runtime does not have: NOT_SUPPORTED, naming it ------------------------- */

static void test_not_supported(void) {
    char name[128], *s = NULL;
    berth_stream st_out = {0};
    berth_exec e_out = {0};
    berth_pod p = {0};
    berth_container c_out = {0};

#define EXPECT_NOT_SUPPORTED(call)                                           \
    do {                                                                     \
        EXPECT_STATUS(call, BERTH_ERR_NOT_SUPPORTED);                        \
        EXPECT_CONTAINS(berth_last_error_message(), kind_name);              \
    } while (0)

    if (kind == RT_CONTAINERD) {
        berth_container c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
        EXPECT_NOT_SUPPORTED(berth_container_logs(&st_out, c, NULL));
        EXPECT_NOT_SUPPORTED(berth_container_logs(&st_out, c, "{\"follow\":true}"));
        EXPECT_NOT_SUPPORTED(berth_container_attach(&e_out, c));
        EXPECT_NOT_SUPPORTED(berth_container_stats(&st_out, c, false));
        EXPECT_NOT_SUPPORTED(berth_container_stats(&st_out, c, true));
        EXPECT_NOT_SUPPORTED(berth_container_rename(c, "new-name"));
        EXPECT_NOT_SUPPORTED(berth_container_export(c, "/tmp/berth-ctest-never.tar"));
        EXPECT_NOT_SUPPORTED(berth_container_commit(&s, c, NULL));
        EXPECT_NOT_SUPPORTED(berth_container_commit(&s, c, "{\"reference\":\"example.com/x:1\"}"));
        EXPECT_NOT_SUPPORTED(berth_container_archive(c, "/etc", "/tmp/berth-ctest-never.tar"));
        EXPECT(access("/tmp/berth-ctest-never.tar", F_OK) != 0);
        EXPECT_OK(berth_container_delete(c, true));
        EXPECT_OK(berth_container_close(c));
    }
    /* Pods: Podman only. */
    EXPECT_NOT_SUPPORTED(berth_runtime_list_pods(&s, rt));
    EXPECT_NOT_SUPPORTED(berth_runtime_create_pod(&p, rt, NULL));
    EXPECT_NOT_SUPPORTED(berth_runtime_create_pod(&p, rt, "{\"name\":\"x\"}"));
    EXPECT_NOT_SUPPORTED(berth_runtime_open_pod(&p, rt, "x"));
    char options[300];
    snprintf(options, sizeof options, "{\"image\":\"%s\",\"pod\":\"x\"}", image);
    EXPECT_NOT_SUPPORTED(berth_runtime_create_container(&c_out, rt, options));
    EXPECT(s == NULL && st_out.id == 0 && e_out.id == 0 && p.id == 0 && c_out.id == 0);
#undef EXPECT_NOT_SUPPORTED
}

/* ---- threads: a stream and an exec closed while another thread waits on them -------- */

struct waiter {
    berth_stream stream;
    berth_exec exec;
    berth_status status;
};

static void *wait_on_stream(void *p) {
    struct waiter *w = p;
    char *item = NULL;
    w->status = berth_stream_next(&item, w->stream, -1);
    berth_string_free(item);
    return NULL;
}

static void *wait_on_exec(void *p) {
    struct waiter *w = p;
    berth_exec_event ev;
    w->status = berth_exec_next(&ev, w->exec, -1);
    if (w->status == BERTH_OK) berth_bytes_free(ev.data);
    return NULL;
}

static void test_close_wakes_waiters(void) {
    struct waiter w = {{0}, {0}, BERTH_OK};
    pthread_t t;
    REQUIRE_OK(berth_runtime_events(&w.stream, rt, quiet_filter()));
    REQUIRE(pthread_create(&t, NULL, wait_on_stream, &w) == 0);
    sleep_ms(300);
    EXPECT_OK(berth_stream_close(w.stream));
    pthread_join(t, NULL);
    EXPECT_STATUS(w.status, BERTH_ERR_CANCELLED);

    char name[128];
    berth_container c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
    if (kind != RT_CONTAINERD) {
        /* A log that follows a container that writes nothing. */
        w.status = BERTH_OK;
        REQUIRE_OK(berth_container_logs(&w.stream, c, "{\"follow\":true}"));
        REQUIRE(pthread_create(&t, NULL, wait_on_stream, &w) == 0);
        sleep_ms(300);
        EXPECT_OK(berth_stream_close(w.stream));
        pthread_join(t, NULL);
        EXPECT_STATUS(w.status, BERTH_ERR_CANCELLED);
    }
    REQUIRE_OK(berth_container_exec(&w.exec, c, "{\"args\":[\"/bin/sleep\",\"600\"]}"));
    REQUIRE(pthread_create(&t, NULL, wait_on_exec, &w) == 0);
    sleep_ms(300);
    EXPECT_OK(berth_exec_kill(w.exec, 9));
    pthread_join(t, NULL);
    EXPECT_OK(w.status); /* the exit came */
    EXPECT_OK(berth_exec_close(w.exec));
    w.status = BERTH_OK;
    berth_exec e2 = {0};
    REQUIRE_OK(berth_container_exec(&e2, c, "{\"args\":[\"/bin/sleep\",\"600\"]}"));
    w.exec = e2;
    REQUIRE(pthread_create(&t, NULL, wait_on_exec, &w) == 0);
    sleep_ms(300);
    EXPECT_OK(berth_exec_close(e2));
    pthread_join(t, NULL);
    EXPECT_STATUS(w.status, BERTH_ERR_CANCELLED);
    EXPECT_STATUS(berth_exec_close(e2), BERTH_ERR_INVALID_HANDLE);
    EXPECT_OK(berth_container_delete(c, true));
    EXPECT_OK(berth_container_close(c));
}

/* ---- main ---------------------------------------------------------------------------- */

/* Runs one section and says how long it took. */
static void timed(const char *what, void (*section)(void)) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    section();
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("section %s: %ld ms\n", what, (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
}

/* Deletes whatever container (and pod) of this run is left (after a failed check). */
static void cleanup(void) {
    char *list = NULL, filter[200];
    snprintf(filter, sizeof filter, "[\"labels.\\\"berth.ctest\\\"==%s\"]", prefix);
    if (berth_runtime_list_containers(&list, rt, filter) == BERTH_OK) {
        const char *p = list;
        char id[128];
        while ((p = strstr(p, "\"id\":\"")) != NULL) {
            json_str(p, "id", id, sizeof id);
            p += 6;
            berth_container c = {0};
            if (berth_runtime_open_container(&c, rt, id) == BERTH_OK) {
                fprintf(stderr, "cleanup: container %s was left\n", id);
                berth_container_delete(c, true);
                berth_container_close(c);
            }
        }
        berth_string_free(list);
    }
    list = NULL;
    if (kind == RT_PODMAN && berth_runtime_list_pods(&list, rt) == BERTH_OK) {
        const char *p = list;
        char pod_name[128];
        while ((p = strstr(p, "\"name\":\"")) != NULL) {
            json_str(p, "name", pod_name, sizeof pod_name);
            p += 8;
            berth_pod pod = {0};
            if (strncmp(pod_name, prefix, strlen(prefix)) == 0 && berth_runtime_open_pod(&pod, rt, pod_name) == BERTH_OK) {
                fprintf(stderr, "cleanup: pod %s was left\n", pod_name);
                berth_pod_remove(pod, true);
                berth_pod_close(pod);
            }
        }
        berth_string_free(list);
    }
}

int main(int argc, char **argv) {
    char endpoint[2048];
    if (argc > 1) {
        snprintf(endpoint, sizeof endpoint, "%s", argv[1]);
    } else {
        const char *sock = getenv("BERTH_TEST_CONTAINERD");
        if (!sock || !*sock) {
            fprintf(stderr, "usage: %s containerd://SOCK?namespace=NS&runc_root=DIR | docker:///SOCK | podman:///SOCK "
                            "(or set BERTH_TEST_CONTAINERD)\n", argv[0]);
            return 2;
        }
        const char *root = env_or("BERTH_TEST_RUNC_ROOT", "");
        snprintf(endpoint, sizeof endpoint, "containerd://%s?namespace=%s%s%s", sock, env_or("BERTH_TEST_NAMESPACE", "default"),
                 *root ? "&runc_root=" : "", root);
    }
    if (strncmp(endpoint, "containerd://", 13) == 0) {
        kind = RT_CONTAINERD;
        kind_name = "containerd";
    } else if (strncmp(endpoint, "docker://", 9) == 0) {
        kind = RT_DOCKER;
        kind_name = "docker";
    } else if (strncmp(endpoint, "podman://", 9) == 0) {
        kind = RT_PODMAN;
        kind_name = "podman";
    } else {
        fprintf(stderr, "%s: not a daemon endpoint (containerd://, docker:// or podman://)\n", endpoint);
        return 2;
    }
    image = env_or("BERTH_TEST_IMAGE", "example.com/busybox:latest");
    snprintf(prefix, sizeof prefix, "ctest-%d", (int)getpid());
    printf("endpoint %s, image %s\n", endpoint, image);

    REQUIRE_OK(berth_runtime_open(&rt, endpoint, "{\"timeout_ms\": 120000}"));
    char *info = NULL, want[64];
    if (EXPECT_OK(berth_runtime_info(&info, rt))) {
        snprintf(want, sizeof want, "\"kind\":\"%s\"", kind_name);
        EXPECT_CONTAINS(info, want);
        EXPECT_CONTAINS(info, kind == RT_PODMAN ? "\"pods\":true" : "\"pods\":false");
        berth_string_free(info);
    }

    timed("run/filesystem/events", test_run_and_filesystem);
    timed("exec", test_exec);
    timed("stop/delete", test_stop_and_delete);
    timed("list/find", test_list_and_find);
    timed("images", test_images);
    if (kind == RT_CONTAINERD) {
        timed("snapshots", test_snapshots);
    } else {
        timed("logs", test_logs);
        timed("stats", test_stats);
        timed("rename", test_rename);
        timed("export/archive/commit", test_export_archive_commit);
        timed("attach", test_attach);
    }
    if (kind == RT_PODMAN) timed("pods", test_pods);
    else timed("not supported", test_not_supported);
    timed("close wakes waiters", test_close_wakes_waiters);

    cleanup();
    EXPECT_OK(berth_runtime_close(rt));
    return check_summary("test_daemon");
}
