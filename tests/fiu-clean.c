/*
 * Runs a command with no failure injected: tests/80-faults.t and
 * tests/85-kill.t give it to zdd-switch as --nginx, so that the faults
 * and kills meant for zdd-switch do not reach the nginx it starts
 * (nginx's own reaction to a failing write is not what is tested).  It
 * is linked statically, so the preloaded libraries never load into it,
 * and it drops them from the environment before it runs the real program
 * named in FIU_CLEAN_EXEC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	const char *prog = getenv("FIU_CLEAN_EXEC");

	(void)argc;
	if (prog == NULL) {
		fputs("fiu-clean: FIU_CLEAN_EXEC is not set\n", stderr);
		return 127;
	}
	unsetenv("LD_PRELOAD");
	unsetenv("FIU_ENABLE");
	unsetenv("FIU_CTRL_FIFO");
	unsetenv("ZDD_KILL_AT");
	unsetenv("ZDD_KILL_COUNT");
	argv[0] = (char *)prog;
	execvp(prog, argv);
	perror(prog);
	return 127;
}
