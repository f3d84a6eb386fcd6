# ec2boot: build, test, demo, benchmarks, packages.
# Everything runs from a fresh Debian 12 machine: `sudo make check` installs what
# the tests need and runs them; `make demo` needs nothing but Go.

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO       ?= go
BIN      := bin
TOOLS    := $(CURDIR)/.tools/bin
LDFLAGS  := -s -w -X main.version=$(VERSION)
# No provider or metadata service needs HTTP/2; leaving it out saves 0.4 MiB.
TAGS     := nethttpomithttp2
# The binary's size is a figure, not a goal: the build prints it. The guard
# only catches accidents (a debug build, a dependency pulled in by mistake)
# at 24 MiB, far above any size it has had; docs/benchmarks.md (section 6) says where the
# bytes go.
MAXSIZE  := 25165824
# Test peers and tools the project installs for itself come first on PATH.
export PATH := $(TOOLS):$(PATH)
export CGO_ENABLED := 0

# The system tests' debootstrapped rootfs is built once and reused.
export EC2BOOT_SYSTEMTEST_CACHE ?= /var/tmp/ec2boot-systemtest

AEMM_VERSION := v1.13.0
NFPM_VERSION := v2.45.2
# Packer and its Amazon plugin, for validating ami/ offline (docs/ami.md).
PACKER_VERSION        := v1.9.5
PACKER_AMAZON_VERSION := v1.8.0
# Packages are built for these architectures (cross-compiled, CGO_ENABLED=0).
PKG_ARCHES := amd64 arm64

.PHONY: all build testpeers tools deps check test test-short lint fuzz demo bench package lint-packages man clean

all: build

build:
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/ec2boot ./cmd/ec2boot
	@size=$$(stat -c %s $(BIN)/ec2boot); \
	  echo "$(BIN)/ec2boot: $$size bytes"; \
	  test $$size -le $(MAXSIZE) || { echo "$(BIN)/ec2boot: $$size bytes, past the $(MAXSIZE)-byte guard against accidental growth (see the Makefile and docs/benchmarks.md, section 6)" >&2; exit 1; }

testpeers:
	$(GO) build -trimpath -o $(BIN)/ec2boot-testpeers ./cmd/ec2boot-testpeers

# Go tools from the module proxy, pinned, installed into .tools/bin.
tools: $(TOOLS)/ec2-metadata-mock $(TOOLS)/nfpm $(TOOLS)/packer $(TOOLS)/packer-plugin-amazon
$(TOOLS)/ec2-metadata-mock:
	GOBIN=$(TOOLS) $(GO) install github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@$(AEMM_VERSION)
$(TOOLS)/nfpm:
	GOBIN=$(TOOLS) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
$(TOOLS)/packer:
	GOBIN=$(TOOLS) $(GO) install github.com/hashicorp/packer@$(PACKER_VERSION)
# The plugin's go.mod has a replace directive, which `go install mod@version`
# refuses: it is built inside its own module instead. Packer finds it through
# PACKER_PLUGIN_PATH, installed the way `packer init` would (scripts/packer-plugin.sh).
$(TOOLS)/packer-plugin-amazon:
	dir=$$(cd / && $(GO) mod download -json github.com/hashicorp/packer-plugin-amazon@$(PACKER_AMAZON_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$dir" && cd "$$dir" && $(GO) build -trimpath -o $@ .

# System packages the tests use as real peers (needs root).
deps: tools
	scripts/install-deps.sh

# README's test command: install what the tests need, then run them all.
check: deps lint test

test: build testpeers
	$(GO) test -count=1 -timeout 45m ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@scripts/check-tracked-binaries.sh
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Each fuzz target for a short while (the corpus under testdata/fuzz is replayed by `make test`).
FUZZTIME ?= 20s
fuzz:
	scripts/fuzz-all.sh $(FUZZTIME)

# README's first command: the whole boot job against local peers, no AWS needed.
demo: build testpeers $(TOOLS)/ec2-metadata-mock
	scripts/demo.sh

# The benchmark measures this tree against BENCH_BASE, a git revision built
# with its own Makefile (the state before the current round of changes).
BENCH_BASE ?= 505cc3a
bench: build testpeers $(TOOLS)/ec2-metadata-mock
	BENCH_BASE=$(BENCH_BASE) scripts/bench.sh

# The man pages and shell completions, regenerated from the command table
# and docs/config.md (a test fails when the committed ones are stale).
man:
	$(GO) test ./internal/cmddoc -run TestGeneratedDocs -count=1 -update

# One .deb and one .rpm per architecture in dist/.
package: build $(TOOLS)/nfpm
	@for arch in $(PKG_ARCHES); do \
	  echo "building $(BIN)/linux_$$arch/ec2boot"; \
	  GOARCH=$$arch $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/linux_$$arch/ec2boot ./cmd/ec2boot || exit 1; \
	  ARCH=$$arch EC2BOOT_BINARY=$(BIN)/linux_$$arch/ec2boot scripts/package.sh $(VERSION) || exit 1; \
	done

# lintian and rpmlint on what `make package` built.
lint-packages: package
	scripts/lint-packages.sh dist/*.deb dist/*.rpm

clean:
	rm -rf $(BIN) dist demo/root demo/root-web-2 demo/run
