// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of scripts/trace-call.sh: make one kind of call over and over,
 * so that gdb can catch one of them and follow it instruction by
 * instruction.
 *
 * Usage: loop OBJECT PROGRAM   (a program of OBJECT, run by anycall())
 *        loop OBJECT direct    (getppid(), directly)
 *        loop OBJECT nosys     (a direct call with no such number)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

/* The context of anycall_bench's loop programs: 4 calls of number 600. */
struct loop_ctx {
	__u32 n;
	__u32 nr;
};

int main(int argc, char **argv)
{
	struct loop_ctx ctx = { .n = 4, .nr = 600 };
	struct bpf_object *obj;
	long nr = -1;
	int fd = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT PROGRAM|direct|nosys\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[2], "direct")) {
		nr = __NR_getppid;
	} else if (!strcmp(argv[2], "nosys")) {
		nr = 600;
	} else {
		obj = bpf_object__open_file(argv[1], NULL);
		if (!obj || bpf_object__load(obj)) {
			fprintf(stderr, "loop: cannot load %s\n", argv[1]);
			return 1;
		}
		fd = bpf_program__fd(bpf_object__find_program_by_name(obj, argv[2]));
		if (fd < 0) {
			fprintf(stderr, "loop: %s has no program %s\n", argv[1], argv[2]);
			return 1;
		}
	}
	printf("loop: ready\n");
	fflush(stdout);
	for (;;) {
		if (fd < 0)
			syscall(nr);
		else
			syscall(__NR_anycall, fd, &ctx, sizeof(ctx), 0);
	}
}
