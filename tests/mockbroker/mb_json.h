/* mb_json.h - a small JSON reader (tree in an arena) and a string writer
 * that escapes the way fastjson does, so re-encoded headers are byte-exact. */
#ifndef MB_JSON_H
#define MB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "mb_util.h"

typedef enum { MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ } mj_type;

typedef struct mj_node {
    mj_type type;
    const char *key;      /* member name when the parent is an object */
    size_t key_len;
    const char *str;      /* STR: decoded bytes (NUL-terminated); NUM/BOOL: literal */
    size_t len;
    struct mj_node *child; /* first element/member of ARR/OBJ */
    struct mj_node *next;  /* next sibling */
    size_t count;          /* number of children */
} mj_node;

typedef struct mj_doc {
    mj_node *root;
    mb_arena own;
    mb_arena *arena;   /* where nodes and strings live: &own unless mj_parse_in */
    const char *err;   /* static description of the first error */
    size_t err_pos;
} mj_doc;

/* Accept fastjson's unquoted map keys such as {0:"127.0.0.1:10911"}. */
#define MJ_LENIENT_KEYS 1

/* Returns 0 on success; on failure -1 with d->err set. Always call mj_free. */
int mj_parse(mj_doc *d, const char *text, size_t len, int flags);
/* The same, with the tree in the caller's arena (it outlives d; mj_free
 * then has nothing to free). */
int mj_parse_in(mj_doc *d, mb_arena *arena, const char *text, size_t len, int flags);
void mj_free(mj_doc *d);

/* A quick reader for the shape remoting headers nearly always have: a
 * compact object of scalars and of objects of scalars. The members go to
 * out[] in order, without a tree: an inner object is an MJ_OBJ member
 * whose `count` members follow it. Strings are decoded in place in `text`
 * (which must be writable) and NUL-terminated there; numbers are copied
 * into the arena. Returns the number of members, or -1 when the text is
 * not of that shape or has more than max members: no verdict, the caller
 * then parses a fresh copy with mj_parse. */
int mj_quick_flat(mb_arena *arena, char *text, size_t len, mj_node *out, size_t max);

/* Object member lookup; the last duplicate wins, as with fastjson maps. */
const mj_node *mj_get(const mj_node *obj, const char *key);
/* The member's string (only if it is a JSON string), else NULL. */
const char *mj_get_str(const mj_node *obj, const char *key);
/* A number, or a string holding a decimal number. 0 on success. */
int mj_get_i64(const mj_node *obj, const char *key, int64_t *out);
int mj_node_i64(const mj_node *n, int64_t *out);

/* Append a quoted JSON string. Control characters become \b \t \n \f \r or
 * \u00XX (the form fastjson writes, e.g. \u0001 in property strings). */
void mj_put_str(mb_buf *b, const char *s, size_t n);
/* The most mj_put_str writes for n bytes: each may become \u00XX. */
#define MJ_STR_MAX(n) (6 * (n) + 2)
/* The same into o, which has room for MJ_STR_MAX(n) bytes; returns the end. */
unsigned char *mj_write_str(unsigned char *o, const char *s, size_t n);

#endif
