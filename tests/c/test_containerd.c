/*
 * test_containerd: the container, exec, image, event and snapshot functions of libberth
 * against the real containerd of the test harness (tests/harness/README.md).
 *
 *   test_containerd [ENDPOINT]
 *
 * ENDPOINT defaults to containerd://$BERTH_TEST_CONTAINERD?namespace=$BERTH_TEST_NAMESPACE
 * &runc_root=$BERTH_TEST_RUNC_ROOT. The image is $BERTH_TEST_IMAGE (busybox), the pull
 * test reads $BERTH_TEST_REGISTRY_IMAGE (a plain-HTTP registry), snapshots use
 * $BERTH_TEST_SNAPSHOTTER (NULL, the runtime's default, when unset).
 *
 * Every container is named ctest-PID-N and deleted; everything opened is closed and
 * every string freed: tests/c/run.sh runs this under valgrind.
 */
#include "check.h"

#include <berth.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Generous: under valgrind everything is 20 to 50 times slower. */
#define LONG_MS 120000

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

/* Creates (not starts) a container of the test image; `extra` is more JSON fields
 * (with a leading comma) or "". */
static berth_container create(char *name, size_t name_size, const char *args_json, const char *extra) {
    char options[2048];
    berth_container c = {0};
    unique(name, name_size);
    snprintf(options, sizeof options, "{\"image\":\"%s\",\"name\":\"%s\",\"args\":%s%s}", image, name, args_json, extra);
    REQUIRE_OK(berth_runtime_create_container(&c, rt, options));
    REQUIRE(c.id != 0);
    return c;
}

