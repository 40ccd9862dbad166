# Benchmarks: built on demand, run by `make bench`.
.PHONY: bench bench-wbxml bench-mime bench-sync
bench: bench-wbxml bench-mime bench-sync

# WBXML decode/encode throughput, libeas against libwbxml2 (libwbxml2-dev).
EXTRA_DIST += bench/wbxml-bench.c
CLEANFILES += bench/wbxml-corpus/*.wbxml
if HAVE_LIBWBXML
EXTRA_PROGRAMS += bench/wbxml-bench
CLEANFILES += bench/wbxml-bench
bench_wbxml_bench_SOURCES = bench/wbxml-bench.c
bench_wbxml_bench_CPPFLAGS = $(AM_CPPFLAGS) $(WBXML2_CFLAGS)
bench_wbxml_bench_LDADD = libeas/libeas.la $(APR_LIBS) $(WBXML2_LIBS)

bench-wbxml: bench/wbxml-bench$(EXEEXT) tools/eas-wbxml$(EXEEXT)
	@mkdir -p bench/wbxml-corpus
	@for x in $(top_srcdir)/t/wbxml-corpus/*.xml; do \
	    tools/eas-wbxml encode $$x >bench/wbxml-corpus/`basename $$x .xml`.wbxml || exit 1; \
	done
	bench/wbxml-bench -t $(BENCH_SECONDS) bench/wbxml-corpus/*.wbxml
else
bench-wbxml:
	@echo "bench-wbxml needs libwbxml2 (Debian: libwbxml2-dev)"; exit 1
endif
BENCH_SECONDS = 1

# MIME parse + Sync item writing per message, and a 10 MB attachment.
EXTRA_PROGRAMS += bench/mime-bench
CLEANFILES += bench/mime-bench
bench_mime_bench_SOURCES = bench/mime-bench.c
bench_mime_bench_LDADD = libeas/libeas.la $(APR_LIBS)
bench-mime: bench/mime-bench$(EXEEXT)
	bench/mime-bench -t $(BENCH_SECONDS) $(top_srcdir)/t/mime-corpus/*.eml

# Sync engine on a local eas-stack: initial syncs of 10,000 contacts and
# 5,000 events, incremental Syncs in 1k/10k/100k-item collections
# (BENCH_SYNC_ARGS=--quick: a tenth of that).
EXTRA_DIST += bench/sync-bench.sh
bench-sync: all tools/eas-wbxml$(EXEEXT)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	    $(SHELL) $(top_srcdir)/bench/sync-bench.sh $(BENCH_SYNC_ARGS)
