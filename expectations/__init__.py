"""Great Expectations suites (declared as data in ``suites.py``) and the runner behind ``journey dq``."""
