# make demo — set up and serve the demo tenants on http://127.0.0.1:6543
# make test — set up and run the whole test suite
# make dist — build the sdist and the wheel into dist/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= development.ini
STAMP := $(VENV)/.installed
# The suite runs on two workers, each test file on one worker (a file's module-scoped apps share its SQLite file).
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=25

.PHONY: demo test install catalogs migrate tenants accounts browser dist clean

# setuptools notes on every editable install that the checkout is imported in place:
# expected with -e, so it stays off the screen like the rest of pip's output.
$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24" "setuptools<82" wheel
	PYTHONWARNINGS="ignore:Editable installation" \
	  $(BIN)/pip install --quiet -e ".[test,postgres,redis]" -e examples/lendstack-flatrate
	touch $(STAMP)

install: $(STAMP) catalogs

catalogs: $(STAMP)
	@for po in themes/*/locale/*/LC_MESSAGES/*.po; do \
	  $(BIN)/pybabel compile --use-fuzzy -i $$po -o $${po%.po}.mo >/dev/null || exit 1; \
	done

migrate: install
	$(BIN)/lendstack db upgrade -c $(CONFIG)

tenants: migrate
	$(BIN)/lendstack tenant apply -c $(CONFIG) tenants/*.toml

# Demo sign-ins; never use these outside a demo.
DEMO_PASSWORD := lendstack-demo

accounts: tenants
	LENDSTACK_PASSWORD=$(DEMO_PASSWORD) $(BIN)/lendstack operator create -c $(CONFIG) --login operator --if-missing
	for slug in demo acme; do \
	  LENDSTACK_PASSWORD=$(DEMO_PASSWORD) $(BIN)/lendstack staff create -c $(CONFIG) --tenant $$slug --login admin --if-missing || exit 1; \
	  LENDSTACK_PASSWORD=$(DEMO_PASSWORD) $(BIN)/lendstack staff create -c $(CONFIG) --tenant $$slug --login auditor --role auditor --if-missing || exit 1; \
	done
	LENDSTACK_PASSWORD=$(DEMO_PASSWORD) $(BIN)/lendstack member create -c $(CONFIG) --tenant demo --phone 13800138000 \
	  --name 王小明 --id-number 11010519491231002X --verified --credit-line 50000 --grade A --if-missing

# Sample members, money, loans in every state, news and a banner (once: a second run changes nothing).
demo: accounts
	for slug in demo acme; do \
	  LENDSTACK_PASSWORD=$(DEMO_PASSWORD) $(BIN)/lendstack demo seed -c $(CONFIG) --tenant $$slug || exit 1; \
	done
	@echo "Open http://demo.localhost:6543 (zh_Hant, CNY) and http://acme.localhost:6543 (en, USD)."
	@echo "Back office: /admin on either host; operator console: http://operator.localhost:6543/operator"
	@echo "Demo sign-ins (password $(DEMO_PASSWORD)): member 13800138000 on demo; back office auditor (read-only)"
	@echo "or admin (two-factor: add the otpauth URI printed above to an authenticator); console: operator (two-factor: the otpauth URI printed for it)"
	@echo "The sample loans' close of day ran a month on: each demo tenant's business date is past its manifest's."
	$(BIN)/lendstack serve -c $(CONFIG)

# Browser tests drive Debian's chromium (never a downloaded browser); install it when missing and allowed.
BROWSER_PACKAGES := chromium fonts-wqy-zenhei

browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1; } || \
	    echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "chromium is not installed: the browser tests will be skipped"; fi; \
	fi
	@# Contract PDFs (WeasyPrint) and screenshots need a CJK font.
	@if ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1; } || \
	    echo "could not install a CJK font: Chinese text in contract PDFs will show as boxes"; \
	  else echo "no CJK font is installed (fonts-wqy-zenhei): Chinese text in contract PDFs will show as boxes"; fi; \
	fi

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --config pyproject.toml
	$(BIN)/pytest $(PYTEST_ARGS)

# The wheel carries the compiled catalogs; tests/test_wheel.py builds and boots one.
dist: catalogs
	$(BIN)/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) var build dist *.egg-info
