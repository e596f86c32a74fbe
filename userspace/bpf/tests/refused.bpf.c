// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* A program the verifier must refuse: it indexes the stack without bounds. */
#include "../anycall.bpf.h"

char LICENSE[] SEC("license") = "GPL";

ANYCALL_PROG
int refused(__u64 *ctx)
{
	char buf[8] = {};

	return buf[ctx[0]];
}
