/* clock.h — the monotonic clock in milliseconds, for deadlines, backoff and rate limits. */
#ifndef SMC_CLOCK_H
#define SMC_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC (never jumps with the wall clock). */
int64_t clock_mono_ms(void);

#endif
