/*
 * unit_check.h
 *	  The check macro and counters the unit test programs share.
 */
#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H

#include <stdio.h>

static int	passed = 0;
static int	failed = 0;

/* Count a check; on failure print where and why */
#define CHECK(cond, ...) \
	do { \
		if (cond) passed++; \
		else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__); printf("\n"); } \
	} while (0)

#endif							/* UNIT_CHECK_H */
