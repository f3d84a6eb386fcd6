package relocate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/relocate"
	"github.com/ec2boot/ec2boot/bootstrap/run"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

type metadata struct{}

func (metadata) Facts(context.Context, config.IMDS) (*facts.Facts, error) {
	return &facts.Facts{InstanceID: "i-0123456789abcdef0", LocalIPv4: netip.MustParseAddr("10.0.0.5"), Source: facts.SourceIMDS}, nil
}
func (metadata) UserData(context.Context) ([]byte, error) { return nil, nil }

// TestEachRelocationLoggedOnce runs the relocate step the way `ec2boot run`
// does and counts the log lines of each event: each relocation is one line,
// carrying the step's name.
func TestEachRelocationLoggedOnce(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := relocate.TmpfsScenario(t, "64m")
	var logs bytes.Buffer
	rep := run.Run(context.Background(), run.Options{
		Root: hostfs.Root(root), Metadata: metadata{}, Log: zerolog.New(&logs),
		Clock: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), LockWait: time.Second,
		Steps: []step.Step{relocate.New()},
	})
	t.Logf("log:\n%s", logs.String())
	if rep.ExitCode != run.ExitOK {
		t.Fatalf("exit %d: %s", rep.ExitCode, rep.Message)
	}
	// The scenario's store is mounted already: the two relocations are the
	// events.
	events := []string{"/var/log: copied ", "/var/tmp: copied "}
	count := map[string]int{}
	sc := bufio.NewScanner(&logs)
	for sc.Scan() {
		var line struct{ Message, Step string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON log line: %q", sc.Text())
		}
		for _, event := range events {
			if strings.Contains(line.Message, event) {
				count[event]++
				if line.Step != "relocate" {
					t.Errorf("%q logged without its step", line.Message)
				}
			}
		}
	}
	for _, event := range events {
		if count[event] != 1 {
			t.Errorf("%q logged %d times, want once", event, count[event])
		}
	}
}
