package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// CacheEnv names the directory where the Debian rootfs is built once and
// kept; without it the tests that boot containers skip.
const CacheEnv = "EC2BOOT_SYSTEMTEST_CACHE"

// scratch is this test process's own directory (binary, packages, image),
// removed by TestMain.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ec2boot-systemtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// repoRoot is the module's top directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the source tree")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// needRoot skips unless the test runs as root (fails under CI).
func needRoot(t testing.TB, why string) {
	t.Helper()
	testenv.Root(t, why)
}

// needTool returns a tool's path. A missing tool skips the test, except
// under CI (CI set), where it fails: the CI installs every tool.
func needTool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if fi, err := os.Stat(filepath.Join(repoRoot(t), ".tools", "bin", name)); err == nil && fi.Mode()&0o111 != 0 {
		return filepath.Join(repoRoot(t), ".tools", "bin", name)
	}
	return testenv.Tool(t, name, install)
}

// cacheDir is the rootfs cache; tests that boot containers skip without it
// (and fail under CI, whose Makefile sets it).
func cacheDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(CacheEnv)
	if dir == "" {
		testenv.Missing(t, "set %s=DIR to boot containers: a Debian rootfs is debootstrapped there once (about 40 s, needs the Debian mirror)", CacheEnv)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs a command with a deadline and returns its combined output; a
// failure is fatal and shows the output.
func run(t testing.TB, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := runErr(timeout, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (after %s)", ctx.Err(), timeout)
	}
	return out.String(), err
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// binary builds ec2boot once per test process, static, as `make build` does.
func binary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryPath = filepath.Join(scratch, "bin", "ec2boot")
		var out string
		out, binaryErr = runErr(3*time.Minute, []string{"CGO_ENABLED=0"}, "go", buildArgs(repoRoot(t), binaryPath)...)
		if binaryErr != nil {
			binaryErr = fmt.Errorf("go build ./cmd/ec2boot: %v\n%s", binaryErr, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// buildArgs are `go build`'s arguments as `make build` gives them: stripped
// (the packages' linters insist), without HTTP/2.
func buildArgs(repo, out string) []string {
	return []string{"build", "-C", repo, "-trimpath", "-buildvcs=false", "-tags", "nethttpomithttp2", "-ldflags", "-s -w", "-o", out, "./cmd/ec2boot"}
}

var (
	packagesOnce sync.Once
	debPath      string
	rpmPath      string
	packagesErr  error
)

// packages runs scripts/package.sh once per test process (what `make
// package` runs) on the binary built above, into the scratch directory.
func packages(t testing.TB) (deb, rpm string) {
	t.Helper()
	bin := binary(t)
	packagesOnce.Do(func() {
		dist := filepath.Join(scratch, "dist")
		env := []string{"EC2BOOT_BINARY=" + bin, "DIST=" + dist, "PATH=" + filepath.Join(repoRoot(t), ".tools", "bin") + ":" + os.Getenv("PATH")}
		out, err := runErr(5*time.Minute, env, filepath.Join(repoRoot(t), "scripts", "package.sh"), "1.2.3~test")
		if err != nil {
			packagesErr = fmt.Errorf("scripts/package.sh: %v\n%s", err, out)
			return
		}
		debs, _ := filepath.Glob(filepath.Join(dist, "*.deb"))
		rpms, _ := filepath.Glob(filepath.Join(dist, "*.rpm"))
		if len(debs) != 1 || len(rpms) != 1 {
			packagesErr = fmt.Errorf("scripts/package.sh made %v and %v, want one .deb and one .rpm:\n%s", debs, rpms, out)
			return
		}
		debPath, rpmPath = debs[0], rpms[0]
	})
	if packagesErr != nil {
		t.Fatal(packagesErr)
	}
	return debPath, rpmPath
}
