package run

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// docs/config.md "How the two sources merge", exactly: the local file has
// the account's server and password_file, user-data only its username.
// The local file used to be validated on its own first, so this exited 1
// on every run.
func TestDocumentedMergeExampleRuns(t *testing.T) {
	fx := newFixture(t)
	fx.write(t, DefaultConfigPath, `[dns.accounts.dyn]
server = "https://members.dyndns.org"
password_file = "/etc/ec2boot/dyn.secret"
`)
	fx.md.userData = []byte(`[dns.accounts.dyn]
username = "web-team"
`)
	var got string
	rep := Run(context.Background(), Options{
		Root: hostfs.Root(fx.root), Metadata: fx.md, Log: logging.Discard(), Out: io.Discard,
		Clock: clock.Real{}, LockWait: time.Second,
		Steps: []step.Step{stepFunc(func(env *step.Env) {
			a := env.Config.DNS.Accounts["dyn"]
			got = fmt.Sprintf("%s %s %s", a.Server, a.PasswordFile, a.Username)
		})},
	})
	if rep.ExitCode != ExitOK {
		t.Fatalf("exit %d: %s", rep.ExitCode, rep.Message)
	}
	if want := "https://members.dyndns.org /etc/ec2boot/dyn.secret web-team"; got != want {
		t.Errorf("account = %q, want %q", got, want)
	}
}

// User-data longer than the metadata service may answer is bad user-data:
// refused with exit 1, never replaced by the copy an earlier run cached.
func TestOversizedUserDataIsRefusedNotReplacedByTheCache(t *testing.T) {
	fx := newFixture(t)
	fx.md.userData = []byte("[disk]\nwarn_percent = 70\n")
	fx.step("probe")
	if rep := fx.run(t, false); rep.ExitCode != ExitOK {
		t.Fatalf("first run: exit %d %s", rep.ExitCode, rep.Message)
	}
	fx.calls = nil
	fx.md.userData, fx.md.udErr = nil, fmt.Errorf("user-data: GET /latest/user-data: longer than 262144 bytes: %w", imds.ErrTooLarge)
	rep := fx.run(t, false)
	if rep.ExitCode != ExitInvalid || !strings.Contains(rep.Message, "longer than 262144 bytes") {
		t.Errorf("exit %d %q, want %d", rep.ExitCode, rep.Message, ExitInvalid)
	}
	if len(fx.calls) != 0 {
		t.Errorf("steps ran: %v", fx.calls)
	}
}

// An explicit --config that does not exist stops the run; the default
// path missing does not.
func TestExplicitConfigMustExist(t *testing.T) {
	fx := newFixture(t)
	fx.step("probe")
	rep := Run(context.Background(), Options{
		Root: hostfs.Root(fx.root), ConfigPath: "/etc/ec2boot/typo.toml", ConfigRequired: true,
		Metadata: fx.md, Log: logging.Discard(), Out: io.Discard, Clock: clock.Real{}, LockWait: time.Second,
		Steps: []step.Step{stepFunc(func(*step.Env) {})},
	})
	if want := "invalid configuration: /etc/ec2boot/typo.toml: no such file (given with --config)"; rep.ExitCode != ExitInvalid || rep.Message != want {
		t.Errorf("exit %d %q, want %d %q", rep.ExitCode, rep.Message, ExitInvalid, want)
	}
	if rep := fx.run(t, false); rep.ExitCode != ExitOK {
		t.Errorf("default config missing: exit %d %s", rep.ExitCode, rep.Message)
	}
}
