# The two commands of the README: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-spark lint setup clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/journey run

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

# The Spark build and its equivalence with DuckDB (docs/spark.md): a virtual environment of its own, .venv-spark,
# with the `spark` extra (dbt-spark, pyspark; needs Java 17+), then the tests marked `spark`. Not .venv: with
# pyspark installed, importing Great Expectations imports pyspark.sql.connect, which exits a pytest-xdist worker
# ("Skipping doctests: No module named 'grpc'"), so `make test` would fail after it.
SPARK_VENV := .venv-spark
$(SPARK_VENV)/.installed: pyproject.toml constraints.txt
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(SPARK_VENV)/bin/pip install --quiet -c constraints.txt -e ".[dev,spark]"
	touch $@

test-spark: $(SPARK_VENV)/.installed
	$(SPARK_VENV)/bin/python -m pytest -m spark

# The slow tests that `make test` leaves out (pyproject.toml: marker `slow`), e.g. the benchmark at 10,000 customers.
.PHONY: test-slow
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Any finding fails (make test runs this first). sqlfluff: .sqlfluff (jinja templater, two processes).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros analyses data-tests

clean:
	rm -rf target logs journey.duckdb out
