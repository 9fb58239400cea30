# bench/: benchmarks, each printed side by side with its peer.
# "make bench" builds and runs every program in BENCHMARKS;
# BENCHFLAGS is passed to each (e.g. BENCHFLAGS=--quick).
bench: $(BENCHMARKS)
	@set -e; for p in $(BENCHMARKS); do \
	    echo "=== $$p $(BENCHFLAGS)"; ./$$p $(BENCHFLAGS); echo; \
	done
bench-quick:
	$(MAKE) bench BENCHFLAGS=--quick
.PHONY: bench bench-quick
