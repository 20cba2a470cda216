/* stemgate batch: many specs, each rendered by the library's sg_render into its own output
 * folder ROOT/<spec-slug>/ (its own lock, cache and delivered set), one index line per spec.
 * Sharding is a deterministic partition of the specs sorted by path (index % N == K, K 0-based,
 * as Slurm array task ids from --array=0-(N-1) and Kubernetes JOB_COMPLETION_INDEX), so shards
 * never write the same folder and need no coordination; each writes ROOT/index.K-of-N.jsonl and
 * --merge joins them. Every index is written to a temporary name and renamed (POSIX rename is
 * atomic), so a reader sees an old index or a whole new one. */
#include "cli.h"

#include "package/json.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct spec_item {
  char *path;
  char slug[256];
  char variant[SG_MAX_NAME * 2]; /* "" or one of the spec's variations (sg_song_variants) */
} spec_item;

typedef struct spec_list {
  spec_item *v;
  size_t n, cap;
} spec_list;

static int list_add(spec_list *l, const char *path) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    spec_item *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return -1;
    l->v = v;
    l->cap = cap;
  }
  memset(&l->v[l->n], 0, sizeof l->v[l->n]);
  l->v[l->n].path = strdup(path);
  return l->v[l->n++].path ? 0 : -1;
}

static void list_free(spec_list *l) {
  for (size_t i = 0; i < l->n; ++i)
    free(l->v[i].path);
  free(l->v);
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const spec_item *)a)->path, ((const spec_item *)b)->path);
}

/* Variants of one spec in the order of their folder names, after the spec's path. */
static int by_path_slug(const void *a, const void *b) {
  const spec_item *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  return c ? c : strcmp(x->slug, y->slug);
}

/* Every spec with a variations: block becomes one item a variant, its folder
 * <spec-slug>-<variant>. Each spec is loaded with every variant here, before anything renders;
 * one that does not load stays one item, whose render reports the error (file:line:col) in its
 * index line, and the others go on. The expansion depends on the specs alone, so every shard
 * computes the same list. */
static int expand_variants(spec_list *l) {
  spec_list out = {0};
  for (size_t i = 0; i < l->n; ++i) {
    sg_variant_list vl;
    sg_diag d;
    sg_diag_clear(&d);
    if (sg_song_variants(l->v[i].path, &vl, &d) != SG_OK) {
      char msg[1200];
      sg_diag_format(&d, msg, sizeof msg);
      fprintf(stderr, "stemgate: batch: %s (its index line says so; the others go on)\n", msg);
      vl.n = 0;
      vl.names = NULL;
    }
    for (size_t j = 0; j < (vl.n ? vl.n : 1); ++j) {
      if (list_add(&out, l->v[i].path)) {
        sg_variant_list_free(&vl);
        list_free(&out);
        return SG_EXIT_IO;
      }
      spec_item *it = &out.v[out.n - 1];
      snprintf(it->slug, sizeof it->slug, "%s", l->v[i].slug);
      if (vl.n) {
        snprintf(it->variant, sizeof it->variant, "%s", vl.names[j]);
        size_t k = strlen(it->slug);
        snprintf(it->slug + k, sizeof it->slug - k, "-%s", vl.names[j]);
      }
    }
    sg_variant_list_free(&vl);
  }
  list_free(l);
  *l = out;
  qsort(l->v, l->n, sizeof *l->v, by_path_slug);
  return SG_EXIT_OK;
}

static int has_ext(const char *name, const char *ext) {
  size_t n = strlen(name), e = strlen(ext);
  return n > e && !strcmp(name + n - e, ext);
}

/* The folder name of a spec: its file name without .yaml/.yml, lowercased, anything outside
 * [a-z0-9._-] as '-'. The file name, not the title, so variations sharing a title stay apart. */
