// The header holds the one inline function; a C target needs a source file.
#include "swiftlet_prefetch.h"
