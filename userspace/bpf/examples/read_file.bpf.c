// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Read a whole file in one anycall(): openat, read until end of file or a
 * full buffer, close. Returns the bytes read, or the first error (-ENOENT
 * for a missing file) after closing what it opened.
 */
#include <linux/fcntl.h>
#include <linux/errno.h>
#include "../anycall.bpf.h"
#include "read_file.h"

char LICENSE[] SEC("license") = "GPL";

/* usage: read-file-bpf */
struct read_state {
	struct read_file_ctx *ctx;
	long fd;
	long err;
};

static long read_once(__u64 i, void *data)
{
	struct read_state *st = data;
	struct read_file_ctx *ctx = st->ctx;
	__u64 done = ctx->size, size = ctx->buf_size;
	long n;

	if (done >= size) {
		ctx->truncated = 1;
		return 1;
	}
	n = anycall_syscall(__NR_read, st->fd, anycall_user(ctx->buf, done),
			    size - done);
	ctx->reads = i + 1;
	if (n < 0) {
		st->err = n;
		return 1;
	}
	if (n == 0)
		return 1;
	ctx->size = done + n;
	return 0;
}

ANYCALL_PROG
int read_file(struct read_file_ctx *ctx)
{
	struct read_state st = { .ctx = ctx };

	ctx->size = 0;
	ctx->reads = 0;
	ctx->truncated = 0;
	st.fd = ANYCALL_TRY(anycall_syscall(__NR_openat, AT_FDCWD, ctx->path,
					    O_RDONLY | O_CLOEXEC));
	bpf_loop(READ_FILE_MAX_READS, read_once, &st, 0);
	anycall_syscall(__NR_close, st.fd);
	if (st.err)
		return st.err;
	return ctx->size;
}
/* end usage */
