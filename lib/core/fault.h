/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_FAULT_H
#define PORTCULLIS_FAULT_H

/*
 * Fault injection for the tests that prove every rollback: with
 * PORTCULLIS_FAIL_STEP=N in the environment, the N-th mutating step of a pull
 * (counted from 1 while armed) fails as if the kernel had refused it.
 * Disarmed, fault_point() only returns 0.  Rollback steps are never armed.
 *
 * With PORTCULLIS_KILL_STEP=N instead, the process kills itself with SIGKILL
 * at the N-th step, before doing it: what a hook killed at that point leaves
 * behind is what the next hook or gc must clean up (recover.h).
 */

void fault_arm(void);
void fault_disarm(void);
/* 0, or -EIO with "fault injected at step N (step)" recorded. */
int fault_point(const char *step);
/* A step that cannot fail, only be killed at (counted like the others). */
void fault_pass(const char *step);

#endif
