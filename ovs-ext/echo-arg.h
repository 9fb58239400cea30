/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ECHO_ARG_H
#define OVS_EXT_ECHO_ARG_H 1

/* Echoing what the user gave in a message.
 *
 * Errors quote the argument or option value they refuse, so that the user
 * sees what was wrong ("invalid --mtu \"abc\": ...").  Such text can be of
 * any length (a 100 kB ovs-appctl argument, an Interface option), so every
 * message that echoes it goes through echo_arg(): at most ECHO_ARG_MAX
 * bytes of it, cut at a UTF-8 character boundary (replies and logs stay
 * valid UTF-8) and followed by "..." when cut.
 *
 * Usage:
 *
 *     struct echo_buf b;
 *
 *     *errp = xasprintf("no such function \"%s\"", echo_arg(spec, &b));
 *
 * A message that echoes two arguments uses two buffers. */

#define ECHO_ARG_MAX 64

struct echo_buf {
    char s[ECHO_ARG_MAX + sizeof "..."];
};

/* Returns 'arg' itself if it is at most ECHO_ARG_MAX bytes long, else its
 * beginning followed by "...", stored in 'b'.  Valid while both 'arg' and
 * 'b' are. */
const char *echo_arg(const char *arg, struct echo_buf *b);

#endif /* ovs-ext/echo-arg.h */
