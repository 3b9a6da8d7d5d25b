# shilu — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STORE  ?= data/store
PORT   ?= 7878
HOST   ?= 127.0.0.1
# The default corpus: the seeds and the history corpus beside the project, where present.
CORPUS ?= $(wildcard ../shared/seeds ../shared/corpus/history)

.PHONY: run build serve test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

build: $(VENV)/.installed
	@if [ -z "$(CORPUS)" ]; then echo "no corpus found: give one, e.g. make run CORPUS='path/to/articles'" >&2; exit 2; fi
	$(BIN)/shilu build $(CORPUS) --store $(STORE)

run: build
	$(BIN)/shilu serve --store $(STORE) --host $(HOST) --port $(PORT)

serve: $(VENV)/.installed
	$(BIN)/shilu serve --store $(STORE) --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data build *.egg-info
