/* Internal to stemgate: start the kernel writing a file's data to disk now. The delivered set is
 * fsync'ed once it is complete (output_set.c) and a zip before it is renamed (zip_write.c); if
 * the writeback of each file starts as it is written, those fsyncs wait only for the tail while
 * the pipeline keeps computing, instead of stalling on ~1 GB at the end. Advisory: Linux
 * sync_file_range(2) with SYNC_FILE_RANGE_WRITE (asynchronous, no durability implied), a no-op
 * elsewhere. len 0 means to the end of the file. */
#ifndef SG_CORE_WRITEBACK_H
#define SG_CORE_WRITEBACK_H

#include <stdint.h>

void sg__start_writeback(int fd, int64_t off, int64_t len);

/* rename(from, to), the file it replaces moved aside first and freed beside the caller. On ext4
 * a rename over an existing file costs the caller twice: auto_da_alloc starts the writeback of
 * the whole new file inside the call (its pages, then the block layer's throttle: 30-40 ms for a
 * 55 MB bus file, perf sched), and when the old file loses its last link its blocks are freed
 * inside the call, waiting for the journal and, mounted with discard, the device (55 ms). So the
 * old file is renamed aside (to + ".<pid>.<n>.old"), `from` renamed to a name that no longer
 * exists, and the aside name unlinked: on a thread of its own when that frees 1 MiB or more.
 * For that instant `to` is absent: a crash there leaves it missing, which the node cache reads
 * as a miss (every file it reuses is checked by hash), never a wrong file. Durability is the
 * caller's (the delivered set is fsync'ed). On failure the old file is put back. The unlinks
 * still running when the process exits are waited for (atexit), so no "*.old" file is left
 * behind. Returns rename's result (0, or -1 with errno). */
int sg__replace_file(const char *from, const char *to);
/* Waits for the unlinks sg__replace_file started (what the atexit handler does). */
void sg__replace_wait(void);

#endif
