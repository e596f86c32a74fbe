// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * load_program.c - load an AnyCall program written in C (read_file.bpf.c)
 * from its object file with libanycall and run it.
 *
 *	cc load_program.c $(pkg-config --cflags --libs anycall) -o load_program
 *	./load_program read_file.bpf.o FILE
 */
#include <anycall.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../bpf/examples/read_file.h"

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	struct read_file_ctx ctx;
	struct anycall_program *prog;
	long ret;
	FILE *f;
	size_t direct;
	static char expect[1 << 16];

	if (argc != 3) {
		fprintf(stderr, "usage: load_program read_file.bpf.o FILE\n");
		return 2;
	}
	/* usage: c-program */
	prog = anycall_program_open(argv[1], "read_file");
	if (!prog) {
		fprintf(stderr, "load_program: %s\n", anycall_last_error());
		return 1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = (uintptr_t)argv[2];
	ctx.buf = (uintptr_t)buf;
	ctx.buf_size = sizeof(buf);
	ret = anycall_program_call(prog, &ctx, sizeof(ctx));
	if (ret < 0) {
		fprintf(stderr, "load_program: %s\n", anycall_last_error());
		return 1;
	}
	printf("read_file returned %ld after %llu read() calls\n", ret,
	       (unsigned long long)ctx.reads);
	/* end usage */

	f = fopen(argv[2], "rb");
	direct = f ? fread(expect, 1, sizeof(expect), f) : 0;
	if (f)
		fclose(f);
	if ((size_t)ret != direct || memcmp(buf, expect, direct) != 0) {
		fprintf(stderr, "load_program: got %ld bytes, fread() %zu\n", ret, direct);
		return 1;
	}

	/* A missing file: the program's own error path. */
	ctx.path = (uintptr_t)"/nonexistent";
	ret = anycall_program_call(prog, &ctx, sizeof(ctx));
	if (ret != -ENOENT) {
		fprintf(stderr, "load_program: expected -ENOENT, got %ld\n", ret);
		return 1;
	}
	anycall_program_free(prog);

	/* A file that is not an object: a clear error, no crash. */
	if (anycall_program_open(argv[2], NULL) || errno != ENOEXEC) {
		fprintf(stderr, "load_program: opened a non-object\n");
		return 1;
	}
	printf("load_program: ok (%s)\n", anycall_last_error());
	return 0;
}
