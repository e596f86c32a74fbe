/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * anycall.bpf.h - for AnyCall programs written in C.
 *
 * Build with: clang -target bpf -O2 -g -c prog.bpf.c
 * (-g gives libbpf the BTF it needs for bpf_loop callbacks and kfuncs.)
 * Load with the anycall crate (Program), libanycall (anycall_program_open)
 * or `anycall run prog.bpf.o`.
 *
 * A program takes its context (a struct the caller passes to anycall()) and
 * issues system calls with anycall_syscall(nr, args...). Pointers to user
 * memory travel in the context as __u64; inner calls read and write the
 * caller's memory exactly as direct calls would.
 */
#ifndef __ANYCALL_BPF_H
#define __ANYCALL_BPF_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/unistd.h>
#include <bpf/bpf_helpers.h>

/* The kernel's entry for inner system calls (see anycall(2)). */
extern long bpf_anycall_syscall(__u64 nr, const __u64 *args,
				__u32 args__sz) __ksym;

/* The section libbpf and the anycall loaders expect. */
#define ANYCALL_PROG SEC("anycall")

static __always_inline long anycall_syscall6(__u64 nr, __u64 a0, __u64 a1,
					     __u64 a2, __u64 a3, __u64 a4,
					     __u64 a5)
{
	__u64 args[6] = { a0, a1, a2, a3, a4, a5 };

	return bpf_anycall_syscall(nr, args, sizeof(args));
}

#define __ANYCALL_ARG(x) ((__u64)(x))
#define __ANYCALL_PICK(_0, _1, _2, _3, _4, _5, _6, NAME, ...) NAME
#define __ANYCALL_0(nr) anycall_syscall6(nr, 0, 0, 0, 0, 0, 0)
#define __ANYCALL_1(nr, a) anycall_syscall6(nr, __ANYCALL_ARG(a), 0, 0, 0, 0, 0)
#define __ANYCALL_2(nr, a, b) \
	anycall_syscall6(nr, __ANYCALL_ARG(a), __ANYCALL_ARG(b), 0, 0, 0, 0)
#define __ANYCALL_3(nr, a, b, c) \
	anycall_syscall6(nr, __ANYCALL_ARG(a), __ANYCALL_ARG(b), \
			 __ANYCALL_ARG(c), 0, 0, 0)
#define __ANYCALL_4(nr, a, b, c, d) \
	anycall_syscall6(nr, __ANYCALL_ARG(a), __ANYCALL_ARG(b), \
			 __ANYCALL_ARG(c), __ANYCALL_ARG(d), 0, 0)
#define __ANYCALL_5(nr, a, b, c, d, e) \
	anycall_syscall6(nr, __ANYCALL_ARG(a), __ANYCALL_ARG(b), \
			 __ANYCALL_ARG(c), __ANYCALL_ARG(d), \
			 __ANYCALL_ARG(e), 0)
#define __ANYCALL_6(nr, a, b, c, d, e, f) \
	anycall_syscall6(nr, __ANYCALL_ARG(a), __ANYCALL_ARG(b), \
			 __ANYCALL_ARG(c), __ANYCALL_ARG(d), \
			 __ANYCALL_ARG(e), __ANYCALL_ARG(f))

/*
 * anycall_syscall(__NR_xxx, args...): one inner system call with up to six
 * arguments; returns its result, a negative errno on failure.
 */
#define anycall_syscall(...) \
	__ANYCALL_PICK(__VA_ARGS__, __ANYCALL_6, __ANYCALL_5, __ANYCALL_4, \
		       __ANYCALL_3, __ANYCALL_2, __ANYCALL_1, \
		       __ANYCALL_0)(__VA_ARGS__)

/*
 * ANYCALL_TRY(expr): evaluates an inner call and returns its errno from
 * the program when it failed; otherwise its value.
 *	long fd = ANYCALL_TRY(anycall_syscall(__NR_openat, ...));
 */
#define ANYCALL_TRY(expr) \
	({ \
		long __anycall_ret = (expr); \
		if (__anycall_ret < 0) \
			return __anycall_ret; \
		__anycall_ret; \
	})

/* A user pointer kept in the context, offset by @off bytes. */
#define anycall_user(ctx_field, off) ((__u64)(ctx_field) + (__u64)(off))

/*
 * anycall_read_user(&dst, user_addr): copies sizeof(dst) bytes of the
 * caller's memory into the program; 0 or a negative errno.
 */
#define anycall_read_user(dst, user_addr) \
	bpf_copy_from_user((dst), sizeof(*(dst)), (const void *)(user_addr))

#endif /* __ANYCALL_BPF_H */
