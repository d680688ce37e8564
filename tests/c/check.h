/*
 * check.h: the tiny assertion kit of berth's C tests (tests/c/run.sh builds them).
 *
 *   REQUIRE_STATUS(call, want)  the call must return `want`, else the test stops here
 *   EXPECT_STATUS(call, want)   the same, but the test goes on (and fails at the end)
 *   REQUIRE(cond) / EXPECT(cond)
 *
 * A failure prints file:line, the call, the status it got and the one it wanted (by
 * name, from berth_status_string), and berth_last_error_message() of this thread.
 * EXPECT_* are for checks after which the test can still run safely (everything it
 * needs later is set up either way); a test with failed EXPECTs exits 1 at its end
 * through check_summary(). Both kinds are safe to use from several threads.
 */
#ifndef BERTH_TEST_CHECK_H
#define BERTH_TEST_CHECK_H

#include <berth.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long check_count;
static unsigned long check_failures;

static inline void check_passed(void) {
    pthread_mutex_lock(&check_lock);
    check_count++;
    pthread_mutex_unlock(&check_lock);
}

static inline void check_failed(const char *file, int line, const char *what, int fatal) {
    pthread_mutex_lock(&check_lock);
    check_count++;
    check_failures++;
    fprintf(stderr, "%s:%d: FAIL: %s\n    last error on this thread: %s: %s\n", file, line, what,
            berth_status_string(berth_last_error_status()), berth_last_error_message());
    fflush(stderr);
    pthread_mutex_unlock(&check_lock);
    if (fatal) exit(1);
}

/* Returns 1 when `got == want`; else reports (and exits when `fatal`) and returns 0. */
static inline int check_status(const char *file, int line, const char *call, berth_status got,
                        berth_status want, int fatal) {
    char what[1024];
    if (got == want) {
        check_passed();
        return 1;
    }
    snprintf(what, sizeof what, "%s returned %s (%d), want %s (%d)", call,
             berth_status_string(got), (int)got, berth_status_string(want), (int)want);
    check_failed(file, line, what, fatal);
    return 0;
}

static inline int check_cond(const char *file, int line, const char *cond, int ok, int fatal) {
    if (ok) {
        check_passed();
        return 1;
    }
    check_failed(file, line, cond, fatal);
    return 0;
}

#define REQUIRE_STATUS(call, want) check_status(__FILE__, __LINE__, #call, (call), (want), 1)
#define EXPECT_STATUS(call, want) check_status(__FILE__, __LINE__, #call, (call), (want), 0)
#define REQUIRE_OK(call) REQUIRE_STATUS(call, BERTH_OK)
#define EXPECT_OK(call) EXPECT_STATUS(call, BERTH_OK)
#define REQUIRE(cond) check_cond(__FILE__, __LINE__, #cond, (cond) ? 1 : 0, 1)
#define EXPECT(cond) check_cond(__FILE__, __LINE__, #cond, (cond) ? 1 : 0, 0)

/* `s` is non-NULL and contains `needle`; prints `s` when it does not. */
#define EXPECT_CONTAINS(s, needle) expect_contains(__FILE__, __LINE__, #s, (s), (needle))
static inline int expect_contains(const char *file, int line, const char *expr, const char *s,
                           const char *needle) {
    char what[2048];
    if (s && strstr(s, needle)) {
        check_passed();
        return 1;
    }
    snprintf(what, sizeof what, "%s does not contain %s; it is: %.1500s", expr, needle,
             s ? s : "(NULL)");
    check_failed(file, line, what, 0);
    return 0;
}

#define EXPECT_STREQ(s, want) expect_streq(__FILE__, __LINE__, #s, (s), (want))
static inline int expect_streq(const char *file, int line, const char *expr, const char *s,
                        const char *want) {
    char what[2048];
    if (s && strcmp(s, want) == 0) {
        check_passed();
        return 1;
    }
    snprintf(what, sizeof what, "%s is \"%.900s\", want \"%.900s\"", expr, s ? s : "(NULL)", want);
    check_failed(file, line, what, 0);
    return 0;
}

/* Prints the count and returns the test's exit status. */
static inline int check_summary(const char *name) {
    pthread_mutex_lock(&check_lock);
    unsigned long n = check_count, failed = check_failures;
    pthread_mutex_unlock(&check_lock);
    printf("%s: %lu checks, %lu failed\n", name, n, failed);
    return failed ? 1 : 0;
}

/* The string value of the first "key" in a JSON document, copied into `out` ("" if
 * absent). Enough for the flat documents the tests look into; inline so that a test
 * that does not use it does not warn. */
static inline void json_str(const char *json, const char *key, char *out, size_t size) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = json ? strstr(json, pattern) : NULL;
    size_t n = 0;
    if (p)
        for (p += strlen(pattern); *p && *p != '"' && n + 1 < size; p++) out[n++] = *p;
    out[n] = '\0';
}

#endif /* BERTH_TEST_CHECK_H */
