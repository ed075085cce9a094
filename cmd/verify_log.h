/* kezek verify-log: an independent monitor of the queue's transparency
 * logs (verify_log.c; docs/transparency.md). */
#ifndef KEZEK_VERIFY_LOG_H
#define KEZEK_VERIFY_LOG_H

/* argv: the command's arguments (after "verify-log"); the exit status. */
int cmd_verify_log(int argc, char **argv);

#endif
