/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The checks of the unit-test programs (tests/test-esw-*.c): each failure
 * names the check and shows the values it compared.
 *
 * A failed check prints one line on stderr and exits with status 1:
 *
 *   tests/test-esw-cls.c:402: check failed: esw_cls_count(cls) == ref.n
 *       (17 = 0x11 vs. 18 = 0x12)
 *
 * (on one line): the file and line, the expression as written and, for a
 * comparison, the value of each side (values of 10 and more also in hex).
 * The testsuite logs that line under "stderr:" when a program fails.
 *
 *   CHECK(COND)                 COND is true: for conditions that have no
 *                               two sides to show (a pointer, a flag).
 *   CHECK_EQ(A, B), CHECK_NE, CHECK_LT, CHECK_LE, CHECK_GT, CHECK_GE
 *                               integer (enum, bool) comparisons.  Each
 *                               side is evaluated once and the two values
 *                               are compared as integers, whatever their
 *                               types: CHECK_LT(-1, 0u) holds (in C,
 *                               -1 < 0u does not).
 *   CHECK_PTR_EQ(A, B)          pointers (NULL included) are equal.
 *   CHECK_STREQ(A, B)           strings are equal: shows both, quoted.
 *   CHECK_MEMEQ(A, B, N)        N bytes are equal: shows the first
 *                               differing offset and the bytes from there.
 *   CHECK_FAIL(FORMAT, ...)     fails with a message of its own (for a
 *                               mismatch found by a loop, say).
 */

#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H 1

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define CHECK_PRINTF_(FMT, ARG0) __attribute__((format(printf, FMT, ARG0)))
#define CHECK_NORETURN_ __attribute__((noreturn))
#else
#define CHECK_PRINTF_(FMT, ARG0)
#define CHECK_NORETURN_
#endif

static inline void check_fail_(const char *file, int line,
                               const char *format, ...)
    CHECK_PRINTF_(3, 4) CHECK_NORETURN_;

