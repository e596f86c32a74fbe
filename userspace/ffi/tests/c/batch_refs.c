// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * batch_refs.c: a batch written in C as issue 13 wrote it, 100 files times
 * open, read and close with `from = 3 * i + 1`, whose references past call
 * 255 a uint8_t field wrapped (call 256 became "the constant 0": read(0),
 * close(0)); and references no call can have, which must be refused rather
 * than truncated into another call. Run by tests/guest_c.rs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "anycall.h"

#define FILES 100
#define CALLS (3 * FILES)

static char *msg;
static size_t msg_size;

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msg_size, fmt, ap);
	va_end(ap);
	return 1;
}

static struct anycall_call calls[CALLS];
static int64_t results[CALLS];
static char paths[FILES][256], bufs[FILES][64];

static int run_300(struct anycall_batch *batch, const char *dir)
{
	struct stat in_before, in_after;
	char want[64];
	long ret;
	int i;

	if (fstat(0, &in_before))
		return fail("fstat(0): %s", strerror(errno));
	for (i = 0; i < FILES; i++) {
		int fd;

		snprintf(paths[i], sizeof(paths[i]), "%s/f%d", dir, i);
		fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dprintf(fd, "file %d\n", i) < 0 || close(fd))
			return fail("writing %s: %s", paths[i], strerror(errno));
	}
	memset(calls, 0, sizeof(calls));
	for (i = 0; i < FILES; i++) {
		struct anycall_call *op = &calls[3 * i], *rd = op + 1, *cl = op + 2;

		op->nr = SYS_openat;
		op->args[0] = (uint64_t)(int64_t)AT_FDCWD;
		op->args[1] = (uintptr_t)paths[i];
		op->args[2] = O_RDONLY | O_CLOEXEC;
		rd->nr = SYS_read;
		rd->from[0] = 3 * i + 1; /* the fd call 3 * i opened */
		rd->args[1] = (uintptr_t)bufs[i];
		rd->args[2] = sizeof(bufs[i]);
		cl->nr = SYS_close;
		cl->from[0] = 3 * i + 1;
	}
	ret = anycall_batch_run(batch, calls, CALLS, results);
	if (ret)
		return fail("anycall_batch_run: %ld: %s", ret, anycall_last_error());
	for (i = 0; i < FILES; i++) {
		int64_t n = results[3 * i + 1];
		int len = snprintf(want, sizeof(want), "file %d\n", i);

		if (n != len || memcmp(bufs[i], want, (size_t)len))
			return fail("file %d (calls %d-%d): read gave %lld bytes, \"%.*s\"", i,
				    3 * i, 3 * i + 2, (long long)n, n > 0 ? (int)n : 0, bufs[i]);
		if (results[3 * i + 2])
			return fail("file %d: close gave %lld", i, (long long)results[3 * i + 2]);
	}
	if (fstat(0, &in_after))
		return fail("the batch closed standard input: fstat(0): %s", strerror(errno));
	if (in_before.st_dev != in_after.st_dev || in_before.st_ino != in_after.st_ino)
		return fail("standard input is another file after the batch");
	for (i = 0; i < FILES; i++)
		unlink(paths[i]);
	return 0;
}

/* Call 1 closes with from[0] = @from: refused, with this message, nothing run. */
static int refused(struct anycall_batch *batch, uint64_t from, const char *names)
{
	char want[256];
	long ret;

	memset(calls, 0, 2 * sizeof(calls[0]));
	calls[0].nr = SYS_openat;
	calls[0].args[0] = (uint64_t)(int64_t)AT_FDCWD;
	calls[0].args[1] = (uintptr_t)"/dev/null";
	calls[0].args[2] = O_RDONLY | O_CLOEXEC;
	calls[1].nr = SYS_close;
	calls[1].from[0] = from;
	results[0] = results[1] = 12345;
	ret = anycall_batch_run(batch, calls, 2, results);
	snprintf(want, sizeof(want),
		 "call 1: from[0] = %llu names call %s, which is not an earlier call "
		 "(from[j] = k + 1 takes the result of call k < 1, 0 the constant in args[j])",
		 (unsigned long long)from, names);
	if (ret != -EINVAL)
		return fail("from[0] = %llu: anycall_batch_run gave %ld, results %lld %lld",
			    (unsigned long long)from, ret, (long long)results[0],
			    (long long)results[1]);
	if (strcmp(anycall_last_error(), want))
		return fail("from[0] = %llu: the message is \"%s\", not \"%s\"",
			    (unsigned long long)from, anycall_last_error(), want);
	if (results[0] != 12345 || results[1] != 12345)
		return fail("from[0] = %llu: refused, but results were written",
			    (unsigned long long)from);
	return 0;
}

int anycall_c_test_batch_refs(const char *dir, char *out, size_t out_size)
{
	struct anycall_batch *batch;
	int i = 21845, err;

	msg = out;
	msg_size = out_size;
	batch = anycall_batch_load(CALLS);
	if (!batch)
		return fail("anycall_batch_load: %s", anycall_last_error());
	err = run_300(batch, dir);
	/* 3 * 21845 + 2: 65537, which a uint16_t made call 0. */
	if (!err)
		err = refused(batch, 3 * i + 2, "65536");
	/* An index computed as -1 in C. */
	if (!err)
		err = refused(batch, i - i - 1, "18446744073709551614");
	/* The call itself. */
	if (!err)
		err = refused(batch, 2, "1");
	anycall_batch_free(batch);
	return err;
}
