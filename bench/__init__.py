"""`make bench`: the scale data set, the production server and timed scenarios.

Run it as `python -m bench.run`.
"""
