# stemgate: the two entry points a new user needs.
#   make demo   - install missing packages, build, render the bundled song, verify the package
#   make check  - install missing packages, build with warnings as errors, run every test,
#                 then the same tests again under AddressSanitizer + UndefinedBehaviorSanitizer
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
SONG ?= examples/deja-vu.yaml
OUT ?= out/deja-vu

.PHONY: all deps build demo examples check test asan clean bench format format-check docs install fuzz

all: build

deps:
	@sh scripts/deps.sh


build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/stemgate render $(SONG) -o $(OUT)
	./$(BUILD)/stemgate verify $$(ls $(OUT)/current/*.zip | head -n 1) --spec $(SONG)

# Every bundled song rendered and verified (a few minutes; not part of make check).
examples: build
	@set -e; for f in examples/*.yaml; do \
	  n=$$(basename $$f .yaml); \
	  ./$(BUILD)/stemgate render $$f -o out/$$n --quiet; \
	  ./$(BUILD)/stemgate verify $$(ls out/$$n/current/*.zip | head -n 1) --spec $$f > out/$$n.verify.txt || \
	    { tail -n 3 out/$$n.verify.txt; exit 1; }; \
	  tail -n 1 out/$$n.verify.txt; \
	done

# The binary, libstemgate.so, the public headers, stemgate.pc and the man pages:
#   make install PREFIX=/usr/local DESTDIR=/tmp/stage
PREFIX ?= /usr/local
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# docs/gates.md is generated from the check table (a test fails when it is stale).
docs: build
	./$(BUILD)/stemgate checks --markdown > docs/gates.md

test: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSG_SANITIZE=ON -DSG_WERROR=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) -j $(JOBS) --output-on-failure

# libFuzzer (clang, installed by deps.sh only for this target) with ASan and UBSan: every
# target of fuzz/ for FUZZ_SECONDS each, its seeds (made by the target) as the first corpus.
# The corpora stay in $(FUZZ_BUILD)/corpus/<target>; see fuzz/README.md.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = spec audio zip midi theory
fuzz:
	@sh scripts/deps.sh fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_FUZZ=ON -DSG_TESTS=OFF -DSG_WERROR=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  SG_FUZZ_SEEDS=$(FUZZ_BUILD)/corpus/$$t SG_SOURCE_DIR=$(CURDIR) \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    $(FUZZ_BUILD)/corpus/$$t; done

# Formatting is part of the check: every tracked C file as the committed .clang-format says.
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find src include cli tests bench fuzz -name '*.[ch]')

format-check: deps
	@clang-format --dry-run --Werror $(SOURCES) && echo "format: $(words $(SOURCES)) files clean"

format: deps
	clang-format -i $(SOURCES)

check: format-check test asan

bench: build
	sh bench/loop.sh $(BUILD)
	sh bench/peers.sh $(BUILD)
	sh bench/memory.sh $(BUILD) 10 60

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) out