static void spec_slug(const char *path, char *out, size_t cap) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  size_t n = strlen(b);
  if (has_ext(b, ".yaml"))
    n -= 5;
  else if (has_ext(b, ".yml"))
    n -= 4;
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; ++i) {
    char c = b[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    out[k++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
                   ? c
                   : '-';
  }
  out[k] = 0;
  if (!k || out[0] == '.')
    snprintf(out, cap, "spec-%s", k ? out + 1 : "");
}

/* SPEC_DIR: its *.yaml and *.yml files (not recursive); a .yaml/.yml file: that spec; otherwise
 * a text file of spec paths,
 * one a line, blank lines and lines starting with '#' skipped, paths as written (relative to
 * the working directory). */
static int read_specs(const char *src, spec_list *l) {
  struct stat sb;
  if (stat(src, &sb) != 0) {
    fprintf(stderr, "stemgate: batch: cannot read %s: %s\n", src, strerror(errno));
    return SG_EXIT_IO;
  }
  if (S_ISDIR(sb.st_mode)) {
    DIR *d = opendir(src);
    if (!d) {
      fprintf(stderr, "stemgate: batch: cannot open folder %s: %s\n", src, strerror(errno));
      return SG_EXIT_IO;
    }
    struct dirent *e;
    size_t sl = strlen(src);
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' || !(has_ext(e->d_name, ".yaml") || has_ext(e->d_name, ".yml")))
        continue;
      char p[2048];
      snprintf(p, sizeof p, "%s%s%s", src, sl && src[sl - 1] == '/' ? "" : "/", e->d_name);
      if (list_add(l, p)) {
        closedir(d);
        return SG_EXIT_IO;
      }
    }
    closedir(d);
    return SG_EXIT_OK;
  }
  if (has_ext(src, ".yaml") || has_ext(src, ".yml")) /* one spec (its variations, if any) */
    return list_add(l, src) ? SG_EXIT_IO : SG_EXIT_OK;
  FILE *f = fopen(src, "r");
  if (!f) {
    fprintf(stderr, "stemgate: batch: cannot open %s: %s\n", src, strerror(errno));
    return SG_EXIT_IO;
  }
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    size_t n = strcspn(line, "\r\n");
    line[n] = 0;
    const char *s = line + strspn(line, " \t");
    if (!*s || *s == '#')
      continue;
    if (list_add(l, s)) {
      fclose(f);
      return SG_EXIT_IO;
    }
  }
  fclose(f);
  return SG_EXIT_OK;
}

