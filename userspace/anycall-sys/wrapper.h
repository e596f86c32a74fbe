/* What anycall-sys binds: the uapi of the AnyCall series. */
#include <asm/unistd.h>
#include <linux/anycall.h>
#include <linux/bpf.h>