static berth_container run(char *name, size_t name_size, const char *args_json) {
    berth_container c = create(name, name_size, args_json, "");
    REQUIRE_OK(berth_container_start(c));
    return c;
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

static int bytes_eq(berth_bytes b, const char *want) {
    size_t n = strlen(want);
    return b.len == n && (n == 0 ? b.data == NULL : memcmp(b.data, want, n) == 0);
}

/* ---- run a container: a file, exit 3, its filesystem, events -------------------------- */

static void test_run_and_filesystem(void) {
    char name[128], st[32], *s = NULL;
    berth_stream events = {0};
    int32_t code = -1;

    /* The event stream first: it sees the task's exit. */
    REQUIRE_OK(berth_runtime_events(&events, rt, NULL));

    berth_container c = create(name, sizeof name,
                               "[\"/bin/sh\",\"-c\",\"echo written-inside > /result.txt; rm /bin/echo; exit 3\"]", "");
    if (EXPECT_OK(berth_container_id(&s, c))) {
        EXPECT_STREQ(s, name);
        berth_string_free(s);
        s = NULL;
    }
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
        EXPECT_CONTAINS(s, "\"spec\":{");
        EXPECT_CONTAINS(s, name);
        berth_string_free(s);
        s = NULL;
    }

    /* The container's rootfs: the image plus what it changed. */
    berth_fs fs = {0};
    if (EXPECT_OK(berth_container_filesystem(&fs, c))) {
        berth_bytes b = {NULL, 0};
        if (EXPECT_OK(berth_fs_read_file(&b, fs, "/result.txt"))) {
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

    /* Stopping a stopped container is a conflict; pausing one too. */
    EXPECT_STATUS(berth_container_stop(&code, c, 100), BERTH_ERR_CONFLICT);

    /* The events: this container's task-exit with code 3 comes within the timeout. */
    int seen_exit = 0, items = 0;
    char *ev = NULL;
    for (int i = 0; i < 200 && !seen_exit; i++) {
        berth_status r = berth_stream_next(&ev, events, 20000);
        if (!EXPECT_OK(r)) break;
        items++;
        char kind[64], id[128];
        json_str(ev, "kind", kind, sizeof kind);
        json_str(ev, "container_id", id, sizeof id);
        EXPECT_CONTAINS(ev, "\"topic\":\"/");
        if (strcmp(kind, "task-exit") == 0 && strcmp(id, name) == 0) {
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
    int seen_create = 0;
    for (int i = 0; i < 20 && !seen_create; i++) {
        if (!EXPECT_OK(berth_stream_next(&ev, events, 20000))) break;
        seen_create = strstr(ev, "\"kind\":\"container-create\"") && strstr(ev, name);
        berth_string_free(ev);
        ev = NULL;
    }
    EXPECT(seen_create);
    EXPECT_OK(berth_container_delete(c2, false));
    EXPECT_OK(berth_container_close(c2));
    EXPECT_OK(berth_stream_close(events));
    EXPECT_STATUS(berth_stream_next(&ev, events, 0), BERTH_ERR_INVALID_HANDLE);

    /* A filtered stream sees only its topic. */
    REQUIRE_OK(berth_runtime_events(&events, rt, "[\"topic==\\\"/tasks/exit\\\"\"]"));
    c2 = run(name, sizeof name, "[\"/bin/sh\",\"-c\",\"exit 4\"]");
    if (EXPECT_OK(berth_stream_next(&ev, events, 20000))) {
        EXPECT_CONTAINS(ev, "\"kind\":\"task-exit\"");
        EXPECT_CONTAINS(ev, name);
        EXPECT_CONTAINS(ev, "\"exit_code\":4");
        berth_string_free(ev);
    }
    EXPECT_OK(berth_container_wait(&code, c2, LONG_MS));
    EXPECT(code == 4);
    EXPECT_OK(berth_container_delete(c2, false));
    EXPECT_OK(berth_container_close(c2));
    EXPECT_OK(berth_stream_close(events));
    printf("run/filesystem/events: %d events read\n", items);
}

/* ---- exec: one-shot and streaming -------------------------------------------------- */

/* Reads a streaming exec to its end: stdout and stderr appended to the buffers, the
 * exit code returned (-1000 when none came). */
static int drain_exec(berth_exec e, char *out, size_t out_size, char *err, size_t err_size) {
    berth_exec_event ev;
    berth_status r;
    int exit_code = -1000, exits = 0;
    size_t no = 0, ne = 0;
    out[0] = err[0] = '\0';
    while ((r = berth_exec_next(&ev, e, LONG_MS)) == BERTH_OK) {
        if (ev.kind == BERTH_EXEC_STDOUT || ev.kind == BERTH_EXEC_STDERR) {
            EXPECT(ev.data.len > 0 && ev.data.data != NULL);
            char *buf = ev.kind == BERTH_EXEC_STDOUT ? out : err;
            size_t *n = ev.kind == BERTH_EXEC_STDOUT ? &no : &ne;
            size_t size = ev.kind == BERTH_EXEC_STDOUT ? out_size : err_size;
            size_t take = ev.data.len < size - 1 - *n ? ev.data.len : size - 1 - *n;
            memcpy(buf + *n, ev.data.data, take);
            *n += take;
            buf[*n] = '\0';
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
    EXPECT_OK(berth_container_update_resources(c, "{}"));
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
    char name[128], label[160], filter[320], *s = NULL;
    snprintf(label, sizeof label, "%s-label", prefix);
    char extra[400];
    snprintf(extra, sizeof extra, ",\"labels\":{\"berth.test\":\"%s\"}", label);
    berth_container c = create(name, sizeof name, "[\"/bin/true\"]", extra);
    char other_name[128];
    berth_container other = create(other_name, sizeof other_name, "[\"/bin/true\"]", "");

    if (EXPECT_OK(berth_runtime_list_containers(&s, rt, NULL))) {
        EXPECT_CONTAINS(s, name);
        EXPECT_CONTAINS(s, other_name);
        berth_string_free(s);
    }
    if (EXPECT_OK(berth_runtime_list_containers(&s, rt, "[]"))) {
        EXPECT_CONTAINS(s, name);
        berth_string_free(s);
    }
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
    /* An ID prefix that both share is ambiguous for open, fine for find. */
    if (EXPECT_OK(berth_runtime_find_containers(&s, rt, prefix))) {
        EXPECT_CONTAINS(s, name);
        EXPECT_CONTAINS(s, other_name);
        berth_string_free(s);
    }
    berth_container o = {0};
    EXPECT_STATUS(berth_runtime_open_container(&o, rt, prefix), BERTH_ERR_AMBIGUOUS);
    EXPECT_CONTAINS(berth_last_error_message(), name);
    EXPECT(o.id == 0);
    EXPECT_STATUS(berth_runtime_open_container(&o, rt, "no-such-container-anywhere"), BERTH_ERR_NOT_FOUND);
    if (EXPECT_OK(berth_runtime_open_container(&o, rt, name))) {
        EXPECT(o.id != c.id);
        if (EXPECT_OK(berth_container_id(&s, o))) {
            EXPECT_STREQ(s, name);
            berth_string_free(s);
        }
        /* Two handles, one container: deleting through one shows through the other. */
        EXPECT_OK(berth_container_delete(o, false));
        EXPECT_STATUS(berth_container_inspect(&s, c), BERTH_ERR_NOT_FOUND);
        EXPECT_OK(berth_container_close(o));
    }
    EXPECT_OK(berth_container_delete(other, false));
    EXPECT_OK(berth_container_close(other));
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
    EXPECT_OK(berth_container_delete(c, false));
    EXPECT_OK(berth_container_close(c));
}

/* ---- images: pull, tag, remove, export, import ------------------------------------------ */

static void test_images(void) {
    const char *pulled = getenv("BERTH_TEST_REGISTRY_IMAGE");
    char *s = NULL, *item = NULL;
    berth_stream p = {0};
    if (!EXPECT(pulled != NULL && *pulled)) return;

    REQUIRE_OK(berth_runtime_pull(&p, rt, pulled, "{\"plain_http\":true}"));
    int progress = 0, complete = 0;
    berth_status r;
    while ((r = berth_stream_next(&item, p, LONG_MS)) == BERTH_OK) {
        EXPECT(!complete); /* "complete" is the last item */
        char status[64];
        json_str(item, "status", status, sizeof status);
        if (strcmp(status, "complete") == 0) {
            complete = 1;
            EXPECT_CONTAINS(item, "\"image\":{");
            EXPECT_CONTAINS(item, "\"id\":\"sha256:");
            EXPECT_CONTAINS(item, pulled);
        } else {
            progress++;
            EXPECT_CONTAINS(item, "\"digest\":\"sha256:");
            EXPECT_CONTAINS(item, "\"total\":");
        }
        berth_string_free(item);
        item = NULL;
    }
    EXPECT_STATUS(r, BERTH_END);
    EXPECT(complete);
    EXPECT(progress > 0);
    EXPECT_OK(berth_stream_close(p));
    printf("pull: %d progress items, then complete\n", progress);

    if (EXPECT_OK(berth_runtime_find_images(&s, rt, pulled))) {
        EXPECT_CONTAINS(s, pulled);
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
    while ((r = berth_stream_next(&item, p, LONG_MS)) == BERTH_OK) {
        EXPECT(strstr(item, "\"complete\"") == NULL);
        berth_string_free(item);
    }
    EXPECT_STATUS(r, BERTH_ERR_NOT_FOUND);
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

    /* Export the pulled image, remove it, import it back. */
    char dir[] = "/tmp/berth-ctest-XXXXXX", path[600];
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/export.oci.tar", dir);
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
    unlink(path);
    rmdir(dir);
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
    char filter[] = "[\"topic==\\\"/no/such/topic\\\"\"]";
    REQUIRE_OK(berth_runtime_events(&w.stream, rt, filter));
    REQUIRE(pthread_create(&t, NULL, wait_on_stream, &w) == 0);
    sleep_ms(300);
    EXPECT_OK(berth_stream_close(w.stream));
    pthread_join(t, NULL);
    EXPECT_STATUS(w.status, BERTH_ERR_CANCELLED);

    char name[128];
    berth_container c = run(name, sizeof name, "[\"/bin/sleep\",\"600\"]");
    REQUIRE_OK(berth_container_exec(&w.exec, c, "{\"args\":[\"/bin/sleep\",\"600\"]}"));
    REQUIRE(pthread_create(&t, NULL, wait_on_exec, &w) == 0);
    sleep_ms(300);
    EXPECT_OK(berth_exec_kill(w.exec, 9));
    pthread_join(t, NULL);
    EXPECT_OK(w.status); /* the exit came */
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

/* Deletes whatever container of this run is left (after a failed check). */
static void cleanup(void) {
    char *list = NULL;
    if (berth_runtime_find_containers(&list, rt, prefix) != BERTH_OK) return;
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

int main(int argc, char **argv) {
    char endpoint[2048];
    if (argc > 1) {
        snprintf(endpoint, sizeof endpoint, "%s", argv[1]);
    } else {
        const char *sock = getenv("BERTH_TEST_CONTAINERD");
        if (!sock || !*sock) {
            fprintf(stderr, "usage: %s containerd://SOCK?namespace=NS&runc_root=DIR (or set BERTH_TEST_CONTAINERD)\n", argv[0]);
            return 2;
        }
        const char *root = env_or("BERTH_TEST_RUNC_ROOT", "");
        snprintf(endpoint, sizeof endpoint, "containerd://%s?namespace=%s%s%s", sock, env_or("BERTH_TEST_NAMESPACE", "default"),
                 *root ? "&runc_root=" : "", root);
    }
    image = env_or("BERTH_TEST_IMAGE", "example.com/busybox:latest");
    snprintf(prefix, sizeof prefix, "ctest-%d", (int)getpid());
    printf("endpoint %s, image %s\n", endpoint, image);

    REQUIRE_OK(berth_runtime_open(&rt, endpoint, "{\"timeout_ms\": 120000}"));
    char *info = NULL;
    if (EXPECT_OK(berth_runtime_info(&info, rt))) {
        EXPECT_CONTAINS(info, "\"kind\":\"containerd\"");
        berth_string_free(info);
    }

    test_run_and_filesystem();
    test_exec();
    test_stop_and_delete();
    test_list_and_find();
    test_images();
    test_snapshots();
    test_close_wakes_waiters();

    cleanup();
    EXPECT_OK(berth_runtime_close(rt));
    return check_summary("test_containerd");
}