static int mkdir_p(const char *path) {
  char p[1024];
  snprintf(p, sizeof p, "%s", path);
  for (char *s = p + 1; *s; ++s)
    if (*s == '/') {
      *s = 0;
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return -1;
      *s = '/';
    }
  return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Writes text to path through path.tmp.<pid> and a rename. */
static int write_atomic(const char *path, const char *text, size_t len) {
  char tmp[1200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return -1;
  int bad = fwrite(text, 1, len, f) != len;
  bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    remove(tmp);
    return -1;
  }
  return 0;
}

/* The delivered files' names and SHA-256 as the package's manifest records them. */
static void write_files(sg_json_writer *w, const char *zip) {
  sg_zip_reader *r = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  char *text = NULL;
  size_t n = 0;
  sg_manifest m;
  sg_manifest_init(&m);
  const sg_zip_entry *e;
  if (sg_zip_reader_open(&r, zip, NULL, &d) == SG_OK &&
      (e = sg_zip_reader_find(r, SG_MANIFEST_NAME)) &&
      sg_zip_reader_read_all(r, e, (size_t)64 << 20, &text, &n, &d) == SG_OK &&
      sg_manifest_parse(text, n, &m, &d) == SG_OK) {
    for (size_t i = 0; i < m.n_files; ++i) {
      sg_json_begin_object(w);
      sg_json_kv_string(w, "name", m.files[i].archive_name);
      sg_json_kv_string(w, "sha256", m.files[i].sha256);
      sg_json_end_object(w);
    }
  }
  sg_manifest_free(&m);
  free(text);
  if (r)
    sg_zip_reader_close(r);
}

/* Renders one spec into root/<slug>; appends its index line to *idx. Returns 1 when the song
 * failed (a gate, the spec, I/O), 0 when it delivered. */
static int render_one(const spec_item *s, const char *root, const char *cache, int jobs, char **idx,
                      size_t *idx_len, size_t *idx_cap) {
  char out[1200];
  snprintf(out, sizeof out, "%s/%s", root, s->slug);
  sg_render_options opt;
  sg_render_options_init(&opt);
  opt.spec_path = s->path;
  opt.out_dir = out;
  opt.jobs = jobs;
  opt.wait = 1; /* a second writer of the same folder (overlapping runs) waits, never races */
  opt.variant = s->variant[0] ? s->variant : NULL;
  opt.cache_dir = cache;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  sg_status st = sg_render(&opt, &res, &d);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  size_t passed = 0, failed = 0, warn = 0;
  for (size_t i = 0; i < res.gates.n; ++i) {
    const sg_gate_result *g = &res.gates.v[i];
    passed += g->pass != 0;
    failed += !g->pass && g->required;
    warn += !g->pass && !g->required;
  }
  char sha[65] = "";
  sg_diag hd;
  sg_diag_clear(&hd);
  if (sg_sha256_file(s->path, sha, &hd) != SG_OK)
    sha[0] = 0;
  char diag[1200] = "";
  if (st != SG_OK)
    sg_diag_format(&d, diag, sizeof diag);
  const char *verdict = st == SG_OK ? "pass" : st == SG_E_GATE ? "fail" : "error";
  /* The package path relative to ROOT (<name>/current/<zip>), so the indexes of two roots, or
   * of ROOT spelt "out" and "out/", compare equal. */
  char pkg_buf[1400];
  const char *pkg = NULL;
  if (st == SG_OK && res.zip_path[0]) {
    const char *base = strrchr(res.zip_path, '/');
    snprintf(pkg_buf, sizeof pkg_buf, "%s/current/%s", s->slug, base ? base + 1 : res.zip_path);
    pkg = pkg_buf;
  }
  sg_json_writer w;
  sg_json_writer_init(&w, 0);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "spec", s->path);
  sg_json_kv_string(&w, "variant", s->variant[0] ? s->variant : NULL);
  sg_json_kv_string(&w, "spec_sha256", sha[0] ? sha : NULL);
  sg_json_kv_string(&w, "folder", s->slug);
  sg_json_kv_string(&w, "verdict", verdict);
  sg_json_kv_int(&w, "exit_code", sg_exit_code(st));
  sg_json_kv_int(&w, "checks_passed", (int64_t)passed);
  sg_json_kv_int(&w, "checks_failed", (int64_t)failed);
  sg_json_kv_int(&w, "warnings", (int64_t)warn);
  sg_json_kv_string(&w, "error", st == SG_OK ? NULL : diag);
  sg_json_kv_string(&w, "package", pkg);
  sg_json_key(&w, "files");
  sg_json_begin_array(&w);
  if (st == SG_OK)
    write_files(&w, res.zip_path);
  sg_json_end_array(&w);
  sg_json_end_object(&w);
  size_t n = 0;
  const char *line = sg_json_writer_text(&w, &n);
  if (line) {
    if (*idx_len + n + 2 > *idx_cap) {
      size_t cap = 2 * (*idx_cap + n + 2);
      char *p = realloc(*idx, cap);
      if (p) {
        *idx = p;
        *idx_cap = cap;
      }
    }
    if (*idx_len + n + 2 <= *idx_cap) {
      memcpy(*idx + *idx_len, line, n);
      *idx_len += n;
      (*idx)[(*idx_len)++] = '\n';
      (*idx)[*idx_len] = 0;
    }
  }
  sg_json_writer_free(&w);
  if (st == SG_OK)
    printf("%-6s %s -> %s/%s (%zu checks passed, %zu warnings, %s, %.1fs)\n",
           res.nodes_run == 0 ? "ok" : "done", s->path, root, s->slug, passed, warn,
           res.nodes_run == 0 ? "up to date" : "rendered", secs);
  else
    printf("FAIL   %s -> %s/%s: %s\n", s->path, root, s->slug, diag);
  /* Which nodes another song rendered (never in the index: which song of a batch renders a
   * shared node first depends on the schedule, the bytes do not). */
  if (res.nodes_shared) {
    printf("       %s: shared cache hit:", s->slug);
    for (int i = 0; i < res.n_nodes; ++i)
      if (res.nodes[i].shared)
        printf(" [%s]", res.nodes[i].name);
    printf("\n");
  }
  fflush(stdout);
  sg_render_result_free(&res);
  return st != SG_OK;
}

/* One index line's spec path, for sorting merged lines. */
typedef struct idx_line {
  char *text;
  char *spec;
  char *folder;
} idx_line;

