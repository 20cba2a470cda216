/* One writer per output folder, the delivered files switched as one set (output_set.c): a
 * second render exits 3 naming the holder's PID or waits for it with --wait; two renders
 * started together never deliver a mix (every delivered file equals one clean render); a render
 * killed at a random moment over a folder holding an earlier package leaves the old set or the
 * new one, never a mix, and a re-render then completes; a failed render leaves the previous set.
 * Songs are 2 bars long (a render takes a fraction of a second): 20 concurrent trials and 20
 * kill trials (5 each in the sanitizer build, sg_test_trials) (the kill moments from a fixed seed,
 * spread over a clean render's duration). */
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

static char g_spec[2][1024];
static sg_test_set g_ref[2]; /* clean renders of spec 0 and spec 1 */
static long g_render_ms;     /* how long a clean render took here */

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Which clean render the delivered set of out equals: 0, 1, or -1 for neither (a mix). */
static int which_set(const char *out) {
  sg_test_set s;
  int rc = sg_test_set_read(out, &s);
  assert_true(rc >= 0);
  if (rc == 0)
    return -2;
  for (int k = 0; k < 2; ++k)
    if (sg_test_set_equal(&s, &g_ref[k]))
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
    long t0 = now_ms();
    assert_int_equal(render(k, sg_test_path(out), 0, &d), SG_OK);
    g_render_ms = now_ms() - t0;
    assert_int_equal(sg_test_set_read(sg_test_path(out), &g_ref[k]), 1);
    assert_int_equal(g_ref[k].n, 5); /* the zip, the master, two stems and report.html */
  }
  assert_false(sg_test_set_equal(&g_ref[0], &g_ref[1])); /* the two songs differ in every file */
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

/* A render in a child process; its message (if any) is written to msg_path. */
static pid_t render_child(int which, const char *out, int wait, const char *msg_path) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    sg_diag d;
    int code = sg_exit_code(render(which, out, wait, &d));
    if (msg_path && code != 0)
      sg_test_write_text(msg_path, d.message);
    _exit(code);
  }
  return pid;
}

static int exit_of(pid_t pid) {
  int ws;
  assert_int_equal(waitpid(pid, &ws, 0), pid);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 100 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

#define CONCURRENT_TRIALS sg_test_trials(20)

static void concurrent_renders_never_mix(void **st) {
  (void)st;
  int waited = 0, refused = 0;
  for (int t = 0; t < CONCURRENT_TRIALS; ++t) {
    char name[32], ma[1100], mb[1100];
    snprintf(name, sizeof name, "conc%d", t);
    const char *out = sg_test_path(name);
    snprintf(ma, sizeof ma, "%s", sg_test_path("conc_a.msg"));
    snprintf(mb, sizeof mb, "%s", sg_test_path("conc_b.msg"));
    remove(ma);
    remove(mb);
    const int wait = t & 1;
    pid_t a = render_child(0, out, wait, ma), b = render_child(1, out, wait, mb);
    int ea = exit_of(a), eb = exit_of(b), got = which_set(out);
    printf("trial %d (%s): exits %d %d, delivered set %d\n", t, wait ? "--wait" : "no wait", ea, eb,
           got);
    if (wait) { /* both ran, one after the other: the last one's set */
      assert_int_equal(ea, 0);
      assert_int_equal(eb, 0);
      assert_true(got == 0 || got == 1);
      ++waited;
    } else { /* the loser exits 3 at once naming the holder; the set is the winner's */
      assert_true((ea == 0 || ea == 3) && (eb == 0 || eb == 3) && (ea == 0 || eb == 0));
      if (ea == 3 || eb == 3) {
        char want[64], text[2048] = "";
        snprintf(want, sizeof want, "pid %ld", (long)(ea == 3 ? b : a));
        FILE *f = fopen(ea == 3 ? ma : mb, "r");
        assert_non_null(f);
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        printf("  loser: %s\n", text);
        if (!strstr(text, want))
          fail_msg("the refused render's message does not name the holder (%s): %s", want, text);
        ++refused;
      }
      if (ea == 3)
        assert_int_equal(got, 1);
      else if (eb == 3)
        assert_int_equal(got, 0);
      else
        assert_true(got == 0 || got == 1);
    }
  }
  printf("%d trials waited, %d refused the second render\n", waited, refused);
}

#define KILL_TRIALS sg_test_trials(20)
#define KILL_SEED 20261206u

static void killed_render_leaves_old_or_new_set(void **st) {
  (void)st;
  const char *out = sg_test_path("killed");
  sg_diag d;
  assert_int_equal(render(0, out, 0, &d), SG_OK);
  int have = 0; /* the set the folder holds */
  /* Kill moments from a fixed seed, spread over 1.2 times a clean render's duration here (a
   * render that finished first simply delivered). */
  long span = g_render_ms * 6 / 5 + 1;
  printf("kill trials: seed %u, moments in 0..%ld ms (a clean render took %ld ms)\n", KILL_SEED,
         span, g_render_ms);
  srand(KILL_SEED);
  int olds = 0, news = 0;
  for (int t = 0; t < KILL_TRIALS; ++t) {
    const int next = 1 - have;
    long ms = rand() % span;
    pid_t pid = render_child(next, out, 0, NULL);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int e = exit_of(pid);
    int got = which_set(out);
    printf("trial %d: killed after %ld ms (exit %d): set %d (old %d, new %d)\n", t, ms, e, got,
           have, next);
    assert_true(got == have || got == next);
    if (got == next)
      ++news;
    else
      ++olds;
    have = got;
  }
  printf("%d trials left the old set, %d the new one\n", olds, news);
  /* The next render cleans up after the killed ones and delivers: the sets kept are the one
   * DIR/current shows and the one it replaced (removed by the next package's sweep). */
  char cur[1200], before[256] = "", after[256] = "";
  snprintf(cur, sizeof cur, "%s/current", out);
  ssize_t bl = readlink(cur, before, sizeof before - 1);
  before[bl > 0 ? bl : 0] = '\0';
  assert_int_equal(render(1 - have, out, 0, &d), SG_OK);
  assert_int_equal(which_set(out), 1 - have);
  ssize_t al = readlink(cur, after, sizeof after - 1);
  after[al > 0 ? al : 0] = '\0';
  assert_true(al > 0 && strcmp(before, after));
  char sets[1200];
  snprintf(sets, sizeof sets, "%s/.sets", out);
  DIR *dh = opendir(sets);
  assert_non_null(dh);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dh)) != NULL)
    if (de->d_name[0] != '.') {
      ++n;
      char rel[300];
      snprintf(rel, sizeof rel, ".sets/%s", de->d_name);
      assert_true(!strcmp(rel, after) || !strcmp(rel, before));
    }
  closedir(dh);
  assert_int_equal(n, bl > 0 ? 2 : 1);
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
