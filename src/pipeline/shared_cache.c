/* The node cache shared between songs: content-addressed by the node key (cache.c), which
 * hashes everything that decides a node's bytes and rows (the engine version, the song-wide
 * inputs, the stem's spec part, the gate limits, the hashes of input files) and nothing about
 * where the song is written. So a stem that two variations share has one key, and is rendered
 * once; the other songs copy it in.
 *
 * Layout: DIR/<first two hex digits>/<key>/ holding record.json (the node record as the song
 * wrote it) and f0, f1 (its files, in the record's order). Writers are lock-free (as in git's
 * object store and ccache): an entry is assembled in DIR/tmp/<pid>-<n>-<thread>, its files
 * fsynced, then renamed to its address; rename(2) of a folder onto an existing non-empty folder
 * fails, so the first writer wins and the others drop their copy, and a reader sees no entry or
 * a whole one. Entries are never changed in place; a reader trusts one only after every file
 * hashes to its record, and moves a corrupted entry aside (a rename again) before removing it. */
#include "pipeline_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Atomic unsigned long tmp_seq;

static void entry_dir(const sg__run *r, const char key[65], char *out, size_t cap) {
  snprintf(out, cap, "%s/%.2s/%s", r->opt->cache_dir, key, key);
}

/* A private folder name under DIR/tmp: pid, a counter and the thread, so two processes and two
 * threads never share one. */
static void tmp_dir(const sg__run *r, const char *what, char *out, size_t cap) {
  unsigned long n = atomic_fetch_add(&tmp_seq, 1);
  snprintf(out, cap, "%s/tmp/%s-%ld-%lu-%lx", r->opt->cache_dir, what, (long)getpid(), n,
           (unsigned long)(uintptr_t)pthread_self());
}

static int fsync_path(const char *path, int dir) {
  int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Removes a folder of plain files (an entry or a temporary one). */
static void remove_flat(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char p[SG_MAX_PATH * 2 + 300];
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
      }
    closedir(d);
  }
  rmdir(dir);
}

/* Copies src to dst through a temporary name beside dst and a rename. */
static int copy_in(const char *src, const char *dst) {
  char tmp[SG_MAX_PATH * 2 + 64];
  snprintf(tmp, sizeof tmp, "%s.shared.%ld.%lu", dst, (long)getpid(),
           atomic_fetch_add(&tmp_seq, 1));
  if (sg__copy_file(src, tmp, NULL) != SG_OK)
    return -1;
  if (rename(tmp, dst) != 0) {
    remove(tmp);
    return -1;
  }
  return 0;
}

int sg__shared_fetch(const sg__run *r, const char key[65], const char *rec, const char *dest0) {
  if (!r->opt->cache_dir || !r->opt->cache_dir[0] || r->opt->force)
    return 0;
  char dir[SG_MAX_PATH + 160], erec[SG_MAX_PATH + 200];
  entry_dir(r, key, dir, sizeof dir);
  snprintf(erec, sizeof erec, "%s/record.json", dir);
  sg__node n;
  if (!sg__node_load(erec, key, NULL, 0, &n))
    return 0; /* no entry (or a partial one cannot exist: absent) */
  char efile[SG__NODE_FILES][SG_MAX_PATH + 220];
  const char *ef[SG__NODE_FILES];
  for (int i = 0; i < n.nf; ++i) {
    snprintf(efile[i], sizeof efile[i], "%s/f%d", dir, i);
    ef[i] = efile[i];
  }
  if (!sg__node_files_hold(&n, ef, n.nf)) {
    /* Corrupted (a disk error, an edit): aside under a private name, then removed; this song
     * renders the node and publishes a good entry. */
    char bad[SG_MAX_PATH + 160];
    tmp_dir(r, "bad", bad, sizeof bad);
    char tmproot[SG_MAX_PATH + 16];
    snprintf(tmproot, sizeof tmproot, "%s/tmp", r->opt->cache_dir);
    sg_mkdirs(tmproot, NULL);
    if (rename(dir, bad) == 0)
      remove_flat(bad);
    sg__node_free(&n);
    return 0;
  }
  /* Only files a node of this kind writes: the first where the caller says, the second the
   * dry node's MIDI file, under the work folder where the record names it. */
  const char *midi = sg__node_get_text(&n, "midi", "");
  int ok = n.nf >= 1 && n.nf <= 2 && (n.nf == 1 || (midi[0] && !strstr(midi, "..")));
  char mdest[SG_MAX_PATH + 160];
  if (ok && n.nf == 2)
    sg__join(mdest, sizeof mdest, r->work, midi);
  ok = ok && copy_in(ef[0], dest0) == 0;
  ok = ok && (n.nf == 1 || copy_in(ef[1], mdest) == 0);
  ok = ok && copy_in(erec, rec) == 0;
  sg__node_free(&n);
  return ok;
}

void sg__shared_publish(const sg__run *r, const char key[65], const char *rec,
                        const char *const *files, int nf) {
  if (!r->opt->cache_dir || !r->opt->cache_dir[0])
    return;
  char dir[SG_MAX_PATH + 160], probe[SG_MAX_PATH + 200];
  entry_dir(r, key, dir, sizeof dir);
  snprintf(probe, sizeof probe, "%s/record.json", dir);
  struct stat sb;
  if (stat(probe, &sb) == 0)
    return; /* published by an earlier song */
  char tmp[SG_MAX_PATH + 160], p[SG_MAX_PATH + 200];
  tmp_dir(r, "new", tmp, sizeof tmp);
  if (sg_mkdirs(tmp, NULL) != SG_OK)
    return;
  int ok = 1;
  for (int i = 0; ok && i < nf; ++i) {
    snprintf(p, sizeof p, "%s/f%d", tmp, i);
    ok = sg__copy_file(files[i], p, NULL) == SG_OK && fsync_path(p, 0) == 0;
  }
  snprintf(p, sizeof p, "%s/record.json", tmp);
  ok = ok && sg__copy_file(rec, p, NULL) == SG_OK && fsync_path(p, 0) == 0;
  ok = ok && fsync_path(tmp, 1) == 0;
  char parent[SG_MAX_PATH + 16];
  snprintf(parent, sizeof parent, "%s/%.2s", r->opt->cache_dir, key);
  ok = ok && sg_mkdirs(parent, NULL) == SG_OK;
  /* The entry appears whole or not at all; EEXIST/ENOTEMPTY: another writer won. */
  if (ok && rename(tmp, dir) == 0) {
    fsync_path(parent, 1);
    return;
  }
  remove_flat(tmp);
}
