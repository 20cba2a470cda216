/* sg__replace_file: the name names the new file, whole, once it returns (the old one is moved
 * aside first, so for an instant the name is free: ext4 then starts no writeback inside the
 * rename), the file it replaced is freed beside the caller and nothing of it is left behind;
 * small files and files with another link end as after plain rename(2), and a failed rename puts
 * the old file back under its name. */
#include "sg_test.h"

#include "core/writeback.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file of n bytes, every byte v. */
static void fill(const char *path, size_t n, int v) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  char buf[4096];
  memset(buf, v, sizeof buf);
  for (size_t k = 0; k < n; k += sizeof buf)
    assert_int_equal(fwrite(buf, 1, n - k < sizeof buf ? n - k : sizeof buf, f),
                     n - k < sizeof buf ? n - k : sizeof buf);
  assert_int_equal(fclose(f), 0);
}

static int first_byte(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  int c = fgetc(f);
  fclose(f);
  return c;
}

/* Entries of dir whose name contains part. */
static int count(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += strstr(e->d_name, part) != NULL;
  closedir(d);
  return n;
}

static void replaces_and_frees_beside(void **state) {
  (void)state;
  char dir[1024], to[1100], from[1100], other[1100];
  snprintf(dir, sizeof dir, "%s", sg_test_path("replace"));
  mkdir(dir, 0777);
  snprintf(to, sizeof to, "%s/big.bin", dir);
  snprintf(from, sizeof from, "%s/big.bin.partial", dir);
  /* A large file with no other link: replaced, the old one readable through an open stream
   * (it was not truncated under a reader), gone once the unlinks are waited for. */
  fill(to, 3u << 20, 'a');
  fill(from, 2u << 20, 'b');
  FILE *held = fopen(to, "rb");
  assert_non_null(held);
  assert_int_equal(sg__replace_file(from, to), 0);
  assert_int_equal(first_byte(to), 'b');
  struct stat sb;
  assert_int_equal(stat(to, &sb), 0);
  assert_int_equal(sb.st_size, 2u << 20);
  assert_int_equal(sb.st_nlink, 1);
  assert_int_equal(fgetc(held), 'a');
  fclose(held);
  sg__replace_wait();
  assert_int_equal(count(dir, ".old"), 0);
  assert_int_equal(count(dir, "big.bin"), 1);
  /* Another link to the replaced file: it stays, whole. */
  snprintf(other, sizeof other, "%s/other.bin", dir);
  assert_int_equal(link(to, other), 0);
  fill(from, 2u << 20, 'c');
  assert_int_equal(sg__replace_file(from, to), 0);
  sg__replace_wait();
  assert_int_equal(first_byte(to), 'c');
  assert_int_equal(first_byte(other), 'b');
  assert_int_equal(count(dir, ".old"), 0);
  /* A small file: a plain rename. */
  fill(to, 100, 'd');
  fill(from, 10, 'e');
  assert_int_equal(sg__replace_file(from, to), 0);
  assert_int_equal(first_byte(to), 'e');
  /* A rename that fails (no such source): -1 with its errno, the target untouched, no link
   * left behind. */
  fill(to, 2u << 20, 'f');
  errno = 0;
  assert_int_equal(sg__replace_file(from, to), -1);
  assert_int_equal(errno, ENOENT);
  sg__replace_wait();
  assert_int_equal(first_byte(to), 'f');
  assert_int_equal(stat(to, &sb), 0);
  assert_int_equal(sb.st_nlink, 1);
  assert_int_equal(count(dir, ".old"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(replaces_and_frees_beside),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
