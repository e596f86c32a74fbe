/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Context of read_file.bpf.c, shared with the callers. */
#ifndef READ_FILE_H
#define READ_FILE_H

#include <linux/types.h>

/* At most this many read() calls per file. */
#define READ_FILE_MAX_READS 64

struct read_file_ctx {
	__u64 path;	/* in: user pointer to a NUL-terminated path */
	__u64 buf;	/* in: user pointer to the buffer */
	__u64 buf_size;	/* in: its size */
	__u64 size;	/* out: bytes read */
	__u64 reads;	/* out: read() calls made, the last one returning 0 */
	__s64 truncated;	/* out: 1 when the buffer filled before end of file */
};

#endif
