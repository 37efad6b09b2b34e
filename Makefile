# Thin wrapper over CMake. `make demo` and `make test` are the two commands of the README.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
DB         ?= demo/tailor-demo.db
PREFIX     ?= /usr/local

.PHONY: all deps build test asan demo bench install clean format screenshots

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTL_SANITIZE=ON -DTL_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)/tailor $(DB)

# The web page at desktop and phone width, for the README (docs/screenshots/*.png).
screenshots: build
	@python3 tests/web/screenshots.py $(BUILD)/tailor docs/screenshots

bench: build
	@./bench/run.sh $(BUILD)

# PREFIX=/usr puts the config in /etc/tailor; DESTDIR=DIR stages the files under DIR.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
