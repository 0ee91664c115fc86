# Two commands: `make run` (service with demo data) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app gis_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup system-run system-test db stop bench lint translations clean

run: system-run setup db
	$(FLASK) users ensure-demo-admin
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop; 'make stop' stops the database)"
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

test: system-test setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

system-run:
	@scripts/system.sh run

system-test:
	@scripts/system.sh test

setup: $(VENV)/.installed translations

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: $(patsubst %.po,%.mo,$(wildcard gis_app/translations/*/LC_MESSAGES/messages.po))

gis_app/translations/%/LC_MESSAGES/messages.mo: gis_app/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

# The private cluster under var/ unless DATABASE_URL points elsewhere.
db: setup
	@if [ -z "$$DATABASE_URL" ]; then scripts/devdb.sh ensure heritage; fi
	$(FLASK) db upgrade
	$(FLASK) demo load

stop:
	scripts/devdb.sh stop

bench: setup
	@scripts/system.sh bench
	$(BIN)/python bench/geojson_bbox.py
	$(BIN)/python bench/ogc_items.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/zone_check.py
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/officials.py
	$(BIN)/python bench/public_map.py
	$(BIN)/python bench/read_replica.py
	$(BIN)/python bench/encoding_detect.py
	$(BIN)/python bench/tiles.py
	$(BIN)/python bench/downloads.py

lint: setup
	$(BIN)/ruff check gis_app layers tests bench data

clean:
	scripts/devdb.sh stop
	rm -rf $(VENV) var
