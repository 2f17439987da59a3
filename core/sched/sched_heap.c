/* sched_heap.c -- the ready heap (scheduled TIs by priority) and the timer heap (retries and reschedules by
 * wake time). */
#include "sched/sched_internal.h"

#include <stdlib.h>

/* ------------------------------------------------------------------------------------------ heaps */

/* ready: higher effective priority first, then older logical date, then task order. */
int mlf_sc_ready_before(const sti *a, const sti *b)
{
    int64_t pa = a->run->dag->tasks[a->task].effective_priority, pb = b->run->dag->tasks[b->task].effective_priority;
    if (pa != pb)
        return pa > pb;
    if (a->run->rec.logical_date != b->run->rec.logical_date)
        return a->run->rec.logical_date < b->run->rec.logical_date;
    if (a->task != b->task)
        return a->task < b->task;
    return a->map_index < b->map_index;
}

int mlf_sc_timer_before(const sti *a, const sti *b)
{
    return a->wake_at < b->wake_at;
}

static void heap_swap(heap *h, size_t i, size_t j)
{
    sti *t = h->v[i];
    h->v[i] = h->v[j];
    h->v[j] = t;
    h->v[i]->heap_idx = i;
    h->v[j]->heap_idx = j;
}

static void heap_up(heap *h, size_t i, int (*before)(const sti *, const sti *))
{
    while (i > 0 && before(h->v[i], h->v[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(heap *h, size_t i, int (*before)(const sti *, const sti *))
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(h->v[l], h->v[m]))
            m = l;
        if (r < h->n && before(h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

int mlf_sc_heap_push(heap *h, sti *t, int (*before)(const sti *, const sti *))
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        sti **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return MLF_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n] = t;
    t->heap_idx = h->n++;
    heap_up(h, t->heap_idx, before);
    return MLF_OK;
}

sti *mlf_sc_heap_pop(heap *h, int (*before)(const sti *, const sti *))
{
    if (!h->n)
        return NULL;
    sti *top = h->v[0];
    h->v[0] = h->v[--h->n];
    h->v[0]->heap_idx = 0;
    if (h->n)
        heap_down(h, 0, before);
    top->heap_idx = (size_t)-1;
    return top;
}

void mlf_sc_heap_remove(heap *h, sti *t, int (*before)(const sti *, const sti *))
{
    size_t i = t->heap_idx;
    if (i == (size_t)-1 || i >= h->n || h->v[i] != t)
        return;
    h->v[i] = h->v[--h->n];
    if (i < h->n) {
        h->v[i]->heap_idx = i;
        heap_down(h, i, before);
        heap_up(h, i, before);
    }
    t->heap_idx = (size_t)-1;
}
