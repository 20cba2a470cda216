/* One writer per output folder, the delivered files switched as one set (output_set.c): a
 * second render exits 3 naming the holder's PID or waits for it with --wait; two renders
 * started together never deliver a mix (every delivered file equals one clean render); a render
 * killed at a random moment over a folder holding an earlier package leaves the old set or the
 * new one, never a mix; a failed render leaves the previous set. Songs are 2 bars long (a render
 * takes a fraction of a second); scripts/kill_trials.sh runs more trials. */
#include "sg_test.h"

#include "stemgate/pipeline.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *SONG = "title: Lock Song\n"
                          "tempo: 120\n"
                          "meter: 4/4\n"
                          "key: C major\n"
                          "style: pop\n"
                          "seed: %d\n"
                          "sections:\n"
                          "  - {name: a, bars: 2, chords: \"%s\"}\n"
                          "stems:\n"
                          "  - {name: Bass, instrument: moog_bass}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: %d, true_peak_dbtp: -1.0}\n";

#define MAX_FILES 16

/* A delivered set: sorted file names and their SHA-256. */
typedef struct set {
  int n;
  char name[MAX_FILES][256];
  char sha[MAX_FILES][65];
} set;

static char g_spec[2][1024];
static set g_ref[2]; /* clean renders of spec 0 and spec 1 */

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static sg_status render(int which, const char *out, int wait, sg_diag *d) {
  sg_render_options o;
  sg_render_options_init(&o);
  o.jobs = 1;
  o.spec_path = g_spec[which];
  o.out_dir = out;
  o.wait = wait;
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_render_result res;
  sg_diag_clear(d);
  sg_status st = sg_render(&o, &res, d);
  sg_render_result_free(&res);
  return st;
}

