/* Streaming JSON writer (RFC 8259) into a growable buffer.
 *
 * Strings: '"' and '\\' are escaped, control characters use the short escapes where RFC 8259
 * has them and \u00XX otherwise; valid UTF-8 passes through unchanged, and each byte of an
 * invalid sequence (overlong forms, surrogates, code points above U+10FFFF, truncated
 * sequences) becomes U+FFFD, so the output is always valid JSON. Numbers are the shortest of
 * %.15g/%.16g/%.17g that strtod reads back bit-exactly; NaN and infinities become null. */
#include "json.h"
#include "stemgate/package.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_json_writer_init(sg_json_writer *w, int pretty) {
  memset(w, 0, sizeof *w);
  w->pretty = pretty;
}

void sg_json_writer_free(sg_json_writer *w) {
  if (!w)
    return;
  free(w->buf);
  memset(w, 0, sizeof *w);
}

static void put(sg_json_writer *w, const char *s, size_t n) {
  if (w->err)
    return;
  if (w->len + n + 1 > w->cap) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n + 1) {
      if (cap > ((size_t)-1) / 2) {
        w->err = SG_E_NOMEM;
        return;
      }
      cap *= 2;
    }
    char *b = realloc(w->buf, cap);
    if (!b) {
      w->err = SG_E_NOMEM;
      return;
    }
    w->buf = b;
    w->cap = cap;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = '\0';
}

static void puts_(sg_json_writer *w, const char *s) { put(w, s, strlen(s)); }

static void newline(sg_json_writer *w) {
  if (!w->pretty)
    return;
  put(w, "\n", 1);
  for (int i = 0; i < w->depth; ++i)
    put(w, "  ", 2);
}

/* Separator and indentation before a value (or a key inside an object). */
static int before_value(sg_json_writer *w, int is_key) {
  if (w->err)
    return 0;
  if (w->depth > 0 && w->is_obj[w->depth] && !is_key && !w->after_key) {
    w->err = SG_E_INVAL; /* a value inside an object needs a key first */
    return 0;
  }
  if (w->depth == 0 && w->count[0] > 0) {
    w->err = SG_E_INVAL; /* one top-level value only */
    return 0;
  }
  if (is_key && (w->depth == 0 || !w->is_obj[w->depth] || w->after_key)) {
    w->err = SG_E_INVAL;
    return 0;
  }
  if (w->after_key) {
    w->after_key = 0;
    return 1;
  }
  if (w->depth > 0) {
    if (w->count[w->depth] > 0)
      put(w, ",", 1);
    newline(w);
  }
  if (w->count[w->depth] < 255)
    w->count[w->depth]++;
  return 1;
}

static void open_(sg_json_writer *w, int obj) {
  if (!before_value(w, 0))
    return;
  if (w->depth >= SG_JSON_MAX_DEPTH) {
    w->err = SG_E_LIMIT;
    return;
  }
  put(w, obj ? "{" : "[", 1);
  w->depth++;
  w->count[w->depth] = 0;
  w->is_obj[w->depth] = (unsigned char)obj;
}

static void close_(sg_json_writer *w, int obj) {
  if (w->err)
    return;
  if (w->depth == 0 || w->is_obj[w->depth] != obj || w->after_key) {
    w->err = SG_E_INVAL;
    return;
  }
  int had = w->count[w->depth] > 0;
  w->depth--;
  if (had)
    newline(w);
  put(w, obj ? "}" : "]", 1);
}

void sg_json_begin_object(sg_json_writer *w) { open_(w, 1); }
void sg_json_end_object(sg_json_writer *w) { close_(w, 1); }
void sg_json_begin_array(sg_json_writer *w) { open_(w, 0); }
void sg_json_end_array(sg_json_writer *w) { close_(w, 0); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid (RFC 3629 table:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80)
    return 1;
  size_t need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    need = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (n < need)
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < need; ++i)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return need;
}

