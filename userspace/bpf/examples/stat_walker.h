/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Context of stat_walker.bpf.c, shared with the callers. */
#ifndef STAT_WALKER_H
#define STAT_WALKER_H

#include <linux/types.h>

/* Entries one call stats at most. */
#define STAT_WALKER_MAX 64

struct stat_walker_ctx {
	__s64 dirfd;	/* in: an open directory; its position advances */
	__u64 dents;	/* in: user pointer to a getdents64() buffer */
	__u64 dents_size;	/* in: its size */
	__u64 stats;	/* in: user pointer to STAT_WALKER_MAX struct stat */
	__u64 count;	/* out: entries stat'ed ("." and ".." skipped) */
	/* out: offset in dents of each entry's name, and its stat result */
	__u32 name_off[STAT_WALKER_MAX];
	__s64 result[STAT_WALKER_MAX];
};

#endif