/* The single-process order: spec path, then folder (a spec's variants). */
static int by_spec(const void *a, const void *b) {
  const idx_line *x = a, *y = b;
  int c = strcmp(x->spec, y->spec);
  return c ? c : strcmp(x->folder, y->folder);
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t k;
  while (buf && (k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += k;
    if (cap - len < 2) {
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf)
    buf[len] = 0;
  *n = len;
  return buf;
}

/* --merge ROOT: every ROOT/index.K-of-N.jsonl (one N, all K present) into ROOT/index.jsonl,
 * lines sorted by spec path. */
static int merge(const char *root) {
  DIR *d = opendir(root);
  if (!d) {
    fprintf(stderr, "stemgate: batch --merge: cannot open %s: %s\n", root, strerror(errno));
    return SG_EXIT_IO;
  }
  int total = -1, rc = SG_EXIT_OK;
  unsigned char seen[1024] = {0};
  idx_line *lines = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) && rc == SG_EXIT_OK) {
    int k, nn, used = 0;
    if (sscanf(e->d_name, "index.%d-of-%d.jsonl%n", &k, &nn, &used) != 2 || e->d_name[used] != 0)
      continue;
    if (nn < 1 || nn > 1024 || k < 0 || k >= nn || (total >= 0 && nn != total)) {
      fprintf(stderr, "stemgate: batch --merge: %s/%s does not belong to a %d-shard run\n", root,
              e->d_name, total);
      rc = SG_EXIT_USAGE;
      break;
    }
    total = nn;
    seen[k] = 1;
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", root, e->d_name);
    size_t len = 0;
    char *text = slurp(p, &len);
    if (!text) {
      fprintf(stderr, "stemgate: batch --merge: cannot read %s\n", p);
      rc = SG_EXIT_IO;
      break;
    }
    for (char *s = text, *nl; *s; s = nl + 1) {
      nl = strchr(s, '\n');
      if (!nl)
        nl = s + strlen(s) - 1;
      size_t ll = (size_t)(nl - s) + (*nl != '\n');
      if (!ll)
        continue;
      sg_json_doc *doc = NULL;
      sg_diag jd;
      sg_diag_clear(&jd);
      const char *spec;
      if (sg_json_parse(s, ll, &doc, &jd) != SG_OK ||
          !(spec = sg_json_get_str(sg_json_root(doc), "spec", NULL))) {
        fprintf(stderr, "stemgate: batch --merge: %s: a line is not an index entry\n", p);
        sg_json_doc_free(doc);
        rc = SG_EXIT_USAGE;
        break;
      }
      if (n == cap) {
        cap = cap ? 2 * cap : 64;
        idx_line *v = realloc(lines, cap * sizeof *v);
        if (!v) {
          sg_json_doc_free(doc);
          rc = SG_EXIT_IO;
          break;
        }
        lines = v;
      }
      lines[n].text = strndup(s, ll);
      lines[n].spec = strdup(spec);
      lines[n].folder = strdup(sg_json_get_str(sg_json_root(doc), "folder", ""));
      ++n;
      sg_json_doc_free(doc);
      if (!*nl)
        break;
    }
    free(text);
  }
  closedir(d);
  if (rc == SG_EXIT_OK && total < 0) {
    fprintf(stderr, "stemgate: batch --merge: no index.K-of-N.jsonl in %s\n", root);
    rc = SG_EXIT_USAGE;
  }
  for (int k = 0; rc == SG_EXIT_OK && k < total; ++k)
    if (!seen[k]) {
      fprintf(stderr,
              "stemgate: batch --merge: shard %d of %d has no index (%s/index.%d-of-%d.jsonl)\n", k,
              total, root, k, total);
      rc = SG_EXIT_USAGE;
    }
  if (rc == SG_EXIT_OK) {
    qsort(lines, n, sizeof *lines, by_spec);
    size_t len = 0;
    for (size_t i = 0; i < n; ++i)
      len += strlen(lines[i].text) + 1;
    char *out = malloc(len + 1), *p = out;
    for (size_t i = 0; out && i < n; ++i) {
      size_t l = strlen(lines[i].text);
      memcpy(p, lines[i].text, l);
      p += l;
      *p++ = '\n';
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/index.jsonl", root);
    if (!out || write_atomic(path, out, len) != 0) {
      fprintf(stderr, "stemgate: batch --merge: cannot write %s\n", path);
      rc = SG_EXIT_IO;
    } else {
      printf("merged %d shard indexes (%zu songs) into %s\n", total, n, path);
    }
    free(out);
  }
  for (size_t i = 0; i < n; ++i) {
    free(lines[i].text);
    free(lines[i].spec);
    free(lines[i].folder);
  }
  free(lines);
  return rc;
}

int sg_cli_batch(int argc, char **argv, const sg_cli_command *self) {
  const char *src = NULL, *root = NULL, *merge_root = NULL, *cache = NULL;
  int no_cache = 0;
  int jobs = 0, k = 0, nshards = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing folder after", a);
      root = argv[i];
    } else if (!strcmp(a, "--cache")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing folder after", a);
      cache = argv[i];
    } else if (!strcmp(a, "--no-cache")) {
      no_cache = 1;
    } else if (!strcmp(a, "--merge")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing output root after", a);
      merge_root = argv[i];
    } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
      char *end = NULL;
      if (++i >= argc || (jobs = (int)strtol(argv[i], &end, 10), *end) || jobs < 1 || jobs > 64)
        return sg_cli_usage_error(self, "--jobs takes a number of threads 1..64, got",
                                  i < argc ? argv[i] : "nothing");
    } else if (!strcmp(a, "--shard")) {
      int used = 0;
      if (++i >= argc || sscanf(argv[i], "%d/%d%n", &k, &nshards, &used) != 2 || argv[i][used] ||
          nshards < 1 || nshards > 1024 || k < 0 || k >= nshards)
        return sg_cli_usage_error(self, "--shard takes K/N with 0 <= K < N <= 1024, got",
                                  i < argc ? argv[i] : "nothing");
    } else if (a[0] == '-') {
      return sg_cli_usage_error(self, "unknown option", a);
    } else if (!src) {
      src = a;
    } else {
      return sg_cli_usage_error(self, "more than one spec folder or list given:", a);
    }
  }
  if (merge_root) {
    if (src || root || nshards)
      return sg_cli_usage_error(self, "--merge ROOT takes no other argument", NULL);
    return merge(merge_root);
  }
  if (!src)
    return sg_cli_usage_error(self, "no spec folder or list given", NULL);
  if (!root)
    return sg_cli_usage_error(self, "no output root given (-o ROOT)", NULL);
  char root_buf[1024]; /* without trailing slashes: ROOT/<name> in every message and path */
  snprintf(root_buf, sizeof root_buf, "%s", root);
  for (size_t n = strlen(root_buf); n > 1 && root_buf[n - 1] == '/';)
    root_buf[--n] = 0;
  root = root_buf;
  spec_list l = {0};
  int rc = read_specs(src, &l);
  if (rc != SG_EXIT_OK) {
    list_free(&l);
    return rc;
  }
  qsort(l.v, l.n, sizeof *l.v, by_path);
  for (size_t i = 0; i < l.n; ++i)
    spec_slug(l.v[i].path, l.v[i].slug, sizeof l.v[i].slug);
  if ((rc = expand_variants(&l)) != SG_EXIT_OK) {
    list_free(&l);
    return rc;
  }
  for (size_t i = 0; i < l.n; ++i) {
    for (size_t j = 0; j < i; ++j)
      if (!strcmp(l.v[i].slug, l.v[j].slug)) {
        fprintf(stderr, "stemgate: batch: %s and %s would both render into %s/%s; rename one\n",
                l.v[j].path, l.v[i].path, root, l.v[i].slug);
        list_free(&l);
        return SG_EXIT_USAGE;
      }
  }
  if (mkdir_p(root) != 0) {
    fprintf(stderr, "stemgate: batch: cannot create %s: %s\n", root, strerror(errno));
    list_free(&l);
    return SG_EXIT_IO;
  }
  if (!nshards)
    nshards = 1;
  /* The shared node cache: ROOT/.cache unless given (or --no-cache). */
  char cache_buf[1100];
  if (no_cache && cache) {
    list_free(&l);
    return sg_cli_usage_error(self, "--cache and --no-cache together", NULL);
  }
  if (!no_cache && !cache) {
    snprintf(cache_buf, sizeof cache_buf, "%s/.cache", root);
    cache = cache_buf;
  }
  size_t mine = 0, failed = 0;
  char *idx = calloc(1, 1);
  size_t idx_len = 0, idx_cap = idx ? 1 : 0;
  for (size_t i = 0; i < l.n; ++i) {
    if (i % (size_t)nshards != (size_t)k)
      continue;
    ++mine;
    failed +=
        (size_t)render_one(&l.v[i], root, no_cache ? NULL : cache, jobs, &idx, &idx_len, &idx_cap);
  }
  char path[1200];
  if (nshards == 1)
    snprintf(path, sizeof path, "%s/index.jsonl", root);
  else
    snprintf(path, sizeof path, "%s/index.%d-of-%d.jsonl", root, k, nshards);
  rc = failed ? SG_EXIT_GATE : SG_EXIT_OK;
  if (!idx || write_atomic(path, idx, idx_len) != 0) {
    fprintf(stderr, "stemgate: batch: cannot write %s\n", path);
    rc = SG_EXIT_IO;
  }
  printf("batch: %zu of %zu specs (shard %d/%d), %zu delivered, %zu failed; index %s\n", mine, l.n,
         k, nshards, mine - failed, failed, path);
  free(idx);
  list_free(&l);
  return rc;
}
