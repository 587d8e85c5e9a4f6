"""The benchmark suite of pracsuite_async: ratios against the alternatives, measured in one run.

Run ``python -m benchmarks`` (about four minutes on 2 cores) or
``python -m benchmarks --smoke`` (every case at a small scale, seconds each). Each
case module has ``run(SuiteConfig) -> list[Row]``; see ``benchmarks/README.md``.
"""
