# Clawgate. `make` lists the targets; `make run` and `make test` are the two that matter.
# GNU make. Recipes run in bash with -euo pipefail, so any failing step fails the target.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

GO ?= go
# Fyne's GLFW driver is cgo.
export CGO_ENABLED := 1

# The version is FyneApp.toml's, else whatever git says.
VERSION ?= $(or $(shell sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' FyneApp.toml 2>/dev/null | head -n1),$(shell git describe --tags --always --dirty 2>/dev/null),dev)
GOOS := $(shell $(GO) env GOOS)
GOARCH := $(shell $(GO) env GOARCH)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: help deps deps-build build run test vet test-race test-ui e2e tray-smoke e2e-team bench bench-team bench-idle package package-windows icons prices e2e-passthrough mutate fuzz clean install uninstall screenshots

help: ## list the targets
	@echo "Clawgate $(VERSION). Targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## (.*)/  make \1\t\2/' | expand -t 20

deps: ## install the system packages this machine lacks (Debian/Ubuntu) and check Node/npm
	@scripts/deps.sh all

deps-build: ## install only what building needs (the X11/GL headers)
	@scripts/deps.sh build

build: ## build bin/clawgate
	$(GO) build -o bin/clawgate .

run: deps-build build ## install what is missing, build, and start the tray app (ARGS="--port 4001" passes flags)
	./bin/clawgate $(ARGS)

# make mutate is not part of it: it takes ~35 minutes on two cores (run it before touching money or routing
# code); `go test ./internal/mutate` (in test-race) checks that every mutation still applies to the code.
test: deps ## everything: vet, unit tests (-race), UI tests under Xvfb (also -race), fuzzers 3 s each, e2e (npm clients, OpenClaw, the pass-through control), tray smoke test, the Windows zip (cross-compiled, checked)
	$(MAKE) vet
	$(MAKE) test-race
	$(MAKE) test-ui
	$(MAKE) fuzz FUZZTIME=3s MIN_EXECS=1000
	$(MAKE) e2e
	$(MAKE) tray-smoke
	$(MAKE) package-windows

vet: ## gofmt (fails on any unformatted file), go vet ./..., and go vet for darwin and windows of every package that needs no cgo
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './e2e/*' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	pkgs=$$(scripts/gopkgs.sh race); for os in darwin windows; do GOOS=$$os CGO_ENABLED=0 $(GO) vet $$pkgs; done

# Both groups run in a throwaway session: app/keychain needs a real Secret Service on a session bus;
# the store and ledger suites also run against a throwaway PostgreSQL cluster (scripts/with-postgres.sh).
test-race: ## go test -race on every package that does not link Fyne's driver (in a throwaway D-Bus session, beside a throwaway PostgreSQL)
	pkgs=$$(scripts/gopkgs.sh race); scripts/with-session.sh scripts/with-postgres.sh $(GO) test -race $$pkgs

# The Fyne packages run twice. Once as built for real (the GLFW driver), without -race: a -race build
# recompiles go-gl's C (6-8 min on an idle core; 55 min cold on the shared 2-core dev machine). Then
# under -race with -tags ci, Fyne's software driver: no go-gl, and the tests, which use fyne/test,
# are the same.
test-ui: ## go test the Fyne packages (ui, main) under Xvfb with a session bus and a Secret Service, then -race
	pkgs=$$(scripts/gopkgs.sh fyne); scripts/with-session.sh $(GO) test $$pkgs
	pkgs=$$(scripts/gopkgs.sh fyne); scripts/with-session.sh $(GO) test -race -tags ci -timeout 20m $$pkgs

e2e: ## the end-to-end suite (e2e/run.sh): the real openai npm SDK against the gateway
	bash e2e/run.sh

# CLAWGATE_E2E_TEAM_DB=postgres runs it on a throwaway PostgreSQL cluster instead of one shared SQLite folder.
e2e-team: ## the team deployment alone (e2e/run-team.sh): three clawgate serve replicas behind HAProxy with TLS (make e2e runs it too)
	bash e2e/run-team.sh

e2e-passthrough: ## the e2e suites against a bare forwarding proxy: fails if any suite passes (make e2e runs it too)
	bash e2e/run-passthrough.sh

# fyne/test draws the windows in software: no display, no GL, no cgo step.
screenshots: ## every window and form, light and dark, at its size and at 1366x768, as PNGs in bin/shots/
	mkdir -p bin/shots
	CLAWGATE_UI_SHOTS=$(CURDIR)/bin/shots $(GO) test ./ui -count=1 -run 'TestShots|TestShotTrayMenu|TestRoutesAddTestServe|TestKeysCreateCopyAndProxyBudget|TestKeysTab|TestBudgetEditing|TestOverviewTab|TestRequestsFiltersAndExport|TestRoutesServeNowAndFallbacks|TestSettingsChangePort|TestWizardFirstRun|TestKeysRegenerateMaster|TestRequestsPagingAndDetail|TestShotsTeam'
	@ls bin/shots

tray-smoke: ## the real tray app under Xvfb with a real tray host and dunst: icon states, notifications, windows by X11 title, second launch, idle CPU, broken config
	scripts/tray-smoke.sh

# MUTATE="-only relay -j 2" passes flags to internal/mutate.
mutate: ## break money and routing code on purpose (internal/mutate/mutations.txt); fails if the tests still pass
	GO=$(GO) scripts/with-postgres.sh $(GO) run ./internal/mutate $(MUTATE)

# Time per fuzz target; CI runs a few seconds each. MIN_EXECS and FUZZ_ONLY pass through (see the script).
FUZZTIME ?= 10s
fuzz: ## run each fuzz target alone for FUZZTIME (10s); fails on a crash or a target that stalls (scripts/fuzz.sh)
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# Store sizes the bench times the Requests and Overview queries at; generated files are cached in
# ~/.cache/clawgate-bench. 5M takes half an hour to generate once: make bench BENCH_STORE_ROWS=100000,1000000,5000000
BENCH_STORE_ROWS ?= 100000,1000000

bench: build ## the gateway benchmark (internal/bench) against a fresh bin/clawgate, the store's queries, then the team row (bench-team) and the idle row (bench-idle)
	$(GO) run ./internal/bench -store-rows $(BENCH_STORE_ROWS)
	$(MAKE) bench-team
	$(MAKE) bench-idle

# BENCH_TEAM_DB=postgres: the three replicas share a throwaway PostgreSQL cluster (scripts/with-postgres.sh);
# CLAWGATE_BENCH_DATABASE_URL=postgres://... uses that database instead.
BENCH_TEAM_DB ?= postgres
bench-team: build ## the team row: 1 replica on SQLite against 1 and 3 replicas behind HAProxy (docs/deploy/haproxy.cfg, TLS), on SQLite or PostgreSQL
	$(if $(filter postgres,$(BENCH_TEAM_DB)),$(if $(CLAWGATE_BENCH_DATABASE_URL),,scripts/with-postgres.sh)) $(GO) run ./internal/bench -team-only \
		$(if $(filter postgres,$(BENCH_TEAM_DB)),,-database-url '')

# IDLE_SECS=60 by default; the processes run side by side, so it takes about that plus start-up.
bench-idle: build ## the tray app at rest under Xvfb: CPU and RSS with no window and each window open, against an empty Fyne app and clawgate serve
	CLAWGATE_BIN=$(CURDIR)/bin/clawgate scripts/idle-bench.sh

# Fyne's packager (fyne.io/tools), installed on first use into bin/tools: not needed for anything else.
FYNE_TOOLS_VERSION ?= v1.7.4
FYNE := bin/tools/fyne
$(FYNE):
	GOBIN=$(CURDIR)/bin/tools $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)

# The binary is built here (fyne package would drop -X main.version), then fyne package lays out the
# tar.xz: usr/local/bin/clawgate, the desktop entry (FyneApp.toml's [LinuxAndBSD]) and the icon, and a
# Makefile whose `make user-install` puts them under ~/.local. fyne package bumps Build in
# FyneApp.toml; the file is put back as it was.
package: deps-build $(FYNE) ## dist/clawgate-VERSION-linux-ARCH.tar.xz via Fyne's packager: binary, desktop entry, icon (dist/Clawgate.app on macOS)
	mkdir -p dist bin/pkg
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/pkg/clawgate .
	cp FyneApp.toml bin/FyneApp.toml.orig
	$(FYNE) package --os $(GOOS) --exe bin/pkg/clawgate --name Clawgate --icon assets/icon.png --release || \
		{ mv bin/FyneApp.toml.orig FyneApp.toml; exit 1; }
	mv bin/FyneApp.toml.orig FyneApp.toml
	if [ "$(GOOS)" = darwin ]; then rm -rf dist/Clawgate.app; mv Clawgate.app dist/; \
	else mv Clawgate.tar.xz dist/clawgate-$(VERSION)-$(GOOS)-$(GOARCH).tar.xz; fi
	@if [ "$(GOOS)" = darwin ]; then echo "packaged dist/Clawgate.app"; \
	else echo "packaged dist/clawgate-$(VERSION)-$(GOOS)-$(GOARCH).tar.xz"; fi

# Cross-compiles Fyne's GLFW driver (cgo) with Debian's MinGW-w64. Cold, cgo's analysis of go-gl's GL
# bindings dominates (one single-threaded step, see the README); warm, it takes seconds. -H windowsgui:
# no console window behind the tray app. It then checks what ships: the zip holds exactly the exe and
# the icon, and the exe in it is a 64-bit Windows GUI program.
WINDIST := dist/clawgate-$(VERSION)-windows-amd64
package-windows: ## dist/clawgate-VERSION-windows-amd64.zip: clawgate.exe and its icon clawgate.png, cross-compiled with MinGW-w64
	@scripts/deps.sh windows
	rm -rf $(WINDIST) && mkdir -p $(WINDIST)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -trimpath -ldflags "$(LDFLAGS) -H windowsgui" -o $(WINDIST)/clawgate.exe .
	cp assets/icon.png $(WINDIST)/clawgate.png
	rm -f $(WINDIST).zip && (cd dist && zip -qr $(notdir $(WINDIST)).zip $(notdir $(WINDIST)))
	@check=$$(mktemp -d) && trap 'rm -rf "$$check"' EXIT && unzip -q $(WINDIST).zip -d "$$check" && \
	files=$$(cd "$$check" && find . -type f | sort | tr '\n' ' ') && \
	if [ "$$files" != "./$(notdir $(WINDIST))/clawgate.exe ./$(notdir $(WINDIST))/clawgate.png " ]; then \
		echo "package-windows: the zip holds: $$files" >&2; exit 1; fi && \
	kind=$$(file -b "$$check/$(notdir $(WINDIST))/clawgate.exe") && echo "clawgate.exe in the zip: $$kind" && \
	case "$$kind" in "PE32+ executable (GUI) x86-64"*) ;; *) echo "package-windows: not a 64-bit Windows GUI program" >&2; exit 1 ;; esac
	@echo "packaged $(WINDIST).zip"

