/* deploy/k8s-indexed-job.yaml against the fields of the Kubernetes batch/v1 Job schema it uses.
 * No cluster runs here, so this is a parse test: the manifest is written in the JSON subset of
 * YAML (kubectl reads it as YAML or JSON) and read with the project's strict JSON reader. */
#include "sg_test.h"

#include "package/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sg_json_value *get(const sg_json_value *v, const char *key, sg_json_type t) {
  const sg_json_value *x = sg_json_get(v, key);
  if (!x)
    fail_msg("the Job manifest has no field %s", key);
  assert_int_equal(x->type, t);
  return x;
}

static const char *env(const sg_json_value *c, const char *name) {
  const sg_json_value *e = get(c, "env", SG_JSON_ARRAY);
  for (size_t i = 0; i < e->n; ++i) {
    const sg_json_value *x = sg_json_at(e, i);
    if (!strcmp(sg_json_get_str(x, "name", ""), name))
      return sg_json_get_str(x, "value", NULL);
  }
  return NULL;
}

static void indexed_job_fields(void **state) {
  (void)state;
  size_t n = 0;
  char *text = sg_test_read_file(sg_test_source("deploy/k8s-indexed-job.yaml"), &n);
  assert_non_null(text);
  sg_json_doc *doc = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_json_parse(text, n, &doc, &d), SG_OK);
  const sg_json_value *job = sg_json_root(doc);
  assert_string_equal(get(job, "apiVersion", SG_JSON_STRING)->str, "batch/v1");
  assert_string_equal(get(job, "kind", SG_JSON_STRING)->str, "Job");
  /* metadata.name: a DNS label (lowercase alphanumerics and '-', at most 63). */
  const char *name = get(get(job, "metadata", SG_JSON_OBJECT), "name", SG_JSON_STRING)->str;
  assert_true(strlen(name) > 0 && strlen(name) <= 63);
  assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-"), strlen(name));
  const sg_json_value *spec = get(job, "spec", SG_JSON_OBJECT);
  assert_string_equal(get(spec, "completionMode", SG_JSON_STRING)->str, "Indexed");
  double completions = get(spec, "completions", SG_JSON_NUMBER)->number;
  double parallelism = get(spec, "parallelism", SG_JSON_NUMBER)->number;
  assert_true(completions >= 1 && completions == (double)(long)completions);
  assert_true(parallelism >= 1 && parallelism <= completions);
  const sg_json_value *pod = get(get(spec, "template", SG_JSON_OBJECT), "spec", SG_JSON_OBJECT);
  /* A Job's pods must not restart in place: Never or OnFailure. */
  const char *rp = get(pod, "restartPolicy", SG_JSON_STRING)->str;
  assert_true(!strcmp(rp, "Never") || !strcmp(rp, "OnFailure"));
  const sg_json_value *cs = get(pod, "containers", SG_JSON_ARRAY);
  assert_int_equal(cs->n, 1);
  const sg_json_value *c = sg_json_at(cs, 0);
  assert_non_null(get(c, "name", SG_JSON_STRING)->str);
  assert_non_null(get(c, "image", SG_JSON_STRING)->str);
  const sg_json_value *cmd = get(c, "command", SG_JSON_ARRAY);
  assert_true(cmd->n >= 1);
  char joined[2048] = "";
  for (size_t i = 0; i < cmd->n; ++i) {
    const sg_json_value *a = sg_json_at(cmd, i);
    assert_int_equal(a->type, SG_JSON_STRING);
    strncat(joined, a->str, sizeof joined - strlen(joined) - 2);
    strcat(joined, " ");
  }
  /* The command shards by the index Kubernetes sets, over as many shards as completions. */
  assert_non_null(strstr(joined, "stemgate batch"));
  assert_non_null(strstr(joined, "--shard \"$JOB_COMPLETION_INDEX/$SHARDS\""));
  const char *shards = env(c, "SHARDS");
  assert_non_null(shards);
  assert_int_equal(atoi(shards), (int)completions);
  /* The output root is on the mounted volume every pod shares. */
  const char *root = env(c, "ROOT");
  assert_non_null(root);
  const sg_json_value *mounts = get(c, "volumeMounts", SG_JSON_ARRAY);
  const sg_json_value *vols = get(pod, "volumes", SG_JSON_ARRAY);
  int mounted = 0;
  for (size_t i = 0; i < mounts->n; ++i) {
    const sg_json_value *m = sg_json_at(mounts, i);
    const char *mp = sg_json_get_str(m, "mountPath", "");
    const char *vn = sg_json_get_str(m, "name", "");
    int declared = 0;
    for (size_t j = 0; j < vols->n; ++j)
      declared |= !strcmp(sg_json_get_str(sg_json_at(vols, j), "name", "?"), vn);
    assert_true(declared);
    mounted |= *mp && !strncmp(root, mp, strlen(mp)) && root[strlen(mp)] == '/';
  }
  assert_true(mounted);
  sg_json_doc_free(doc);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(indexed_job_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
