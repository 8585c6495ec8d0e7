/* The mix of xtio-load (drive.c): the hiredis connections that load the server and check it. */
#ifndef XTIO_LOAD_DRIVE_H
#define XTIO_LOAD_DRIVE_H

#include "run.h"

/* Runs the mix on cfg->connections hiredis connections over cfg->threads threads, until the
 * request budget or the deadline is spent and every reply is in. */
void xtio_load_drive(struct xtio_load_run *run, struct xtio_load_stats *total);

#endif
