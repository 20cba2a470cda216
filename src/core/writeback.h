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

/* rename(from, to), the file it replaces freed on a thread of its own. On ext4 a rename over
 * the last link of a large file frees its blocks inside the call, waiting for the journal (and,
 * mounted with discard, the device): 55 ms for a 55 MB cache file, in the middle of a
 * re-render. So a large replaced file (1 MiB or more, no other link) gets a second link first,
 * the rename stays atomic and only drops a link, and that link is unlinked beside the caller.
 * The unlinks still running when the process exits are waited for (atexit), so no "*.old" file
 * is left behind. Returns rename's result (0, or -1 with errno). */
int sg__replace_file(const char *from, const char *to);
/* Waits for the unlinks sg__replace_file started (what the atexit handler does). */
void sg__replace_wait(void);

#endif
