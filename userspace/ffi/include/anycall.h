/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * anycall.h - libanycall: run many system calls for the price of one
 * user/kernel transition.
 *
 * Link with `pkg-config --cflags --libs anycall` (add --static for the
 * static library). Functions returning int or long give a negative errno
 * on failure; those returning a pointer give NULL and set errno. Either
 * way anycall_last_error() then says what went wrong (for a program the
 * verifier refused, with the verifier's log).
 */
#ifndef ANYCALL_H
#define ANYCALL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong in this thread's last failed call, or "". */
const char *anycall_last_error(void);

/* 1 when the running kernel has anycall() and its kfunc, else 0. */
int anycall_supported(void);

/* --- Programs written in C (see anycall.bpf.h) --------------------------- */

struct anycall_program;

/*
 * Loads program @name (NULL: the first) from the ELF object at @path, or
 * in memory, as a sleepable AnyCall program.
 */
struct anycall_program *anycall_program_open(const char *path, const char *name);
struct anycall_program *anycall_program_open_mem(const void *elf, size_t size,
						 const char *name);
/* Opens a program pinned in bpffs; pins one there. */
struct anycall_program *anycall_program_open_pinned(const char *path);
int anycall_program_pin(const struct anycall_program *prog, const char *path);
/* The program's fd, for anycall(2) or passing to another process. */
int anycall_program_fd(const struct anycall_program *prog);
/*
 * Runs it on @ctx (@size bytes, copied in and back): its return value. The
 * program makes system calls with the addresses, lengths and descriptors
 * it finds in @ctx: the caller answers for what they point at.
 */
long anycall_program_call(const struct anycall_program *prog, void *ctx, size_t size);
void anycall_program_free(struct anycall_program *prog);

/* --- Chains: system calls turned into a program at run time ------------- */

/* Where an argument comes from. */
enum anycall_arg_kind {
	ANYCALL_ARG_CONST,	/* value */
	ANYCALL_ARG_RESULT,	/* value: index of an earlier step */
	ANYCALL_ARG_VALUE,	/* value: a value slot */
};

struct anycall_arg {
	uint32_t kind;		/* enum anycall_arg_kind */
	uint64_t value;
};

#define ANYCALL_CONST(v) ((struct anycall_arg){ ANYCALL_ARG_CONST, (uint64_t)(int64_t)(v) })
#define ANYCALL_RESULT(step) ((struct anycall_arg){ ANYCALL_ARG_RESULT, (uint64_t)(step) })
#define ANYCALL_VALUE(slot) ((struct anycall_arg){ ANYCALL_ARG_VALUE, (uint64_t)(slot) })

/* Slots: filled for each run with anycall_chain_set_*(). */
enum anycall_slot_kind {
	ANYCALL_SLOT_VALUE,	/* a 64-bit value */
	ANYCALL_SLOT_PATH,	/* a NUL-terminated path */
	ANYCALL_SLOT_INPUT,	/* bytes the kernel reads */
	ANYCALL_SLOT_OUTPUT,	/* a buffer the kernel fills */
};

/* What a step does when its call fails. */
enum anycall_on_error {
	ANYCALL_STOP,		/* the run fails with its errno (default) */
	ANYCALL_CONTINUE,	/* go on with the next step */
	ANYCALL_GOTO,		/* go on with a later step */
};

struct anycall_chain_builder;
struct anycall_chain;

struct anycall_chain_builder *anycall_chain_builder_new(void);
void anycall_chain_builder_free(struct anycall_chain_builder *b);
/* A new slot: its index, or a negative errno. */
int anycall_chain_slot(struct anycall_chain_builder *b, enum anycall_slot_kind kind);

/* Steps: each returns the step's index, or a negative errno. */
int anycall_chain_openat(struct anycall_chain_builder *b, struct anycall_arg dirfd,
			 int path_slot, struct anycall_arg flags, struct anycall_arg mode);
/*
 * Closes ANYCALL_RESULT(an earlier anycall_chain_openat() step): loading
 * refuses a chain that closes one twice or from a loop the open is not in.
 * A constant or value is closed as given: the caller answers for it.
 */
int anycall_chain_close(struct anycall_chain_builder *b, struct anycall_arg fd);
int anycall_chain_read(struct anycall_chain_builder *b, struct anycall_arg fd, int out_slot);
int anycall_chain_pread64(struct anycall_chain_builder *b, struct anycall_arg fd,
			  int out_slot, struct anycall_arg offset);
int anycall_chain_write(struct anycall_chain_builder *b, struct anycall_arg fd, int in_slot);
int anycall_chain_pwrite64(struct anycall_chain_builder *b, struct anycall_arg fd,
			   int in_slot, struct anycall_arg offset);
int anycall_chain_fstat(struct anycall_chain_builder *b, struct anycall_arg fd, int out_slot);
int anycall_chain_newfstatat(struct anycall_chain_builder *b, struct anycall_arg dirfd,
			     int path_slot, int out_slot, struct anycall_arg flags);
int anycall_chain_lseek(struct anycall_chain_builder *b, struct anycall_arg fd,
			struct anycall_arg offset, struct anycall_arg whence);
int anycall_chain_getdents64(struct anycall_chain_builder *b, struct anycall_arg fd, int out_slot);
int anycall_chain_fsync(struct anycall_chain_builder *b, struct anycall_arg fd);
/* Any system call; the caller answers for what its arguments point at. */
int anycall_chain_syscall(struct anycall_chain_builder *b, long nr,
			  const struct anycall_arg *args, unsigned int nargs);
/* Sets a step's policy; @target is the later step for ANYCALL_GOTO. */
int anycall_chain_on_error(struct anycall_chain_builder *b, int step,
			   enum anycall_on_error policy, int target);

/* Checks, generates and loads the chain; frees @b in any case. */
struct anycall_chain *anycall_chain_load(struct anycall_chain_builder *b);
/* Bind slots; the memory must stay valid while runs use it. */
int anycall_chain_set_value(struct anycall_chain *c, int slot, uint64_t value);
int anycall_chain_set_path(struct anycall_chain *c, int slot, const char *path);
int anycall_chain_set_input(struct anycall_chain *c, int slot, const void *data, size_t size);
int anycall_chain_set_output(struct anycall_chain *c, int slot, void *buf, size_t size);
/*
 * One anycall(): 0 when the chain ran to its end, else the negative errno
 * of the step that stopped it (anycall_chain_failed_step() says which).
 */
long anycall_chain_run(struct anycall_chain *c);
/*
 * A step's result in the last run (INT64_MIN: it did not run), also when a
 * step stopped it: the steps before it (e.g. an fd to close) and the
 * failing step's negative errno.
 */
int64_t anycall_chain_result(const struct anycall_chain *c, int step);
/* The step that stopped the last run, or -1. */
int anycall_chain_failed_step(const struct anycall_chain *c);
void anycall_chain_free(struct anycall_chain *c);

/* --- Batches: one program for lists of calls of any shape ---------------- */

struct anycall_call {
	long nr;
	uint64_t args[6];
	/*
	 * per argument: 0 the constant in args[], k the result of call k - 1,
	 * which must be an earlier call (anything else is refused with
	 * -EINVAL). As wide as args[], so that no C integer a caller computes
	 * is truncated into a reference to another call.
	 */
	uint64_t from[6];
	uint8_t continue_on_error;
};

struct anycall_batch;

struct anycall_batch *anycall_batch_load(size_t capacity);
/*
 * Runs @n calls in one anycall(), results into @results (n entries):
 * 0, or the negative errno of the call that stopped the batch. Then
 * @results has the results of the calls before it (e.g. an fd to close),
 * its negative errno, and INT64_MIN for the calls that did not run.
 */
long anycall_batch_run(const struct anycall_batch *batch, const struct anycall_call *calls,
		       size_t n, int64_t *results);
void anycall_batch_free(struct anycall_batch *batch);

#ifdef __cplusplus
}
#endif

#endif /* ANYCALL_H */
