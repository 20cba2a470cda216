/* Minimal strict JSON reader (RFC 8259) for re-reading manifests, safe on hostile input.
 *
 * Recursive descent with an explicit depth bound (SG_JSON_PARSE_MAX_DEPTH), so stack use is
 * bounded; every value and string lives in one arena whose total size is bounded by a small
 * multiple of the input length (each value consumes at least one input byte, each decoded
 * string is no longer than its escaped form), so memory is bounded too. Input must be UTF-8;
 * \u escapes are decoded with surrogate pairs combined and lone surrogates rejected. */
#include "json.h"
#include "package_internal.h"
#include "stemgate/package.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  /* data follows, max_align_t aligned */
} arena_block;

struct sg_json_doc {
  arena_block *blocks;
  sg_json_value *root;
};

typedef struct parser {
  const unsigned char *s;
  size_t n, i;
  int depth;
  sg_json_doc *doc;
  sg_diag *d;
  sg_status err;
} parser;

#define ARENA_ALIGN 16u
#define ARENA_BLOCK (64u * 1024u)

static void *arena_alloc(sg_json_doc *doc, size_t n) {
  n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  arena_block *b = doc->blocks;
  size_t hdr = (sizeof(arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (!b || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    b = malloc(hdr + cap);
    if (!b)
      return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = doc->blocks;
    doc->blocks = b;
  }
  void *p = (char *)b + hdr + b->used;
  b->used += n;
  return p;
}

/* Line and column (1-based, in bytes) of offset i, for error messages. */
static void position(const parser *p, size_t i, int *line, int *col) {
  int l = 1, c = 1;
  for (size_t k = 0; k < i && k < p->n; ++k) {
    if (p->s[k] == '\n') {
      l++;
      c = 1;
    } else
      c++;
  }
  *line = l;
  *col = c;
}

static int fail(parser *p, sg_status st, const char *what) {
  if (p->err)
    return 0;
  p->err = st;
  int line, col;
  position(p, p->i, &line, &col);
  sg_diag_at(p->d, NULL, line, col);
  sg_diag_fail(p->d, st, "JSON %d:%d: %s", line, col, what);
  return 0;
}

static void skip_ws(parser *p) {
  while (p->i < p->n) {
    unsigned char c = p->s[p->i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      p->i++;
    else
      break;
  }
}

static int hex4(parser *p, unsigned *out) {
  if (p->n - p->i < 4)
    return fail(p, SG_E_PARSE, "truncated \\u escape");
  unsigned v = 0;
  for (int k = 0; k < 4; ++k) {
    unsigned char c = p->s[p->i + (size_t)k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return fail(p, SG_E_PARSE, "bad hex digit in \\u escape");
  }
  p->i += 4;
  *out = v;
  return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Valid UTF-8 sequence length at s (RFC 3629), 0 when invalid. */
size_t sg__utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    need = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else
    return 0;
  if (n < need || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t k = 2; k < need; ++k)
    if (s[k] < 0x80 || s[k] > 0xBF)
      return 0;
  return need;
}

/* Parses a string starting at the opening quote; result in the arena. */
static int parse_string(parser *p, const char **out, size_t *out_len) {
  p->i++; /* opening quote */
  /* Find the closing quote first to size the buffer: decoded length <= raw length. */
  size_t start = p->i, k = start;
  while (k < p->n && p->s[k] != '"') {
    if (p->s[k] == '\\')
      k++;
    k++;
  }
  if (k >= p->n)
    return fail(p, SG_E_PARSE, "unterminated string");
  char *o = arena_alloc(p->doc, k - start + 1);
  if (!o)
    return fail(p, SG_E_NOMEM, "out of memory");
  size_t w = 0;
  while (p->i < p->n) {
    unsigned char c = p->s[p->i];
    if (c == '"') {
      p->i++;
      o[w] = '\0';
      *out = o;
      *out_len = w;
      return 1;
    }
    if (c < 0x20)
      return fail(p, SG_E_PARSE, "control character in string (must be escaped)");
    if (c == '\\') {
      p->i++;
      if (p->i >= p->n)
        return fail(p, SG_E_PARSE, "unterminated escape");
      unsigned char e = p->s[p->i++];
      switch (e) {
      case '"':
        o[w++] = '"';
        break;
      case '\\':
        o[w++] = '\\';
        break;
      case '/':
        o[w++] = '/';
        break;
      case 'b':
        o[w++] = '\b';
        break;
      case 'f':
        o[w++] = '\f';
        break;
      case 'n':
        o[w++] = '\n';
        break;
      case 'r':
        o[w++] = '\r';
        break;
      case 't':
        o[w++] = '\t';
        break;
      case 'u': {
        unsigned cp;
        if (!hex4(p, &cp))
          return 0;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
            return fail(p, SG_E_PARSE, "high surrogate without a low surrogate");
          p->i += 2;
          if (!hex4(p, &lo))
            return 0;
          if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, SG_E_PARSE, "high surrogate without a low surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF)
          return fail(p, SG_E_PARSE, "lone low surrogate");
        /* 6 or 12 escape bytes always give at most 4 output bytes. */
        w += put_utf8(o + w, cp);
        break;
      }
      default:
        p->i--;
        return fail(p, SG_E_PARSE, "unknown escape in string");
      }
      continue;
    }
    size_t L = sg__utf8_seq(p->s + p->i, p->n - p->i);
    if (L == 0)
      return fail(p, SG_E_PARSE, "invalid UTF-8 in string");
    memcpy(o + w, p->s + p->i, L);
    w += L;
    p->i += L;
  }
  return fail(p, SG_E_PARSE, "unterminated string");
}

static int parse_number(parser *p, double *out) {
  size_t st = p->i;
  if (p->i < p->n && p->s[p->i] == '-')
    p->i++;
  if (p->i >= p->n)
    return fail(p, SG_E_PARSE, "truncated number");
  if (p->s[p->i] == '0') {
    p->i++;
  } else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') {
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
      p->i++;
  } else
    return fail(p, SG_E_PARSE, "bad number");
  if (p->i < p->n && p->s[p->i] == '.') {
    p->i++;
    size_t f = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
      p->i++;
    if (p->i == f)
      return fail(p, SG_E_PARSE, "digits required after '.'");
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    p->i++;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
      p->i++;
    size_t f = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
      p->i++;
    if (p->i == f)
      return fail(p, SG_E_PARSE, "digits required in exponent");
  }
  char buf[64];
  size_t len = p->i - st;
  char *tmp = buf;
  if (len >= sizeof buf) {
    tmp = malloc(len + 1);
    if (!tmp)
      return fail(p, SG_E_NOMEM, "out of memory");
  }
  memcpy(tmp, p->s + st, len);
  tmp[len] = '\0';
  errno = 0;
  double v = strtod(tmp, NULL);
  if (tmp != buf)
    free(tmp);
  if (!isfinite(v))
    return fail(p, SG_E_RANGE, "number out of range");
  *out = v;
  return 1;
}

static int literal(parser *p, const char *lit) {
  size_t L = strlen(lit);
  if (p->n - p->i < L || memcmp(p->s + p->i, lit, L) != 0)
    return fail(p, SG_E_PARSE, "unexpected character");
  p->i += L;
  return 1;
}

static sg_json_value *parse_value(parser *p);

static sg_json_value *new_value(parser *p, sg_json_type t) {
  sg_json_value *v = arena_alloc(p->doc, sizeof *v);
  if (!v) {
    fail(p, SG_E_NOMEM, "out of memory");
    return NULL;
  }
  memset(v, 0, sizeof *v);
  v->type = t;
  return v;
}

static sg_json_value *parse_container(parser *p, int obj) {
  if (p->depth >= SG_JSON_PARSE_MAX_DEPTH) {
    fail(p, SG_E_LIMIT, "nesting deeper than 64 levels");
    return NULL;
  }
  p->depth++;
  sg_json_value *v = new_value(p, obj ? SG_JSON_OBJECT : SG_JSON_ARRAY);
  if (!v)
    return NULL;
  p->i++; /* '{' or '[' */
  sg_json_value **tail = &v->child;
  skip_ws(p);
  char close = obj ? '}' : ']';
  if (p->i < p->n && p->s[p->i] == (unsigned char)close) {
    p->i++;
    p->depth--;
    return v;
  }
  for (;;) {
    const char *key = NULL;
    size_t key_len = 0;
    skip_ws(p);
    if (obj) {
      if (p->i >= p->n || p->s[p->i] != '"') {
        fail(p, SG_E_PARSE, "expected a member name in quotes");
        return NULL;
      }
      if (!parse_string(p, &key, &key_len))
        return NULL;
      skip_ws(p);
      if (p->i >= p->n || p->s[p->i] != ':') {
        fail(p, SG_E_PARSE, "expected ':' after member name");
        return NULL;
      }
      p->i++;
    }
    sg_json_value *c = parse_value(p);
    if (!c)
      return NULL;
    c->key = key;
    c->key_len = key_len;
    *tail = c;
    tail = &c->next;
    v->n++;
    skip_ws(p);
    if (p->i >= p->n) {
      fail(p, SG_E_PARSE, obj ? "unterminated object" : "unterminated array");
      return NULL;
    }
    if (p->s[p->i] == ',') {
      p->i++;
      continue;
    }
    if (p->s[p->i] == (unsigned char)close) {
      p->i++;
      p->depth--;
      return v;
    }
    fail(p, SG_E_PARSE, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    return NULL;
  }
}

static sg_json_value *parse_value(parser *p) {
  skip_ws(p);
  if (p->i >= p->n) {
    fail(p, SG_E_PARSE, "unexpected end of input");
    return NULL;
  }
  unsigned char c = p->s[p->i];
  sg_json_value *v;
  switch (c) {
  case '{':
    return parse_container(p, 1);
  case '[':
    return parse_container(p, 0);
  case '"':
    v = new_value(p, SG_JSON_STRING);
    if (!v || !parse_string(p, &v->str, &v->len))
      return NULL;
    return v;
  case 't':
  case 'f':
    v = new_value(p, SG_JSON_BOOL);
    if (!v || !literal(p, c == 't' ? "true" : "false"))
      return NULL;
    v->boolean = c == 't';
    return v;
  case 'n':
    v = new_value(p, SG_JSON_NULL);
    if (!v || !literal(p, "null"))
      return NULL;
    return v;
  default:
    if (c == '-' || (c >= '0' && c <= '9')) {
      v = new_value(p, SG_JSON_NUMBER);
      if (!v || !parse_number(p, &v->number))
        return NULL;
      return v;
    }
    fail(p, SG_E_PARSE, "unexpected character");
    return NULL;
  }
}

sg_status sg_json_parse(const char *text, size_t len, sg_json_doc **out, sg_diag *d) {
  if (!out || (!text && len))
    return sg_diag_fail(d, SG_E_INVAL, "JSON: NULL argument");
  *out = NULL;
  sg_json_doc *doc = calloc(1, sizeof *doc);
  if (!doc)
    return sg_diag_fail(d, SG_E_NOMEM, "JSON: out of memory");
  parser p = {(const unsigned char *)text, len, 0, 0, doc, d, SG_OK};
  /* A UTF-8 byte order mark is not JSON (RFC 8259 section 8.1); refuse it like any stray byte. */
  doc->root = parse_value(&p);
  if (doc->root) {
    skip_ws(&p);
    if (p.i != p.n)
      fail(&p, SG_E_PARSE, "extra text after the JSON value");
  }
  if (p.err) {
    sg_json_doc_free(doc);
    return p.err;
  }
  *out = doc;
  return SG_OK;
}

const sg_json_value *sg_json_root(const sg_json_doc *doc) { return doc ? doc->root : NULL; }

void sg_json_doc_free(sg_json_doc *doc) {
  if (!doc)
    return;
  arena_block *b = doc->blocks;
  while (b) {
    arena_block *n = b->next;
    free(b);
    b = n;
  }
  free(doc);
}

const sg_json_value *sg_json_get(const sg_json_value *obj, const char *key) {
  if (!obj || obj->type != SG_JSON_OBJECT || !key)
    return NULL;
  size_t L = strlen(key);
  for (const sg_json_value *c = obj->child; c; c = c->next)
    if (c->key && c->key_len == L && memcmp(c->key, key, L) == 0)
      return c;
  return NULL;
}

const sg_json_value *sg_json_at(const sg_json_value *v, size_t i) {
  if (!v || (v->type != SG_JSON_ARRAY && v->type != SG_JSON_OBJECT) || i >= v->n)
    return NULL;
  const sg_json_value *c = v->child;
  while (i-- && c)
    c = c->next;
  return c;
}

const char *sg_json_get_str(const sg_json_value *obj, const char *key, const char *def) {
  const sg_json_value *v = sg_json_get(obj, key);
  return v && v->type == SG_JSON_STRING ? v->str : def;
}

double sg_json_get_num(const sg_json_value *obj, const char *key, double def) {
  const sg_json_value *v = sg_json_get(obj, key);
  return v && v->type == SG_JSON_NUMBER ? v->number : def;
}

int sg_json_get_bool(const sg_json_value *obj, const char *key, int def) {
  const sg_json_value *v = sg_json_get(obj, key);
  return v && v->type == SG_JSON_BOOL ? v->boolean : def;
}