/* Reads out/current once (resolved, as a reader must) into s; returns 0 when there is none. */
static int read_set(const char *out, set *s) {
  char cur[1200], real[PATH_MAX];
  snprintf(cur, sizeof cur, "%s/current", out);
  memset(s, 0, sizeof *s);
  if (!realpath(cur, real))
    return 0;
  DIR *dh = opendir(real);
  assert_non_null(dh);
  struct dirent *de;
  while ((de = readdir(dh)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    assert_true(s->n < MAX_FILES);
    snprintf(s->name[s->n++], sizeof s->name[0], "%s", de->d_name);
  }
  closedir(dh);
  for (int i = 1; i < s->n; ++i) /* sorted: sets compare entry by entry */
    for (int j = i; j > 0 && strcmp(s->name[j - 1], s->name[j]) > 0; --j) {
      char t[256];
      memcpy(t, s->name[j], sizeof t);
      memcpy(s->name[j], s->name[j - 1], sizeof t);
      memcpy(s->name[j - 1], t, sizeof t);
    }
  for (int i = 0; i < s->n; ++i) {
    char p[PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/%s", real, s->name[i]);
    assert_int_equal(sg_sha256_file(p, s->sha[i], NULL), SG_OK);
  }
  return 1;
}

static int same_set(const set *a, const set *b) {
  if (a->n != b->n)
    return 0;
  for (int i = 0; i < a->n; ++i)
    if (strcmp(a->name[i], b->name[i]) || strcmp(a->sha[i], b->sha[i]))
      return 0;
  return 1;
}

/* Which clean render the delivered set of out equals: 0, 1, or -1 for neither (a mix). */
static int which_set(const char *out) {
  set s;
  if (!read_set(out, &s))
    return -2;
  for (int k = 0; k < 2; ++k)
    if (same_set(&s, &g_ref[k]))
      return k;
  return -1;
}

static int setup(void **st) {
  (void)st;
  char text[2048];
  for (int k = 0; k < 2; ++k) {
    snprintf(g_spec[k], sizeof g_spec[k], "%s", sg_test_path(k ? "lock_b.yaml" : "lock_a.yaml"));
    snprintf(text, sizeof text, SONG, k ? 2 : 1, k ? "Am | F" : "C | G", -14);
    assert_int_equal(sg_test_write_text(g_spec[k], text), 0);
    char out[64];
    snprintf(out, sizeof out, "ref%d", k);
    sg_diag d;
    assert_int_equal(render(k, sg_test_path(out), 0, &d), SG_OK);
    assert_true(read_set(sg_test_path(out), &g_ref[k]));
    assert_int_equal(g_ref[k].n, 5); /* the zip, the master, two stems and report.html */
  }
  assert_false(same_set(&g_ref[0], &g_ref[1])); /* the two songs differ in every file */
  return 0;
}

/* A process that holds the folder's lock as a render would: the lock file with its PID. */
static pid_t hold_lock(const char *out, int ms) {
  int pfd[2];
  assert_int_equal(pipe(pfd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char p[1200];
    snprintf(p, sizeof p, "%s/.stemgate.lock", out);
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
      _exit(9);
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len)
      _exit(9);
    if (write(pfd[1], "x", 1) != 1) /* tell the parent the lock is held */
      _exit(9);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    _exit(0);
  }
  char c;
  close(pfd[1]);
  assert_int_equal(read(pfd[0], &c, 1), 1);
  close(pfd[0]);
  return pid;
}

static void second_render_exits_3_naming_the_holder_or_waits(void **st) {
  (void)st;
  const char *out = sg_test_path("held");
  mkdir(out, 0755);
  pid_t holder = hold_lock(out, 600);
  sg_diag d;
  sg_status s = render(0, out, 0, &d);
  char msg[2048], want[64];
  printf("%s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(s, SG_E_IO);
  assert_int_equal(sg_exit_code(s), 3);
  snprintf(want, sizeof want, "pid %ld", (long)holder);
  assert_non_null(strstr(d.message, want));
  assert_int_equal(which_set(out), -2); /* nothing was written */
  /* --wait: the render starts when the holder lets go, and delivers. */
  assert_int_equal(render(0, out, 1, &d), SG_OK);
  int ws;
  assert_int_equal(waitpid(holder, &ws, 0), holder);
  assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  assert_int_equal(which_set(out), 0);
}

static pid_t render_child(int which, const char *out, int wait) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    sg_diag d;
    _exit(sg_exit_code(render(which, out, wait, &d)));
  }
  return pid;
}

static int exit_of(pid_t pid) {
  int ws;
  assert_int_equal(waitpid(pid, &ws, 0), pid);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 100 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

#define CONCURRENT_TRIALS 6

static void concurrent_renders_never_mix(void **st) {
  (void)st;
  for (int t = 0; t < CONCURRENT_TRIALS; ++t) {
    char name[32];
    snprintf(name, sizeof name, "conc%d", t);
    const char *out = sg_test_path(name);
    const int wait = t & 1;
    pid_t a = render_child(0, out, wait), b = render_child(1, out, wait);
    int ea = exit_of(a), eb = exit_of(b), got = which_set(out);
    printf("trial %d (%s): exits %d %d, delivered set %d\n", t, wait ? "--wait" : "no wait", ea, eb,
           got);
    if (wait) { /* both ran, one after the other: the last one's set */
      assert_int_equal(ea, 0);
      assert_int_equal(eb, 0);
      assert_true(got == 0 || got == 1);
    } else { /* the loser exits 3 at once; the set is the winner's */
      assert_true((ea == 0 || ea == 3) && (eb == 0 || eb == 3) && (ea == 0 || eb == 0));
      if (ea == 3)
        assert_int_equal(got, 1);
      else if (eb == 3)
        assert_int_equal(got, 0);
      else
        assert_true(got == 0 || got == 1);
    }
  }
}

#define KILL_TRIALS 8

static void killed_render_leaves_old_or_new_set(void **st) {
  (void)st;
  const char *out = sg_test_path("killed");
  sg_diag d;
  assert_int_equal(render(0, out, 0, &d), SG_OK);
  int have = 0; /* the set the folder holds */
  unsigned seed = (unsigned)time(NULL);
  printf("kill trials, seed %u\n", seed);
  srand(seed);
  /* Kill moments spread over a clean render's duration (about 0.3 s here; up to 600 ms covers
   * slower machines: a render that finished first simply delivered). */
  int olds = 0, news = 0;
  for (int t = 0; t < KILL_TRIALS; ++t) {
    const int next = 1 - have;
    pid_t pid = render_child(next, out, 0);
    struct timespec ts = {0, (long)(rand() % 600) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int e = exit_of(pid);
    int got = which_set(out);
    printf("trial %d: killed after %ld ms (exit %d): set %d (old %d, new %d)\n", t,
           ts.tv_nsec / 1000000L, e, got, have, next);
    assert_true(got == have || got == next);
    if (got == next)
      ++news;
    else
      ++olds;
    have = got;
  }
  printf("%d trials left the old set, %d the new one\n", olds, news);
  /* The next render cleans up after the killed ones and delivers; one set is kept. */
  assert_int_equal(render(1 - have, out, 0, &d), SG_OK);
  assert_int_equal(which_set(out), 1 - have);
  char sets[1200];
  snprintf(sets, sizeof sets, "%s/.sets", out);
  DIR *dh = opendir(sets);
  assert_non_null(dh);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dh)) != NULL)
    n += de->d_name[0] != '.';
  closedir(dh);
  assert_int_equal(n, 1);
}

static void failed_render_keeps_the_previous_set(void **st) {
  (void)st;
  const char *out = sg_test_path("failing");
  sg_diag d;
  assert_int_equal(render(0, out, 0, &d), SG_OK);
  /* The same song with a loudness target no master reaches under a -1 dBTP ceiling. */
  char text[2048];
  snprintf(text, sizeof text, SONG, 1, "C | G", -5);
  const char *bad = sg_test_path("lock_bad.yaml");
  assert_int_equal(sg_test_write_text(bad, text), 0);
  sg_render_options o;
  sg_render_options_init(&o);
  o.jobs = 1;
  o.spec_path = bad;
  o.out_dir = out;
  o.log = quiet;
  sg_render_result res;
  sg_status s = sg_render(&o, &res, &d);
  sg_render_result_free(&res);
  assert_int_equal(s, SG_E_GATE);
  assert_int_equal(which_set(out), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(second_render_exits_3_naming_the_holder_or_waits),
      cmocka_unit_test(concurrent_renders_never_mix),
      cmocka_unit_test(killed_render_leaves_old_or_new_set),
      cmocka_unit_test(failed_render_keeps_the_previous_set),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
