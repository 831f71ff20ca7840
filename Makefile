# Broadside: `make demo` and `make test` are all a fresh Debian machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# System packages: libraries to build against, and real servers for the tests.
DEBIAN_PACKAGES := libsqlite3-dev libcurl4-openssl-dev postfix python3-aiosmtpd python3-dkim python3-jinja2 dovecot-imapd openssl bc chromium curl wrk sqlite3 zlib1g-dev libreoffice-writer-nogui python3-docx python3-uno poppler-utils python3-authlib python3-flask fonts-noto-cjk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_FLAGS ?=
DEMO_DB := .build/demo/broadside.sqlite

.PHONY: deps build release test demo bench clean

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	swift build $(SWIFT_FLAGS)

release: deps
	swift build -c release $(SWIFT_FLAGS)

test: deps
	swift build --build-tests $(SWIFT_FLAGS)
	swift test --skip-build $(SWIFT_FLAGS)

# Starts the scriptable SMTP test server on a free loopback port, imports the sample
# list, sends the sample campaign through it, prints the report, stops the server.
demo: build
	@bash scripts/demo.sh "$$(swift build $(SWIFT_FLAGS) --show-bin-path)/broadside" "$(DEMO_DB)"

# Release build; each benchmark prints its figures beside a reference measured in the same run.
bench: release
	@swift build -c release --product RenderBenchmark $(SWIFT_FLAGS)
	@bash bench/render.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/RenderBenchmark"
	@bash bench/import.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/send.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/report.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/check.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/serve.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/documents.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/latency.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"
	@bash bench/relays.sh "$$(swift build -c release $(SWIFT_FLAGS) --show-bin-path)/broadside"

clean:
	rm -rf .build outbox
