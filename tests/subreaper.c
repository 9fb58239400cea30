/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* subreaper: runs a command as a child subreaper and reaps every process
 * it adopts, so that daemons the command started and that exited do not
 * linger as zombies (OVS's test macros wait for "kill -0 PID" to fail,
 * which takes as long as the zombie exists).
 *
 * Usage: subreaper COMMAND [ARG...]
 * Exits with COMMAND's exit status (128 + signal if it was killed) once
 * COMMAND has exited; adopted processes still running then are left to
 * init, as they would have been without us. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
    pid_t child;
    int child_status = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
        fprintf(stderr, "%s: prctl(PR_SET_CHILD_SUBREAPER) failed (%s), "
                "running without it\n", argv[0], strerror(errno));
    }

    child = fork();
    if (child < 0) {
        fprintf(stderr, "%s: fork failed (%s)\n", argv[0], strerror(errno));
        return 2;
    } else if (!child) {
        execvp(argv[1], &argv[1]);
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
        _exit(127);
    }

    /* Reap everything that exits until the command itself has exited, then
     * whatever zombies are left without waiting for live processes. */
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);

        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;              /* ECHILD: nothing left. */
        }
        if (pid == child) {
            child_status = (WIFEXITED(status) ? WEXITSTATUS(status)
                            : 128 + WTERMSIG(status));
            break;
        }
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {
        continue;
    }
    return child_status;
}
