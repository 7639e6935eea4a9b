// The toolkit splits the runtime API into this header and cuda_runtime.h; the harness has one.
#pragma once
#include "cuda_runtime.h"
