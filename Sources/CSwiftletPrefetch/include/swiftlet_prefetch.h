// swiftlet_prefetch.h: a cache prefetch hint, which Swift has no way to issue itself. The ratelimit plugin asks for
// the line of a table set early in a query, so the lookup at the reply's end finds it in the cache.
#ifndef SWIFTLET_PREFETCH_H
#define SWIFTLET_PREFETCH_H

static inline void swiftlet_prefetch(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
