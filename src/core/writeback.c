/* See writeback.h. */
#if defined(__linux__)
#define _GNU_SOURCE /* sync_file_range */
#include <fcntl.h>
#endif

#include "writeback.h"

void sg__start_writeback(int fd, int64_t off, int64_t len) {
#if defined(__linux__)
  if (fd >= 0 && off >= 0 && len >= 0)
    (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
  (void)off;
  (void)len;
#endif
}
