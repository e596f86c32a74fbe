// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Stat every entry of a directory, a buffer at a time: one getdents64()
 * and a newfstatat() per entry in one anycall(). Call again until count is
 * 0. When the buffer holds more than STAT_WALKER_MAX entries, the directory
 * is moved back (lseek to the last entry's d_off) so nothing is lost.
 */
#include <linux/fcntl.h>
#include <linux/errno.h>
#include <linux/stat.h>
#include "../anycall.bpf.h"
#include "stat_walker.h"

char LICENSE[] SEC("license") = "GPL";

/* The fixed part of struct linux_dirent64 */
struct dirent_head {
	__u64 d_ino;
	__s64 d_off;
	__u16 d_reclen;
	__u8 d_type;
	char name[3];	/* enough to tell "." and ".." */
} __attribute__((packed));

#define NAME_OFFSET 19	/* offsetof(struct linux_dirent64, d_name) */
#define STAT_SIZE 144	/* sizeof(struct stat) on x86_64 */

struct walk_state {
	struct stat_walker_ctx *ctx;
	__u64 pos;
	__u64 len;
	__s64 last_off;
	long err;
};

static int is_dot_or_dotdot(const char *n)
{
	return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0));
}

static long walk_one(__u64 i, void *data)
{
	struct walk_state *st = data;
	struct stat_walker_ctx *ctx = st->ctx;
	struct dirent_head head;
	__u64 at = ctx->dents + st->pos;
	__u64 k = ctx->count;
	long ret;

	if (st->pos >= st->len)
		return 1;
	if (k >= STAT_WALKER_MAX) {
		/* Give the rest back to the next call. */
		ret = anycall_syscall(__NR_lseek, ctx->dirfd, st->last_off,
				      0 /* SEEK_SET */);
		if (ret < 0)
			st->err = ret;
		return 1;
	}
	ret = anycall_read_user(&head, at);
	if (ret < 0 || head.d_reclen < NAME_OFFSET) {
		st->err = ret < 0 ? ret : -EIO;
		return 1;
	}
	st->pos += head.d_reclen;
	st->last_off = head.d_off;
	if (is_dot_or_dotdot(head.name))
		return 0;
	ctx->name_off[k] = at + NAME_OFFSET - ctx->dents;
	ctx->result[k] = anycall_syscall(__NR_newfstatat, ctx->dirfd,
					 at + NAME_OFFSET,
					 ctx->stats + k * STAT_SIZE,
					 AT_SYMLINK_NOFOLLOW);
	ctx->count = k + 1;
	return 0;
}

ANYCALL_PROG
int stat_walker(struct stat_walker_ctx *ctx)
{
	struct walk_state st = { .ctx = ctx };
	long n;

	ctx->count = 0;
	n = ANYCALL_TRY(anycall_syscall(__NR_getdents64, ctx->dirfd,
					ctx->dents, ctx->dents_size));
	st.len = n;
	/* Each entry takes at least 24 bytes; 3 more for "." and "..". */
	bpf_loop(STAT_WALKER_MAX + 3, walk_one, &st, 0);
	if (st.err)
		return st.err;
	return ctx->count;
}
