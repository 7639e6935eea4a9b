// The CPU kernel harness's test binary (tests/emu): Catch2's main.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
