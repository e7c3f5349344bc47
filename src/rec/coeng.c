/*
 * coeng.c — see coeng.h.
 */
#include "rec/coeng.h"

#include "core/alloc.h"

#include <string.h>

int coeng_init(struct coeng *co, unsigned neighbours)
{
    memset(co, 0, sizeof *co);
    co->neighbours = neighbours;
    return 0;
}

void coeng_clear(struct coeng *co)
{
    for (uint32_t i = 0; i < co->cap; i++)
        reel_free(co->lists[i]);
    reel_free(co->lists);
    memset(co, 0, sizeof *co);
}

static int ensure_row(struct coeng *co, uint32_t row)
{
    if (row < co->cap)
        return 0;
    uint32_t cap = co->cap ? co->cap : 1024;
    while (cap <= row)
        cap *= 2;
    void *p = co->lists;
    if (reel_array_grow(&p, cap, sizeof *co->lists) < 0)
        return -1;
    co->lists = p;
    memset(co->lists + co->cap, 0, (cap - co->cap) * sizeof *co->lists);
    co->bytes += (cap - co->cap) * sizeof *co->lists;
    co->cap = cap;
    return 0;
}

static int add_one(struct coeng *co, uint32_t from, uint32_t to, float weight)
{
    if (ensure_row(co, from) < 0)
        return -1;
    struct coeng_list *l = co->lists[from];
    if (l) {
        for (uint16_t i = 0; i < l->count; i++) {
            if (l->e[i].row == to) {
                l->e[i].count += weight;
                return 0;
            }
        }
    }
    if (!l || l->count == l->cap) {
        if (l && l->cap >= co->neighbours) {
            uint16_t weakest = 0;
            for (uint16_t i = 1; i < l->count; i++)
                if (l->e[i].count < l->e[weakest].count)
                    weakest = i;
            if (l->e[weakest].count > weight)
                return 0; /* every partner is stronger than a single new one */
            l->e[weakest].row = to;
            l->e[weakest].count = weight;
            return 0;
        }
        uint16_t cap = l ? (uint16_t)(l->cap * 2) : 4;
        if (cap > co->neighbours)
            cap = (uint16_t)co->neighbours;
        struct coeng_list *n = reel_realloc(l, sizeof *l + (size_t)cap * sizeof l->e[0]);
        if (!n)
            return -1;
        if (!l)
            n->count = 0;
        co->bytes += (size_t)(cap - (l ? n->cap : 0)) * sizeof n->e[0] + (l ? 0 : sizeof *n);
        n->cap = cap;
        l = n;
        co->lists[from] = l;
    }
    l->e[l->count].row = to;
    l->e[l->count].count = weight;
    l->count++;
    return 0;
}

int coeng_add_pair(struct coeng *co, uint32_t a, uint32_t b, float weight)
{
    if (a == b || co->neighbours == 0)
        return 0;
    if (add_one(co, a, b, weight) < 0)
        return -1;
    return add_one(co, b, a, weight);
}

void coeng_remove(struct coeng *co, uint32_t row)
{
    if (row >= co->cap || !co->lists[row])
        return;
    struct coeng_list *l = co->lists[row];
    for (uint16_t i = 0; i < l->count; i++) {
        struct coeng_list *p = l->e[i].row < co->cap ? co->lists[l->e[i].row] : NULL;
        if (!p)
            continue;
        for (uint16_t j = 0; j < p->count; j++) {
            if (p->e[j].row == row) {
                p->e[j] = p->e[--p->count];
                break;
            }
        }
    }
    co->bytes -= sizeof *l + (size_t)l->cap * sizeof l->e[0];
    reel_free(l);
    co->lists[row] = NULL;
}

int coeng_set(struct coeng *co, uint32_t row, struct coeng_list *list)
{
    if (ensure_row(co, row) < 0)
        return -1;
    reel_free(co->lists[row]);
    co->lists[row] = list;
    co->bytes += sizeof *list + (size_t)list->cap * sizeof list->e[0];
    return 0;
}

size_t coeng_bytes(const struct coeng *co)
{
    return co->bytes;
}
