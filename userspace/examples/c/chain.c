// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * chain.c - libanycall's chain builder from C: open, read and close a file
 * in one anycall(), then check the bytes against a plain read().
 *
 *	cc chain.c $(pkg-config --cflags --libs anycall) -o chain
 *	./chain FILE
 */
#include <anycall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "chain: %s: %s\n", what, anycall_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	char buf[4096], direct[4096];
	struct anycall_chain_builder *b;
	struct anycall_chain *c;
	int path, out, fd, n, closed;
	ssize_t want;
	long ret;

	if (argc != 2) {
		fprintf(stderr, "usage: chain FILE\n");
		return 2;
	}
	if (!anycall_supported())
		return fail("this kernel has no AnyCall");

	/* usage: c-chain */
	b = anycall_chain_builder_new();
	path = anycall_chain_slot(b, ANYCALL_SLOT_PATH);
	out = anycall_chain_slot(b, ANYCALL_SLOT_OUTPUT);
	fd = anycall_chain_openat(b, ANYCALL_CONST(AT_FDCWD), path,
				  ANYCALL_CONST(O_RDONLY | O_CLOEXEC), ANYCALL_CONST(0));
	n = anycall_chain_read(b, ANYCALL_RESULT(fd), out);
	closed = anycall_chain_close(b, ANYCALL_RESULT(fd));
	c = anycall_chain_load(b);	/* frees b */
	if (!c)
		return fail("loading the chain");

	anycall_chain_set_path(c, path, argv[1]);
	anycall_chain_set_output(c, out, buf, sizeof(buf));
	ret = anycall_chain_run(c);	/* one system call for three */
	if (ret < 0) {
		fprintf(stderr, "chain: step %d failed: %s\n",
			anycall_chain_failed_step(c), strerror((int)-ret));
		anycall_chain_free(c);
		return 1;
	}
	printf("read %lld bytes in one anycall()\n",
	       (long long)anycall_chain_result(c, n));
	/* end usage */

	{
		int dfd = open(argv[1], O_RDONLY);

		want = dfd < 0 ? -1 : read(dfd, direct, sizeof(direct));
		if (dfd >= 0)
			close(dfd);
	}
	if (anycall_chain_result(c, n) != want ||
	    memcmp(buf, direct, (size_t)want) != 0 ||
	    anycall_chain_result(c, closed) != 0) {
		fprintf(stderr, "chain: the chain read something else than read()\n");
		return 1;
	}

	/* A missing file stops the chain at its first step. */
	anycall_chain_set_path(c, path, "/nonexistent");
	ret = anycall_chain_run(c);
	if (ret != -ENOENT || anycall_chain_failed_step(c) != fd ||
	    !strstr(anycall_last_error(), "step 0 (openat)")) {
		fprintf(stderr, "chain: expected ENOENT at step 0, got %ld (%s)\n",
			ret, anycall_last_error());
		return 1;
	}
	anycall_chain_free(c);
	printf("chain: ok\n");
	return 0;
}
