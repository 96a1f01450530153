/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cpu.c: runs one command RUNS times for mailsh's benchmarks (bench/run)
 * and prints what each run cost.  Not for anything else.
 *
 *     cpu RUNS INPUT COMMAND [ARG...]
 *
 * Each run: COMMAND with standard input from the file INPUT, standard
 * output and error to /dev/null, started directly (no shell, so no
 * shell's CPU time is counted).  Prints one line per run:
 *
 *     WALL_S USER_S SYS_S MAXRSS_KIB EXIT
 *
 * wall time from CLOCK_MONOTONIC around fork..wait4, user and system
 * CPU time and peak RSS from the child's struct rusage (wait4), in
 * microseconds, not the 10 ms steps of /usr/bin/time.
 *
 * Build: cc -O2 -o cpu cpu.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: cpu RUNS INPUT COMMAND [ARG...]\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	for (int i = 0; i < runs; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid_t pid = fork();
		if (pid < 0) {
			perror("cpu: fork");
			return 1;
		}
		if (pid == 0) {
			int in = open(argv[2], O_RDONLY);
			int null = open("/dev/null", O_WRONLY);
			if (in < 0 || null < 0) {
				perror("cpu: open");
				_exit(127);
			}
			dup2(in, 0);
			dup2(null, 1);
			dup2(null, 2);
			execvp(argv[3], argv + 3);
			_exit(127);
		}
		int st;
		struct rusage ru;
		if (wait4(pid, &st, 0, &ru) < 0) {
			perror("cpu: wait4");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double wall = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%.6f %.6f %.6f %ld %d\n", wall, tv_s(ru.ru_utime),
		    tv_s(ru.ru_stime), ru.ru_maxrss,
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		fflush(stdout);
	}
	return 0;
}
