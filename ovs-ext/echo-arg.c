/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "echo-arg.h"

#include <string.h>

const char *
echo_arg(const char *arg, struct echo_buf *b)
{
    size_t len = strnlen(arg, ECHO_ARG_MAX + 1);

    if (len <= ECHO_ARG_MAX) {
        return arg;
    }

    /* Back off over UTF-8 continuation bytes (10xxxxxx) to the start of
     * the character that does not fit. */
    len = ECHO_ARG_MAX;
    while (len && ((unsigned char) arg[len] & 0xc0) == 0x80) {
        len--;
    }
    memcpy(b->s, arg, len);
    memcpy(b->s + len, "...", sizeof "...");
    return b->s;
}
