# libFuzzer targets: `make fuzz` builds each with clang
# (-fsanitize=fuzzer,address,undefined) against all of libeas and runs it
# for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=600).  A target NAME is
# fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput; an optional executable
# fuzz/seed-NAME fills the corpus directory given as $1 (run from the build
# directory, top_srcdir in the environment).  The corpus grows in
# fuzz/corpus/NAME across runs; crashes are written to fuzz/NAME-crash-*.
#
# Add a target with one line (and list a seed script in EXTRA_DIST):
FUZZ_TARGETS = wbxml_decode
FUZZ_TARGETS += autodiscover
FUZZ_TARGETS += tz
FUZZ_TARGETS += recur
EXTRA_DIST += fuzz/seed-tz fuzz/seed-recur
EXTRA_DIST += fuzz/seed-wbxml_decode
FUZZ_TARGETS += mime
EXTRA_DIST += fuzz/seed-mime

FUZZ_SECONDS = 60
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = -I$(top_srcdir)/libeas -I$(top_builddir) $(libeas_libeas_la_CPPFLAGS)
FUZZ_LIBS = $(libeas_libeas_la_LIBADD)
EXTRA_DIST += fuzz/fuzz.mk $(FUZZ_TARGETS:%=fuzz/fuzz_%.c)
CLEANFILES += $(FUZZ_TARGETS:%=fuzz/%-fuzzer)

.PHONY: fuzz
# Seed scripts may use the tools.
fuzz: $(bin_PROGRAMS)
	@test -n "$(CLANG)" || { echo "make fuzz needs clang (Debian: clang, libclang-rt-dev)"; exit 1; }
	@set -e; mkdir -p fuzz; \
	srcs=""; for f in $(libeas_libeas_la_SOURCES); do \
	    case $$f in *.c) srcs="$$srcs $(top_srcdir)/$$f";; esac; done; \
	for t in $(FUZZ_TARGETS); do \
	    echo "  FUZZ     $$t ($(FUZZ_SECONDS) s)"; \
	    $(CLANG) $(FUZZ_FLAGS) $(FUZZ_CPPFLAGS) -o fuzz/$$t-fuzzer \
	        $(top_srcdir)/fuzz/fuzz_$$t.c $$srcs $(FUZZ_LIBS); \
	    mkdir -p fuzz/corpus/$$t; \
	    if test -x $(top_srcdir)/fuzz/seed-$$t; then \
	        top_srcdir=$(top_srcdir) $(top_srcdir)/fuzz/seed-$$t fuzz/corpus/$$t; fi; \
	    ./fuzz/$$t-fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=fuzz/$$t-crash- fuzz/corpus/$$t 2>fuzz/$$t.log || \
	        { tail -n 60 fuzz/$$t.log; exit 1; }; \
	    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+ +DONE)' \
	        fuzz/$$t.log | sed "s/^/  $$t: /"; \
	done