static inline void
check_fail_(const char *file, int line, const char *format, ...)
{
    va_list args;

    fflush(stdout);
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

#define CHECK_FAIL(...) check_fail_(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(COND)                                                     \
    do {                                                                \
        if (!(COND)) {                                                  \
            CHECK_FAIL("check failed: %s", #COND);                      \
        }                                                               \
    } while (0)

/* An integer value as it prints: 'is_signed' says which member holds it.
 * "+ 0" applies the integer promotions, so that every signed type (and
 * every type narrower than int) selects a signed case. */
struct check_int_ {
    bool is_signed;
    intmax_t s;
    uintmax_t u;
};

#define CHECK_IS_SIGNED_(X)                                             \
    _Generic((X) + 0, int: true, long: true, long long: true,           \
             default: false)
#define CHECK_INT_(X)                                                   \
    ((struct check_int_) { CHECK_IS_SIGNED_(X), (intmax_t) (X),         \
                           (uintmax_t) (X) })

static inline const char *
check_int_format_(struct check_int_ v, char *buf, size_t size)
{
    if (v.is_signed && v.s < 10) {
        snprintf(buf, size, "%jd", v.s);
    } else if (!v.is_signed && v.u < 10) {
        snprintf(buf, size, "%ju", v.u);
    } else {
        uintmax_t u = v.is_signed ? (uintmax_t) v.s : v.u;

        snprintf(buf, size, "%ju = %#jx", u, u);
    }
    return buf;
}

static inline void CHECK_NORETURN_
check_fail_ints_(const char *file, int line, const char *expr,
                 struct check_int_ a, struct check_int_ b)
{
    char abuf[64], bbuf[64];

    check_fail_(file, line, "check failed: %s (%s vs. %s)", expr,
                check_int_format_(a, abuf, sizeof abuf),
                check_int_format_(b, bbuf, sizeof bbuf));
}

/* Compares 'a' and 'b' as the integers they are (so that -1 is less than
 * any unsigned value, whatever the types): returns -1, 0 or 1. */
static inline int
check_int_cmp_(struct check_int_ a, struct check_int_ b)
{
    bool a_neg = a.is_signed && a.s < 0;
    bool b_neg = b.is_signed && b.s < 0;

    if (a_neg || b_neg) {
        if (!b_neg) {
            return -1;
        } else if (!a_neg) {
            return 1;
        }
        return a.s < b.s ? -1 : a.s > b.s;
    } else {
        uintmax_t au = a.is_signed ? (uintmax_t) a.s : a.u;
        uintmax_t bu = b.is_signed ? (uintmax_t) b.s : b.u;

        return au < bu ? -1 : au > bu;
    }
}

/* 'EXPR' is the comparison as written, stringified by the caller before
 * its arguments are macro-expanded (so that "EINVAL" does not print as
 * "22").  Each side is evaluated once. */
#define CHECK_CMP_(A, OP, B, EXPR)                                      \
    do {                                                                \
        __typeof__(A) check_a_ = (A);                                   \
        __typeof__(B) check_b_ = (B);                                   \
        struct check_int_ check_ia_ = CHECK_INT_(check_a_);             \
        struct check_int_ check_ib_ = CHECK_INT_(check_b_);             \
        if (!(check_int_cmp_(check_ia_, check_ib_) OP 0)) {             \
            check_fail_ints_(__FILE__, __LINE__, EXPR, check_ia_,       \
                             check_ib_);                                \
        }                                                               \
    } while (0)

#define CHECK_EQ(A, B) CHECK_CMP_(A, ==, B, #A " == " #B)
#define CHECK_NE(A, B) CHECK_CMP_(A, !=, B, #A " != " #B)
#define CHECK_LT(A, B) CHECK_CMP_(A, <, B, #A " < " #B)
#define CHECK_LE(A, B) CHECK_CMP_(A, <=, B, #A " <= " #B)
#define CHECK_GT(A, B) CHECK_CMP_(A, >, B, #A " > " #B)
#define CHECK_GE(A, B) CHECK_CMP_(A, >=, B, #A " >= " #B)

#define CHECK_PTR_EQ(A, B)                                              \
    do {                                                                \
        const void *check_a_ = (A);                                     \
        const void *check_b_ = (B);                                     \
        if (check_a_ != check_b_) {                                     \
            CHECK_FAIL("check failed: %s == %s (%p vs. %p)", #A, #B,    \
                       check_a_, check_b_);                             \
        }                                                               \
    } while (0)

#define CHECK_STREQ(A, B)                                               \
    do {                                                                \
        const char *check_a_ = (A);                                     \
        const char *check_b_ = (B);                                     \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_)) {     \
            CHECK_FAIL("check failed: %s equals %s (\"%s\" vs. \"%s\")", \
                       #A, #B, check_a_ ? check_a_ : "(null)",          \
                       check_b_ ? check_b_ : "(null)");                 \
        }                                                               \
    } while (0)

/* Up to 16 bytes of 'p' from 'ofs' in hex, into 'buf'. */
static inline const char *
check_hex_(const void *p_, size_t ofs, size_t n, char *buf, size_t size)
{
    const uint8_t *p = p_;
    size_t end = ofs + 16 < n ? ofs + 16 : n;
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = ofs; i < end && len + 4 < size; i++) {
        len += snprintf(buf + len, size - len, "%s%02x",
                        i > ofs ? " " : "", p[i]);
    }
    if (end < n && len + 4 < size) {
        snprintf(buf + len, size - len, " ...");
    }
    return buf;
}

static inline void
check_memeq_(const char *file, int line, const char *a_expr,
             const char *b_expr, const void *a, const void *b, size_t n)
{
    const uint8_t *pa = a, *pb = b;
    char abuf[80], bbuf[80];
    size_t i;

    for (i = 0; i < n && pa[i] == pb[i]; i++) {
        continue;
    }
    if (i < n) {
        check_fail_(file, line, "check failed: %s equals %s (%zu bytes): "
                    "they differ from offset %zu: %s vs. %s",
                    a_expr, b_expr, n, i,
                    check_hex_(a, i, n, abuf, sizeof abuf),
                    check_hex_(b, i, n, bbuf, sizeof bbuf));
    }
}

#define CHECK_MEMEQ(A, B, N)                                            \
    check_memeq_(__FILE__, __LINE__, #A, #B, (A), (B), (N))

#endif /* tests/unit-check.h */
