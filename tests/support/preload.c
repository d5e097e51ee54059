/*
 * An LD_PRELOAD shim for the daemon tests (tests/faults/mod.rs builds it with cc):
 * two things a test machine cannot otherwise do to a real kernel.
 *
 * - DAAS_SHIM_FSYNC_MS=N: fsync(2) and fdatasync(2) take N ms longer, like a tired
 *   SD card, so a test can show that a slow disk never delays a press.
 * - DAAS_SHIM_SYNC_FILE=PATH: adjtimex(2), ntp_adjtime(3) and clock_adjtime(2) report
 *   the wall clock synchronised while PATH holds "1", not synchronised otherwise
 *   (STA_UNSYNC, TIME_ERROR), as the kernel does before and after an NTP client has
 *   disciplined the clock. This machine's kernel never reports a sync (no NTP client
 *   runs), so without the shim the "clock becomes right" step cannot happen here.
 *
 * Everything else goes to the real functions. libfaketime (Debian's faketime) moves
 * the wall clock itself; the two are preloaded together.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

static void slow_disk(void) {
    const char *ms = getenv("DAAS_SHIM_FSYNC_MS");
    if (ms == NULL) return;
    long n = strtol(ms, NULL, 10);
    struct timespec t = {n / 1000, (n % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = dlsym(RTLD_NEXT, "fsync");
    slow_disk();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = dlsym(RTLD_NEXT, "fdatasync");
    slow_disk();
    return real(fd);
}

/* -1: no override; 0: not synchronised; 1: synchronised. */
static int synced(void) {
    const char *path = getenv("DAAS_SHIM_SYNC_FILE");
    if (path == NULL) return -1;
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    int c = fgetc(f);
    fclose(f);
    return c == '1';
}

static int report(struct timex *buf, int result) {
    int s = synced();
    if (s < 0 || result < 0) return result;
    if (s) {
        buf->status &= ~STA_UNSYNC;
        buf->maxerror = 16000;
        return TIME_OK;
    }
    buf->status |= STA_UNSYNC;
    return TIME_ERROR;
}

int adjtimex(struct timex *buf) {
    static int (*real)(struct timex *);
    if (!real) real = dlsym(RTLD_NEXT, "adjtimex");
    return report(buf, real(buf));
}

int ntp_adjtime(struct timex *buf) {
    static int (*real)(struct timex *);
    if (!real) real = dlsym(RTLD_NEXT, "ntp_adjtime");
    return report(buf, real(buf));
}

int clock_adjtime(clockid_t clock, struct timex *buf) {
    static int (*real)(clockid_t, struct timex *);
    if (!real) real = dlsym(RTLD_NEXT, "clock_adjtime");
    return report(buf, real(clock, buf));
}