# Where make install puts things: the binary in $(PREFIX)/bin, the desktop entry and icon in the XDG data folder.
PREFIX ?= $(HOME)/.local
XDG_DATA_HOME ?= $(HOME)/.local/share
install: build ## install clawgate in ~/.local/bin, with its desktop entry and icon (PREFIX=... to change)
	install -Dm755 bin/clawgate "$(PREFIX)/bin/clawgate"
	install -Dm644 assets/icon.png "$(XDG_DATA_HOME)/icons/hicolor/256x256/apps/clawgate.png"
	sed 's|^Exec=.*|Exec="$(PREFIX)/bin/clawgate"|' assets/clawgate.desktop >bin/clawgate.desktop
	install -Dm644 bin/clawgate.desktop "$(XDG_DATA_HOME)/applications/clawgate.desktop"
	if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$(XDG_DATA_HOME)/applications" || true; fi
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "note: $(PREFIX)/bin is not on your PATH; add it to run 'clawgate' by name" ;; esac
	@echo "installed $(PREFIX)/bin/clawgate; Clawgate is in your desktop's application menu"

uninstall: ## remove what make install put in place (and the start-at-login entry); your config and data stay
	rm -f "$(PREFIX)/bin/clawgate" "$(XDG_DATA_HOME)/applications/clawgate.desktop" \
		"$(XDG_DATA_HOME)/icons/hicolor/256x256/apps/clawgate.png" "$${XDG_CONFIG_HOME:-$(HOME)/.config}/autostart/clawgate.desktop"
	@echo "removed clawgate; config and data in $${XDG_CONFIG_HOME:-$(HOME)/.config}/clawgate are kept"

prices: ## regenerate proxy/pricing/prices.json from the price-data packages pinned in scripts/genprices
	cd scripts/genprices && npm ci --no-audit --no-fund && node gen.mjs

icons: ## redraw the PNGs in assets/ (scripts/genicons)
	$(GO) run ./scripts/genicons

clean: ## remove bin/ and dist/
	rm -rf bin dist
