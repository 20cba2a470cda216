/* The one naming rule of delivered files (deliverable.naming), used by render to name what it
 * writes and by verify to find what it reads. */
#include "stemgate/package.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void sg_package_safe_name(const char *in, char *out, size_t cap) {
  size_t i = 0;
  for (; in[i] && i + 1 < cap; ++i) {
    unsigned char c = (unsigned char)in[i];
    out[i] = (char)(isalnum(c) || c == '-' || c == '_' ? c : '_');
  }
  if (cap)
    out[i] = '\0';
}

void sg_package_file_name(const sg_song *s, const char *stem, int index, char *out, size_t cap) {
  const char *t = s->deliverable.naming[0] ? s->deliverable.naming : SG_NAMING_DEFAULT;
  char safe[SG_MAX_NAME], num[32];
  sg_package_safe_name(stem, safe, sizeof safe);
  size_t n = 0;
  if (!cap)
    return;
  out[0] = '\0';
  while (*t && n + 1 < cap) {
    const char *val = NULL;
    size_t skip = 0;
    if (!strncmp(t, "{song}", 6))
      val = s->slug, skip = 6;
    else if (!strncmp(t, "{stem}", 6))
      val = safe, skip = 6;
    else if (!strncmp(t, "{index}", 7)) {
      if (index >= 0)
        snprintf(num, sizeof num, "%02d", index);
      else
        snprintf(num, sizeof num, "\x01");
      val = num, skip = 7;
    } else if (!strncmp(t, "{rate}", 6))
      snprintf(num, sizeof num, "%u", s->sample_rate), val = num, skip = 6;
    else if (!strncmp(t, "{format}", 8))
      val = sg_sample_format_name(s->format), skip = 8;
    if (val) {
      n += (size_t)snprintf(out + n, cap - n, "%s", val);
      if (n >= cap)
        n = cap - 1;
      t += skip;
    } else {
      out[n++] = *t++;
      out[n] = '\0';
    }
  }
}
