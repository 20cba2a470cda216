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

#endif
