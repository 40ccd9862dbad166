# Benchmarks: built on demand, run by `make bench`.