static void write_string(sg_json_writer *w, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  put(w, "\"", 1);
  size_t run = 0; /* start of the pending run of bytes that need no escaping */
  size_t i = 0;
  while (i < n && !w->err) {
    unsigned c = s[i];
    const char *esc = NULL;
    char ubuf[8];
    size_t adv = 1;
    if (c == '"')
      esc = "\\\"";
    else if (c == '\\')
      esc = "\\\\";
    else if (c == '\n')
      esc = "\\n";
    else if (c == '\r')
      esc = "\\r";
    else if (c == '\t')
      esc = "\\t";
    else if (c == '\b')
      esc = "\\b";
    else if (c == '\f')
      esc = "\\f";
    else if (c < 0x20 || c == 0x7F) {
      snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
      esc = ubuf;
    } else if (c >= 0x80) {
      adv = utf8_len(s + i, n - i);
      if (adv == 0) {
        esc = "\xEF\xBF\xBD"; /* U+FFFD REPLACEMENT CHARACTER */
        adv = 1;
      }
    }
    if (esc) {
      put(w, str + run, i - run);
      puts_(w, esc);
      run = i + adv;
    }
    i += adv;
  }
  put(w, str + run, n - run);
  put(w, "\"", 1);
}

void sg_json_key(sg_json_writer *w, const char *key) {
  if (!before_value(w, 1))
    return;
  if (!key) {
    w->err = SG_E_INVAL;
    return;
  }
  write_string(w, key, strlen(key));
  put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
  w->after_key = 1;
}

void sg_json_string(sg_json_writer *w, const char *s) {
  if (!s) {
    sg_json_null(w);
    return;
  }
  sg_json_string_n(w, s, strlen(s));
}

void sg_json_string_n(sg_json_writer *w, const char *s, size_t n) {
  if (!before_value(w, 0))
    return;
  write_string(w, s ? s : "", s ? n : 0);
}

void sg_json_number(sg_json_writer *w, double x) {
  if (!isfinite(x)) {
    sg_json_null(w);
    return;
  }
  if (!before_value(w, 0))
    return;
  char buf[40];
  if (x == 0) {
    /* -0 reads back as 0 in most consumers; write 0 to keep manifests canonical. */
    puts_(w, "0");
    return;
  }
  for (int prec = 15; prec <= 17; ++prec) {
    snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  puts_(w, buf);
}

void sg_json_int(sg_json_writer *w, int64_t x) {
  if (!before_value(w, 0))
    return;
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)x);
  puts_(w, buf);
}

void sg_json_bool(sg_json_writer *w, int b) {
  if (!before_value(w, 0))
    return;
  puts_(w, b ? "true" : "false");
}

void sg_json_null(sg_json_writer *w) {
  if (!before_value(w, 0))
    return;
  puts_(w, "null");
}

void sg_json_kv_string(sg_json_writer *w, const char *key, const char *s) {
  sg_json_key(w, key);
  sg_json_string(w, s);
}
void sg_json_kv_number(sg_json_writer *w, const char *key, double x) {
  sg_json_key(w, key);
  sg_json_number(w, x);
}
void sg_json_kv_int(sg_json_writer *w, const char *key, int64_t x) {
  sg_json_key(w, key);
  sg_json_int(w, x);
}
void sg_json_kv_bool(sg_json_writer *w, const char *key, int b) {
  sg_json_key(w, key);
  sg_json_bool(w, b);
}

sg_status sg_json_writer_status(const sg_json_writer *w) {
  if (!w)
    return SG_E_INVAL;
  if (w->err)
    return w->err;
  if (w->depth != 0 || w->after_key)
    return SG_E_INVAL;
  return SG_OK;
}

const char *sg_json_writer_text(const sg_json_writer *w, size_t *len) {
  if (!w || w->err)
    return NULL;
  if (len)
    *len = w->len;
  return w->buf ? w->buf : "";
}

char *sg_json_writer_take(sg_json_writer *w, size_t *len) {
  if (!w || w->err)
    return NULL;
  char *b = w->buf;
  if (!b) {
    b = calloc(1, 1);
    if (!b)
      return NULL;
  }
  if (len)
    *len = w->len;
  int pretty = w->pretty;
  sg_json_writer_init(w, pretty);
  return b;
}
